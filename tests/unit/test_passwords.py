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


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short", "Use at least 12 characters."), ("x" * 1025, "Use at most 1024 characters."), ("twelve chars", None)],
)
def test_password_rules(password, problem):
    assert passwords.password_problem(password) == problem
