"""The append-only, hash-chained audit trail."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_event"

    seq: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    occurred_at: so.Mapped[str] = so.mapped_column(sa.String(32))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    actor: so.Mapped[str] = so.mapped_column(sa.String(64))
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    entity_type: so.Mapped[str] = so.mapped_column(sa.String(64))
    entity_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    before: so.Mapped[str] = so.mapped_column(sa.Text)
    after: so.Mapped[str] = so.mapped_column(sa.Text)
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),)
