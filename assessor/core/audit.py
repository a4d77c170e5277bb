"""Writing and verifying the append-only audit trail."""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.domain.audit_chain import GENESIS, ChainBreak, ChainedEvent, canonical, event_hash, find_break
from assessor.models import AuditEvent, User

# Any constant will do: it names the lock that serialises appends to the chain on PostgreSQL.
AUDIT_LOCK_KEY = 4_242_001


def link(
    seq: int,
    prev_hash: str,
    actor: tuple[int, str] | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> ChainedEvent:
    """The event numbered `seq`, chained to the one whose hash is `prev_hash`, as it is stored; `actor` is (id,
    username), None for the system."""
    fields = ChainedEvent(
        seq=seq,
        occurred_at=datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds"),
        actor_id=actor[0] if actor else None,
        actor=actor[1] if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=canonical(before or {}),
        after=canonical(after or {}),
    )
    return replace(fields, prev_hash=prev_hash, hash=event_hash(prev_hash, fields))


def record(
    session: so.Session,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions must not both link to the same last event.
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    last = session.execute(sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    actor_key = (actor.id, actor.username) if actor else None
    event = AuditEvent(**vars(link(seq, prev_hash, actor_key, action, entity_type, entity_id, before, after)))
    session.add(event)
    session.flush()
    return event


def verify(session: so.Session) -> tuple[int, ChainBreak | None]:
    """Check the whole chain; return the number of events read and the first break, if any."""
    result = session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=1000))
    try:
        return find_break(_chained(row) for row in result.scalars())
    finally:
        result.close()  # the walk may stop early, leaving a server-side cursor open


def _chained(row: AuditEvent) -> ChainedEvent:
    return ChainedEvent(
        row.seq,
        row.occurred_at,
        row.actor_id,
        row.actor,
        row.action,
        row.entity_type,
        row.entity_id,
        row.before,
        row.after,
        row.prev_hash,
        row.hash,
    )
