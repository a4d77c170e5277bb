"""Whether the audit trail vouches for one completion record, for the public check of its verification code.

A record is confirmed when its sign-off event, the event after it (its enrolment completed, naming the trainee) and
the trainee's last account event are each vouched for with the audit key (hashed with it, or, written before the key,
sealed with it when the trail was sealed), and the record, its enrolment, its unit's text and the trainee's name are
what those events say. All of it is read in one statement; the whole trail is not walked (that is `assessor audit
verify`'s work), so each event is checked on its own.
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.audit import EVENT, START, seal_is_signed
from assessor.core.audit_keys import settings_of
from assessor.domain import audit_records as ar
from assessor.domain.audit_chain import ChainedEvent, canonical, event_is_keyed, event_matches, same
from assessor.domain.audit_states import DECLARATION, completion_state
from assessor.domain.standards import Unit, parse_unit
from assessor.models import AuditEvent, CompletionRecord
from assessor.models.audit import AuditSeal

Verdict = Literal["genuine", "revoked", "unconfirmed"]


@dataclass(frozen=True)
class Confirmation:
    """The answer for one record: genuine (current), revoked, or unconfirmed (the trail does not vouch for it, so
    nothing of it is shown); with what may be shown."""

    verdict: Verdict
    trainee: str = ""
    unit_code: str = ""
    unit_title: str = ""
    result: str = ""
    signed_on: datetime.date | None = None


UNCONFIRMED = Confirmation("unconfirmed")


@functools.lru_cache(maxsize=64)
def _unit(text: str) -> Unit:
    return parse_unit(text, "<stored unit>")


def confirm(session: so.Session, record: CompletionRecord) -> Confirmation:
    """What the public may be told of `record`."""
    enrolment = record.enrolment
    trainee = enrolment.trainee
    rows = session.execute(_statement(record.id, trainee.id)).all()
    key = settings_of(session).key
    events = [ChainedEvent(*row[1:]) for row in rows if row[0] == "event"]
    seals = [_as_seal(row) for row in rows if row[0] == "seal"]
    starts = [s for s in seals if s.kind == START and seal_is_signed(key, s)]
    if len(starts) != 1:
        return UNCONFIRMED
    chain = starts[0].chain_id
    sealed = {s.seq: s.hash for s in seals if s.kind == EVENT and s.chain_id == chain and seal_is_signed(key, s)}

    def vouched(event: ChainedEvent) -> bool:
        if event_is_keyed(key, chain, event):
            return True
        return event.seq in sealed and same(sealed[event.seq], event.hash) and event_matches(event)

    about_record = [e for e in events if e.entity_type == "completion_record" and e.entity_id == str(record.id)]
    sign_offs = [e for e in about_record if e.action == ar.SIGN_OFF]
    if len(sign_offs) != 1 or not vouched(sign_off := sign_offs[0]):
        return UNCONFIRMED
    state = completion_state_of(record)
    state["declaration"] = [name for name in DECLARATION if getattr(record, f"declared_{name}")]
    if sign_off.after != canonical(state):
        return UNCONFIRMED
    completed = [e for e in events if e.seq == sign_off.seq + 1]
    if len(completed) != 1 or not vouched(completed[0]) or completed[0].prev_hash != sign_off.hash:
        return UNCONFIRMED
    completed_state = _json(completed[0].after)
    if (
        completed[0].action != ar.ENROLMENT_COMPLETE
        or completed[0].entity_id != str(enrolment.id)
        or completed_state.get("trainee") != trainee.id
        or completed_state.get("unit") != enrolment.unit_version.key
    ):
        return UNCONFIRMED
    accounts = [e for e in events if e.entity_type == "user"]
    if len(accounts) != 1 or not vouched(accounts[0]) or accounts[0].entity_id != str(trainee.id):
        return UNCONFIRMED
    if _json(accounts[0].after).get("display_name") != trainee.display_name:
        return UNCONFIRMED
    unit = _unit(enrolment.unit_version.source_text)
    snapshot = record.snapshot if isinstance(record.snapshot, dict) else {}
    if (unit.key, unit.source_sha256) != (snapshot.get("unit"), snapshot.get("source_sha256")):
        return UNCONFIRMED
    revoked_in_trail = any(e.action == ar.REVOKE for e in about_record)
    if revoked_in_trail != (record.revocation is not None):
        return UNCONFIRMED  # a revocation deleted, or one inserted, outside the application
    return Confirmation(
        "revoked" if revoked_in_trail else "genuine",
        trainee.display_name,
        unit.code or "",
        unit.title,
        record.result,
        record.signed_on,
    )


def _statement(record_id: int, trainee_id: int) -> sa.CompoundSelect:
    """The record's events, the event after its sign-off, the trainee's last account event, and the seals of the
    chain that could vouch for them: one statement."""
    event = AuditEvent
    about_record = sa.and_(event.entity_type == "completion_record", event.entity_id == str(record_id))
    # Scalar subqueries, never `IN (SELECT ...)`: PostgreSQL then reads each branch of the OR from an index, where an
    # IN under an OR made it scan the whole trail (340 ms at 10,000 trainees). A record has one sign-off; one with
    # more is unconfirmed whatever these find.
    sign_off = sa.select(sa.func.max(event.seq)).where(about_record, event.action == ar.SIGN_OFF).scalar_subquery()
    after_sign_off = sign_off + 1
    last_account = (
        sa.select(sa.func.max(event.seq))
        .where(
            event.entity_type == "user",
            event.entity_id == str(trainee_id),
            event.action.in_(sorted(ar.ACCOUNT_ACTIONS)),
        )
        .scalar_subquery()
    )
    wanted = sa.or_(
        sa.and_(about_record, event.action.in_([ar.SIGN_OFF, ar.REVOKE])),
        event.seq == after_sign_off,
        event.seq == last_account,
    )
    columns = [getattr(event, name) for name in ChainedEvent.__dataclass_fields__]
    events = sa.select(sa.literal("event").label("source"), *columns).where(wanted)
    seal = AuditSeal
    seals_wanted = sa.or_(seal.seq == sign_off, seal.seq == after_sign_off, seal.seq == last_account)
    text = sa.String()
    seals = sa.select(
        sa.literal("seal").label("source"),
        seal.seq,
        seal.sealed_at,
        sa.cast(sa.null(), sa.Integer()),
        seal.kind,
        sa.cast(sa.literal(""), text),
        sa.cast(sa.literal(""), text),
        seal.chain_id,
        sa.cast(sa.literal(""), text),
        sa.cast(sa.literal(""), text),
        seal.mac,
        seal.hash,
    ).where(sa.or_(seal.kind == START, sa.and_(seal.kind == EVENT, seals_wanted)))
    return sa.union_all(events, seals)


def _as_seal(row: Any) -> AuditSeal:
    # A seal row laid out as an event: seq, sealed_at, -, kind, -, -, chain_id, -, -, mac, hash.
    return AuditSeal(seq=row[1], sealed_at=row[2], kind=row[4], chain_id=row[7], mac=row[10], hash=row[11])


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def completion_state_of(record: CompletionRecord) -> dict[str, Any]:
    """The state the audit trail keeps of a completion record, as its row now says."""
    return completion_state(
        record.enrolment_id,
        record.result,
        record.assessor_id,
        record.signed_on,
        record.snapshot,
        record.countersigned_by_id,
    )
