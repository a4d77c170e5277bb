"""What the account pages list."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.access import actor as actor_of
from assessor.core.passwords import UNUSABLE
from assessor.domain import policy
from assessor.domain.vocabulary import Role, TokenPurpose
from assessor.models import AccountToken, User, utcnow
from assessor.models.columns import as_utc


@dataclass(frozen=True)
class Waiting:
    """An account nobody has set a password for yet, and its latest invitation (None if never invited)."""

    user: User
    invitation: AccountToken | None

    @property
    def open(self) -> bool:
        """Whether the latest invitation still works."""
        token = self.invitation
        return token is not None and token.used_at is None and as_utc(token.expires_at) > utcnow()


def waiting_accounts(session: so.Session, actor: User, after: str | None, limit: int) -> list[Waiting]:
    """The active accounts without a password that `actor` may invite, by username after `after`: two statements."""
    roles = [role for role in Role if policy.may_create_account(actor_of(actor), role)]
    query = sa.select(User).where(User.password_hash == UNUSABLE, User.active, User.role.in_(roles))
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
    return [Waiting(user, latest.get(user.id)) for user in users]
