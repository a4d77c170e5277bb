"""Writing the append-only audit trail with the audit key, sealing a trail begun before the key, and checking it
(`verify`, in `audit_verify`)."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit_keys
from assessor.core.audit_keys import AuditSettings, appended, settings_of
from assessor.domain import audit_records
from assessor.domain.audit_chain import (
    GENESIS,
    ChainBreak,
    ChainedEvent,
    ChainWalk,
    Rewrite,
    canonical,
    erase_fields,
    event_is_keyed,
    event_matches,
    keyed_event_hash,
    rewritten_hash,
    same,
    seal_mac,
)
from assessor.models import AuditEvent, User
from assessor.models.audit import AuditSeal

# Any constant will do: it names the lock that serialises appends to the chain on PostgreSQL.
AUDIT_LOCK_KEY = 4_242_001
START = "start"
EVENT = "event"


class TrailBroken(RuntimeError):
    """An event to be rewritten does not match its own hash: erasing it would hide a change made outside the app."""


class NotSealed(RuntimeError):
    """The trail holds events but no start seal signed with this key: nothing may be appended until it is sealed."""


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")


def link(
    seq: int,
    prev_hash: str,
    actor: tuple[int, str] | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    key: bytes,
    chain: str,
) -> ChainedEvent:
    """The event numbered `seq` of the chain `chain`, chained to the one whose hash is `prev_hash` and hashed with the
    audit key, as it is stored; `actor` is (id, username), None for the system."""
    fields = ChainedEvent(
        seq=seq,
        occurred_at=now(),
        actor_id=actor[0] if actor else None,
        actor=actor[1] if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=canonical(before or {}),
        after=canonical(after or {}),
    )
    return replace(fields, prev_hash=prev_hash, hash=keyed_event_hash(key, chain, prev_hash, fields))


@dataclass(frozen=True)
class Tail:
    """Where the next event goes: after event `seq` (hash `hash`) of chain `chain`, signed with `key`."""

    seq: int
    hash: str
    key: bytes
    chain: str


def tail(session: so.Session) -> Tail:
    """Take the chain for this transaction (on PostgreSQL a lock until it ends; SQLite's writes are serial) and return
    its last event, with the key and the chain. A trail without events starts its keyed era here; a trail with events
    but no start seal signed with this key is refused (NotSealed)."""
    settings = settings_of(session)
    if session.get_bind().dialect.name == "postgresql":
        # Two transactions must not both link to the same last event.
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    last = session.execute(sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    chain = session.info.get(audit_keys.CHAIN) or _chain(session, settings, last is not None)
    session.info[audit_keys.CHAIN] = chain
    return Tail(last.seq, last.hash, settings.key, chain) if last else Tail(0, GENESIS, settings.key, chain)


def _chain(session: so.Session, settings: AuditSettings, has_events: bool) -> str:
    seals = session.scalars(sa.select(AuditSeal).where(AuditSeal.kind == START).order_by(AuditSeal.id)).all()
    if not seals and not has_events:
        seal = _seal(settings, START, secrets.token_hex(16), 0, GENESIS)
        session.add(seal)
        session.flush()
        return seal.chain_id
    if len(seals) != 1 or not seal_is_signed(settings.key, seals[0]):
        raise NotSealed(
            "The audit trail has no single start seal signed with this audit key, so no event can be added to it. "
            "Run `assessor audit verify`: a database from before audit keys is sealed once with `assessor audit seal`."
        )
    return seals[0].chain_id


def _seal(settings: AuditSettings, kind: str, chain: str, seq: int, hash: str) -> AuditSeal:
    at = now()
    return AuditSeal(
        kind=kind,
        chain_id=chain,
        seq=seq,
        hash=hash,
        sealed_at=at,
        mac=seal_mac(settings.key, kind, chain, seq, hash, at),
    )


def seal_is_signed(key: bytes, seal: AuditSeal) -> bool:
    """Whether a seal's signature is good for this key."""
    return same(seal_mac(key, seal.kind, seal.chain_id, seal.seq, seal.hash, seal.sealed_at), seal.mac)


def record(
    session: so.Session,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction, hashed with the audit key."""
    end = tail(session)
    actor_key = (actor.id, actor.username) if actor else None
    chained = link(end.seq + 1, end.hash, actor_key, action, entity_type, entity_id, before, after, end.key, end.chain)
    event = AuditEvent(**vars(chained))
    session.add(event)
    session.flush()
    appended(session, end.chain, event.seq, event.hash)
    return event


def erase_content(
    session: so.Session, entity_type: str, entity_id: object, actions: Collection[str], fields: Collection[str]
) -> list[Rewrite]:
    """Erase the named fields from the events of one entity with these actions, in the caller's transaction; return
    the rewrites, for the erasure event to vouch for (`by` 0 until its number is known).

    Each event is checked against its own hash first (TrailBroken): an erasure never vouches for a change made outside
    the application."""
    end = tail(session)
    start = session.scalars(sa.select(AuditSeal).where(AuditSeal.kind == START)).one()
    columns = [getattr(AuditEvent, name) for name in ChainedEvent.__dataclass_fields__]
    query = sa.select(*columns).where(
        AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id), AuditEvent.action.in_(actions)
    )
    rewrites = []
    for row in session.execute(query.order_by(AuditEvent.seq)).all():
        event = ChainedEvent(*row)
        before, after = erase_fields(event.before, fields), erase_fields(event.after, fields)
        if (before, after) == (event.before, event.after):
            continue
        intact = event_is_keyed(end.key, end.chain, event) if event.seq > start.seq else event_matches(event)
        if not intact:
            raise TrailBroken(
                f"audit event {event.seq} does not match its hash, so its content is not erased: "
                "run `assessor audit verify`"
            )
        rewritten = replace(event, before=before, after=after)
        session.execute(sa.update(AuditEvent).where(AuditEvent.seq == event.seq).values(before=before, after=after))
        rewrites.append(Rewrite(event.seq, event.hash, rewritten_hash(end.key, end.chain, rewritten), 0))
    return rewrites


# --- sealing a trail begun before the key ---------------------------------------------------------


@dataclass
class Sealed:
    """What `seal` did: the chain, the event the keyed era starts after, how many events it vouched for; or the break
    that stopped it, or the seal that was there already."""

    chain: str = ""
    seq: int = 0
    vouched: int = 0
    broken: ChainBreak | None = None
    existing: AuditSeal | None = None
    others: list[audit_keys.Checkpoint] = field(default_factory=list)


def needs_seal(engine: sa.Engine) -> bool:
    """Whether the trail holds events but no start seal: a database from before the audit key."""
    with engine.connect() as connection:
        events = connection.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        seals = connection.scalar(sa.select(sa.func.count()).select_from(AuditSeal).where(AuditSeal.kind == START))
    return bool(events) and not seals


def seal(session: so.Session, force: bool = False) -> Sealed:
    """Check a trail written before the audit key and seal it: its last event starts the keyed era, and the events
    `/verify` needs (each sign-off, the event after it, each account's last state) are vouched for one by one.

    Refused when the trail is sealed already, when it is broken, and (unless `force`) when the checkpoint folder holds
    another trail signed with this key: if that was this database's trail, its seal was removed."""
    settings = settings_of(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    existing = session.scalars(sa.select(AuditSeal).where(AuditSeal.kind == START).order_by(AuditSeal.id)).first()
    if existing is not None:
        return Sealed(existing=existing)
    if not force:
        others = list(audit_keys.other_chains(settings, None))
        if others:
            return Sealed(others=others)
    walk = ChainWalk()
    vouch: dict[int, str] = {}  # seq -> hash of each event to vouch for
    accounts: dict[str, tuple[int, str]] = {}  # account id -> (seq, hash) of its last state
    after_sign_off = False
    last: ChainedEvent | None = None
    for event in events(session):
        if walk.step(event) is not None:
            return Sealed(broken=walk.broken)
        if event.action == audit_records.SIGN_OFF or after_sign_off:
            vouch[event.seq] = event.hash  # a sign-off, and the event after it (its enrolment, completed)
        after_sign_off = event.action == audit_records.SIGN_OFF
        if event.action in audit_records.ACCOUNT_ACTIONS and event.entity_type == "user":
            accounts[event.entity_id] = (event.seq, event.hash)
        last = event
    chain = secrets.token_hex(16)
    if last is None:  # nothing written yet: the keyed era starts at the beginning, as it does for a new database
        session.add(_seal(settings, START, chain, 0, GENESIS))
        session.flush()
        return Sealed(chain=chain)
    vouch.update(accounts.values())
    for seq in sorted(vouch):
        session.add(_seal(settings, EVENT, chain, seq, vouch[seq]))
    session.add(_seal(settings, START, chain, last.seq, last.hash))
    session.flush()
    appended(session, chain, last.seq, last.hash)  # the first checkpoint of the keyed era
    return Sealed(chain=chain, seq=last.seq, vouched=len(vouch))


def events(session: so.Session) -> Iterator[ChainedEvent]:
    """Every event in chain order, read a thousand at a time."""
    columns = [getattr(AuditEvent, name) for name in ChainedEvent.__dataclass_fields__]
    result = session.execute(sa.select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=1000))
    try:
        for row in result:
            yield ChainedEvent(*row)
    finally:
        result.close()  # the walk may stop early, leaving a server-side cursor open
