"""Single-use ways in to set a password: invitations to a new account, and links to reset a forgotten password.

A token is a random secret handed to one person: a link by e-mail, or, for a trainee without e-mail, a short code
printed for a coordinator to hand over. Only a keyed hash of it is kept (HMAC-SHA-256 under the app's secret key,
so a copy of the database alone cannot use one). It works once, until it expires; setting a password by any means
kills every token the account still has, so a link sent before a password change is worthless after it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from assessor.domain.vocabulary import TokenPurpose
from assessor.models import AccountToken, User, utcnow
from assessor.models.columns import as_utc

# A printed code: 12 characters of an alphabet without look-alikes (no 0/O, 1/I/L), 60 bits, read in groups of four.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
CODE_GROUP = 4


@dataclass(frozen=True)
class Issued:
    """A token just made: its row, and the secret, which exists nowhere else once the request ends."""

    token: AccountToken
    secret: str


def lifetime(purpose: TokenPurpose) -> datetime.timedelta:
    """How long a token of this purpose works: invitations for days (INVITATION_DAYS), resets for an hour at most
    (RESET_MINUTES)."""
    config = current_app.config
    if purpose == TokenPurpose.INVITATION:
        return datetime.timedelta(days=float(config["INVITATION_DAYS"]))
    return datetime.timedelta(minutes=min(float(config["RESET_MINUTES"]), 60))


def issue(session: so.Session, user: User, purpose: TokenPurpose, by: User | None, printed: bool = False) -> Issued:
    """A new token for `user`; the tokens of the same purpose they still had stop working (a new invitation replaces
    the old one)."""
    now = utcnow()
    void(session, user, now, purpose)
    secret = printed_code() if printed else secrets.token_urlsafe(32)
    token = AccountToken(
        user_id=user.id,
        purpose=purpose,
        digest=digest(secret),
        printed=printed,
        created_by_id=by.id if by else None,
        created_at=now,
        expires_at=now + lifetime(purpose),
    )
    session.add(token)
    session.flush()
    return Issued(token, secret)


def void(
    session: so.Session, user: User, now: datetime.datetime | None = None, purpose: TokenPurpose | None = None
) -> None:
    """Kill the tokens `user` still has (of one purpose, or all)."""
    unused = sa.and_(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
    if purpose is not None:
        unused = sa.and_(unused, AccountToken.purpose == purpose)
    session.execute(sa.update(AccountToken).where(unused).values(used_at=now or utcnow()))


def usable(session: so.Session, secret: str, purpose: TokenPurpose | None = None) -> AccountToken | None:
    """The unused, unexpired token with this secret, of an active account; None for anything else."""
    if not secret or len(secret) > 128:
        return None
    token = session.scalar(sa.select(AccountToken).where(AccountToken.digest == digest(secret)))
    if token is None or token.used_at is not None or as_utc(token.expires_at) <= utcnow() or not token.user.active:
        return None
    if purpose is not None and token.purpose != purpose:
        return None
    return token


def digest(secret: str) -> str:
    """The keyed hash kept in place of a token."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def printed_code() -> str:
    """A new code to print, in groups: `7KQM-3XR9-PD2F`."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def typed_code(text: str) -> str:
    """A code as someone typed it (any case, with or without spaces or hyphens), in its printed form."""
    plain = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(plain) != CODE_LENGTH:
        return ""
    return "-".join(plain[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))
