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
    [("short", "Use at least 12 characters."), ("x" * 1025, "Use at most 1024 characters.")],
)
def test_password_length(password, problem):
    assert passwords.password_problem(password) == problem


MERE = ("mere.tuhoe", "Mere Tūhoe", "mere@example.org")


@pytest.mark.parametrize(
    ("password", "because"),
    [
        ("123456789012", "dictionary"),  # a common password
        (" " * 12, "repeat"),
        ("password1234", "dictionary"),
        ("qwertyuiop[]", "spatial"),
        ("abcdefghijkl", "sequence"),
        ("mere.tuhoe" + "1234", "user_inputs"),  # the username
        ("Mere Tūhoe 2026", "user_inputs"),  # the name, diacritics and all
        ("mere tuhoe mere tuhoe", "user_inputs"),  # without them
        ("mere@example.org", "user_inputs"),
        ("tuhoe-tuhoe-tuhoe", "user_inputs"),  # strong-looking only by repeating the name
    ],
)
def test_passwords_easy_to_guess_are_refused_saying_why(password, because):
    problem = passwords.password_problem(password, MERE)
    assert problem is not None and problem.startswith("This password is too easy to guess.")
    assert passwords.BECAUSE[because] in problem and passwords.TRY_INSTEAD in problem


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "Mere's kōwhai ridge at dawn",  # the name inside, but what is left is hard to guess by itself
        "pōhutukawa blooms by the harbour",
        "Tr0ub4dor&3 is not a passphrase",
        "a very long passphrase that goes on " * 25,  # long passphrases are welcome (judged on their start)
    ],
)
def test_passwords_hard_to_guess_are_accepted(password):
    assert len(password) <= passwords.MAX_LENGTH
    assert passwords.password_problem(password, MERE) is None
