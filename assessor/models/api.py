"""Personal access tokens for the JSON API, and the writes it answered, kept so that a write sent again is done once."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.domain.vocabulary import TokenScope
from assessor.models.accounts import User
from assessor.models.columns import Timestamp, enum_column, utcnow


class ApiToken(Base):
    """A personal access token: another system acts through the API in its owner's name, with their rights, within
    its scope, until it expires or is revoked. Only the SHA-256 of its secret is kept, with a short public prefix for
    its owner to tell it apart."""

    __tablename__ = "api_token"
    __table_args__ = (sa.Index("ix_api_token_user_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    digest: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    scope: so.Mapped[TokenScope] = so.mapped_column(enum_column(TokenScope, "token_scope"))
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    expires_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp)
    last_used_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    revoked_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)

    user: so.Mapped[User] = so.relationship()


class ApiWrite(Base):
    """A write the API answered under an Idempotency-Key: the same key from the same account is answered with the
    same result instead of being done again; the same key with another request is refused."""

    __tablename__ = "api_write"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    key: so.Mapped[str] = so.mapped_column(sa.String(200))
    fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))  # SHA-256 of the method, path and body
    status: so.Mapped[int]
    location: so.Mapped[str] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
