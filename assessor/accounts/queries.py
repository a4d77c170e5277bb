"""What the account pages list."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts.sessions import SEEN_EVERY
from assessor.core.access import actor as actor_of
from assessor.core.passwords import UNUSABLE
from assessor.domain import policy
from assessor.domain.text import folded
from assessor.domain.vocabulary import Role, TokenPurpose
from assessor.models import AccountToken, NameContains, User, UserSession, utcnow
from assessor.models.columns import as_utc


@dataclass(frozen=True)
class Invitee:
    """An account nobody has set a password for yet, and its latest invitation (None if never invited)."""

    user: User
    invitation: AccountToken | None

    @property
    def open(self) -> bool:
        """Whether the latest invitation still works."""
        token = self.invitation
        return token is not None and token.used_at is None and as_utc(token.expires_at) > utcnow()


def account_page(session: so.Session, search: str, after: str | None, limit: int) -> list[User]:
    """Accounts by username after `after`, whose name or username contains `search` (case and diacritics ignored,
    on the trigram index on PostgreSQL): one statement whatever the number of accounts."""
    query = sa.select(User)
    if wanted := folded(search):
        query = query.where(NameContains(wanted))
    if after is not None:
        query = query.where(User.username > after)
    return list(session.scalars(query.order_by(User.username).limit(limit)))


def invitable(actor: User) -> sa.Select[User]:
    """The active accounts without a password that `actor` may invite."""
    roles = [role for role in Role if policy.may_create_account(actor_of(actor), role)]
    return sa.select(User).where(User.password_hash == UNUSABLE, User.active, User.role.in_(roles))


def waiting_accounts(session: so.Session, actor: User, after: str | None, limit: int) -> list[Invitee]:
    """The accounts `actor` may invite, by username after `after`, with their latest invitation: two statements."""
    query = invitable(actor)
    if after is not None:
        query = query.where(User.username > after)
    users = session.scalars(query.order_by(User.username).limit(limit)).all()
    latest: dict[int, AccountToken] = {}
    if users:
        for token in session.scalars(
            sa.select(AccountToken)
            .where(AccountToken.user_id.in_([u.id for u in users]), AccountToken.purpose == TokenPurpose.INVITATION)
            .order_by(AccountToken.id)
        ):
            latest[token.user_id] = token
    return [Invitee(user, latest.get(user.id)) for user in users]


@dataclass(frozen=True)
class SignedIn:
    """A browser where someone is signed in."""

    row: UserSession
    device: str  # "Firefox on Windows"
    current: bool  # the browser asking


def signed_in_sessions(
    session: so.Session, user: User, current_id: int | None, idle: datetime.timedelta, longest: datetime.timedelta
) -> list[SignedIn]:
    """The user's sessions still alive (their token current, not ended, active within `idle` give or take how often
    activity is written, begun within `longest`), the most recently active first."""
    now = utcnow()
    rows = session.scalars(
        sa.select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.token == user.session_token,
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at > now - idle - datetime.timedelta(seconds=SEEN_EVERY),
            UserSession.started_at > now - longest,
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [SignedIn(row, device_of(row.user_agent), row.id == current_id) for row in rows]


BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_of(agent: str) -> str:
    """A browser's User-Agent in words a person recognises: "Firefox on Windows"."""
    browser = next((name for mark, name in BROWSERS if mark in agent), "")
    system = next((name for mark, name in SYSTEMS if mark in agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (re.split(r"[/\s]", agent, maxsplit=1)[0] if agent else "") or "Unknown browser"
