"""Password hashing with argon2id (OWASP ASVS level 2 strength), rehashed when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults (argon2id, t=3, m=64 MiB, p=4) meet OWASP's recommended minimums.
_hasher = PasswordHasher()
_dummy: dict[PasswordHasher, str] = {}

# The stored "hash" of an account nobody has set a password for yet (an imported trainee): no password matches it,
# and making it costs nothing, so that importing a thousand trainees spends no argon2 time on passwords never used.
UNUSABLE = "!"

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    """An argon2id hash of the password, with its own random salt."""
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches the stored hash. With no usable hash (an unknown account, or one without a
    password yet) a fixed hash is checked instead and the answer is no: every refusal takes as long."""
    usable = stored_hash is not None and not stored_hash.startswith(UNUSABLE)
    try:
        return _hasher.verify(stored_hash if stored_hash and usable else dummy_hash(), password) and usable
    except (VerificationError, InvalidHashError):
        return False


def dummy_hash() -> str:
    """A fixed hash, made once, to check against when there is no real one."""
    if _hasher not in _dummy:
        _dummy[_hasher] = _hasher.hash("not a real password: compared to keep timing alike")
    return _dummy[_hasher]


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return not stored_hash.startswith(UNUSABLE) and _hasher.check_needs_rehash(stored_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > 1024:
        return "Use at most 1024 characters."
    return None
