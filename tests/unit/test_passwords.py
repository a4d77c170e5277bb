"""Passwords are stored as argon2id hashes strong enough for OWASP ASVS level 2."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type

from assessor.core import passwords


@pytest.mark.real_password_cost
def test_hashes_are_argon2id_with_owasp_parameters():
    stored = passwords.hash_password("a long and careful password")
    assert stored.startswith("$argon2id$v=19$")
    params = dict(part.split("=") for part in stored.split("$")[3].split(","))
    # OWASP: argon2id with at least 19 MiB of memory and 2 iterations (or more memory, fewer iterations).
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2
    assert passwords.check_password(stored, "a long and careful password")
    assert not passwords.check_password(stored, "a long and careful passworD")
    assert not passwords.needs_rehash(stored)


@pytest.mark.real_password_cost
def test_weaker_hashes_are_flagged_for_rehashing():
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID).hash(
        "a long and careful password"
    )
    assert passwords.check_password(weak, "a long and careful password")
    assert passwords.needs_rehash(weak)


@pytest.mark.parametrize("stored", ["", "plain text", "$2b$12$notargon"])
def test_garbage_hashes_never_match(stored):
    assert not passwords.check_password(stored, "anything at all")


def test_no_password_matches_an_account_without_one_yet_and_checking_still_costs_a_hash(monkeypatch):
    verified: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            verified.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", Counting(time_cost=1, memory_cost=1024, parallelism=1))
    dummy = passwords.dummy_hash()
    for stored in (passwords.UNUSABLE, None):
        assert not passwords.check_password(stored, "not a real password: compared to keep timing alike")
    assert verified == [dummy, dummy]  # an argon2 check all the same: refusals take as long whatever the account
    assert not passwords.needs_rehash(passwords.UNUSABLE)


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "Use at least 12 characters."), ("x" * 1025, "Use at most 1024 characters."), ("twelve chars", None)],
)
def test_password_rules(password, problem):
    assert passwords.password_problem(password) == problem
