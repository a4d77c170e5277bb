"""The append-only, hash-chained audit trail, and the seals that sign it with the audit key."""

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


class AuditSeal(Base):
    """A signature with the audit key over a point of the chain; insert-only.

    `kind` "start": the keyed era of the chain `chain_id` begins after event `seq` (0 for a chain that began with the
    key), whose hash is `hash`. `kind` "event": event `seq`, written before the key, had the hash `hash` when the chain
    was sealed (so that `/verify` can vouch for records signed off before then without walking the whole trail)."""

    __tablename__ = "audit_seal"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    chain_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    seq: so.Mapped[int]
    hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    sealed_at: so.Mapped[str] = so.mapped_column(sa.String(32))
    mac: so.Mapped[str] = so.mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_audit_seal_kind_seq", "kind", "seq"),)
