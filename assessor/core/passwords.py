"""Password hashing with argon2id (OWASP ASVS level 2 strength), rehashed when the parameters change; and which
new passwords are refused as too easy to guess."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from assessor.domain.text import folded

# argon2-cffi's defaults (argon2id, t=3, m=64 MiB, p=4) meet OWASP's recommended minimums.
_hasher = PasswordHasher()
_dummy: dict[PasswordHasher, str] = {}

# The stored "hash" of an account nobody has set a password for yet (an imported trainee): no password matches it,
# and making it costs nothing, so that importing a thousand trainees spends no argon2 time on passwords never used.
UNUSABLE = "!"

MIN_LENGTH = 12
MAX_LENGTH = 1024
# zxcvbn (Dropbox's strength estimator, with its own lists of common passwords, names and words: nothing is looked up
# on the network) judges the first JUDGED characters; its score runs from 0 to 4, and 3 means "safely unguessable:
# moderate protection from an offline slow-hash attack". A long passphrase is judged on its start: sixty-odd
# characters that are hard to guess stay so whatever follows them.
JUDGED = 72
ENOUGH = 3
TRY_INSTEAD = "Try a passphrase: four or more words that mean something to you alone, with spaces between them."
# Why a password is easy to guess, by the kind of pattern zxcvbn found in it.
BECAUSE = {
    "user_inputs": "It is built from your name, username or e-mail address.",
    "repeat": "It repeats the same characters or words.",
    "sequence": "It is a sequence, such as 123456 or abcdef.",
    "spatial": "It is a pattern of neighbouring keys, such as qwerty.",
    "date": "It is mostly a date.",
    "regex": "It is mostly a year.",
    "dictionary": "It is a common password, or a common word or name, or very like one.",
}


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


def password_problem(password: str, personal: Iterable[str | None] = ()) -> str | None:
    """Why a new password is not acceptable, or None: too short or too long, or too easy to guess, in particular
    when built from `personal` (the person's username, name and e-mail address)."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    texts = [form for text in personal if text for form in (text.lower(), folded(text))]
    words = {word for text in texts for word in [text, *re.split(r"[\s@._-]+", text)] if len(word) >= 3}
    judged = zxcvbn(password[:JUDGED], user_inputs=sorted(words))
    if judged["score"] < ENOUGH:
        return f"This password is too easy to guess. {_because(judged['sequence'])} {TRY_INSTEAD}"
    # What is left once the person's own name, username and address are taken out must be hard to guess by itself.
    rest = folded(password)
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(folded(word), "")
    if rest != folded(password) and zxcvbn(rest[:JUDGED] or " ")["score"] < ENOUGH:
        return f"This password is too easy to guess. {BECAUSE['user_inputs']} {TRY_INSTEAD}"
    return None


def _because(matches: Sequence[Mapping[str, object]]) -> str:
    """Why, in words, from the patterns zxcvbn matched: the person's own details first, then the first pattern."""
    kinds = ["user_inputs" if m.get("dictionary_name") == "user_inputs" else str(m["pattern"]) for m in matches]
    if "user_inputs" in kinds:
        return BECAUSE["user_inputs"]
    named = [kind for kind in kinds if kind in BECAUSE]
    return BECAUSE[named[0]] if named else "It is short, or made of too few kinds of character."
