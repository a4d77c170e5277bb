"""Personal access tokens: made and revoked by their owner, each audited; and a token found from the secret an API
request carries.

A token is a random secret of 256 bits shown once, when it is made. Only its SHA-256 is kept (a secret that long needs
no slow hash), with its first characters as a public prefix so that its owner can tell their tokens apart.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require
from assessor.domain import limits, policy
from assessor.domain.errors import InvalidInput, NotFound
from assessor.domain.vocabulary import TokenScope
from assessor.models import ApiToken, User, utcnow
from assessor.models.columns import as_utc

MARK = "asr_"  # every secret starts so: a secret scanner, or a person, knows one when they see it
PREFIX_LENGTH = len(MARK) + 8
SECRET_LENGTH = 200  # characters: anything longer is not a token of ours, and is not hashed
USED_EVERY = datetime.timedelta(minutes=1)  # how often a token's last use is written


@dataclass(frozen=True)
class Issued:
    """A token just made: its row, and the secret, which exists nowhere else once the request ends."""

    token: ApiToken
    secret: str


def create_token(
    session: so.Session, actor: User, name: str, scope: TokenScope, days: int, now: datetime.datetime | None = None
) -> Issued:
    """A new token of the actor's, with a name to know it by, a scope and a life of `days` (at most TOKEN_DAYS)."""
    require(policy.may_hold_tokens(actor_of(actor)), "Only an active account makes tokens.")
    name = " ".join(name.split())
    problems = limits.too_long({"name": (name, limits.NAME)})
    if not name:
        problems["name"] = "Name the token after the system that will use it."
    if not 1 <= days <= limits.TOKEN_DAYS:
        problems["days"] = f"A token lives from 1 to {limits.TOKEN_DAYS} days."
    if problems:
        raise InvalidInput(problems)
    now = now or utcnow()
    secret = MARK + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        digest=digest(secret),
        scope=scope,
        created_at=now,
        expires_at=now + datetime.timedelta(days=days),
    )
    session.add(token)
    session.flush()
    after = {"token": token.id, "name": name, "prefix": token.prefix, "scope": scope.value, "expires": _iso(token)}
    audit.record(session, actor, "user.token_created", "user", actor.id, None, after)
    return Issued(token, secret)


def revoke_token(session: so.Session, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens: it stops working at once. Someone else's token is not found."""
    token = session.get(ApiToken, token_id)
    if token is None or not policy.may_revoke_token(actor_of(actor), token.user_id):
        raise NotFound("token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(session, actor, "user.token_revoked", "user", actor.id, None, {"token": token.id})
    return token


def usable_token(session: so.Session, secret: str, now: datetime.datetime | None = None) -> ApiToken | None:
    """The token with this secret, if it is neither revoked nor expired and its owner's account is active."""
    if not secret.startswith(MARK) or len(secret) > SECRET_LENGTH:
        return None
    token = session.scalar(
        sa.select(ApiToken).where(ApiToken.digest == digest(secret)).options(so.joinedload(ApiToken.user))
    )
    now = now or utcnow()
    if token is None or token.revoked_at is not None or as_utc(token.expires_at) <= now or not token.user.active:
        return None
    return token


def due_for_use(token: ApiToken, now: datetime.datetime | None = None) -> bool:
    """Whether the token's last use should be written now (at most once a USED_EVERY)."""
    last = token.last_used_at
    return last is None or (now or utcnow()) - as_utc(last) >= USED_EVERY


def note_use(session: so.Session, token_id: int, now: datetime.datetime | None = None) -> None:
    """Keep when a token was last used, for its owner's list."""
    session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now or utcnow()))


def digest(secret: str) -> str:
    """What is kept in place of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _iso(token: ApiToken) -> str:
    return as_utc(token.expires_at).isoformat(timespec="seconds")
