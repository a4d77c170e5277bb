"""Password hashing with argon2id (OWASP ASVS level 2 strength), rehashed when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults (argon2id, t=3, m=64 MiB, p=4) meet OWASP's recommended minimums.
_hasher = PasswordHasher()

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    """An argon2id hash of the password, with its own random salt."""
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> bool:
    """Whether the password matches the stored hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > 1024:
        return "Use at most 1024 characters."
    return None
