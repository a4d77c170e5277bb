"""Checking the audit trail (`assessor audit verify`): the chain, its seals and checkpoints, and every record table
against the state the chain says it has.

Everything is read in one consistent snapshot of the database, streamed, so that a trail of a million events is
checked in memory proportional to the number of records (a 16-byte fingerprint each), not of events. The checkpoints
are read before the snapshot begins, so that each one vouches for events the snapshot holds.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit_keys
from assessor.core.audit import EVENT, START, events, seal_is_signed
from assessor.core.audit_keys import AuditSettings, Checkpoint, settings_of
from assessor.domain import audit_records as ar
from assessor.domain.audit_chain import ChainWalk, Rewrite, canonical
from assessor.domain.audit_states import (
    DECLARATION,
    attachment_state,
    completion_state,
    credit_state,
    enrolment_state,
    evidence_state,
    logbook_state,
    mapping_state,
    user_state,
)
from assessor.domain.standards import parse_unit
from assessor.models import (
    Acknowledgement,
    Attachment,
    AuditEvent,
    Cohort,
    CompletionRecord,
    Credit,
    Enrolment,
    Evidence,
    EvidenceMapping,
    LogbookEntry,
    Revocation,
    UnitVersion,
    User,
    cohort_coordinator,
    enrolment_assessor,
)
from assessor.models.audit import AuditSeal
from assessor.models.pending import sees

BREAKS = {
    "missing_before": "one or more events before it are missing",
    "out_of_order": "it is out of order",
    "wrong_link": "it does not link to the event before it (inserted, removed or reordered)",
    "altered": "its content does not match its hash (edited)",
    "unkeyed": (
        "its hash was made without the audit key (events were deleted, inserted or changed at or before it, "
        "and the hashes recomputed)"
    ),
}
SHOWN_PER_KIND = 20  # disagreements named one by one for each kind of record; the rest are counted
BATCH = 2000


@dataclass
class Report:
    """What `verify` found: `problems` (each a sentence; none when the trail is intact) and `notes` (worth knowing,
    not wrong)."""

    events: int = 0
    last_seq: int = 0
    keyed_after: int | None = None
    checkpoints: int = 0
    last_checkpoint: Checkpoint | None = None
    records: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Vouched:
    """A point of the chain vouched for from outside the events: a checkpoint, the start seal or a sealed event."""

    seq: int
    hash: str
    by: str  # "a checkpoint of <time>", "the start seal", "seal <id>"


def verify(session: so.Session) -> Report:
    """Check the whole trail and every record table against it; see the module's docstring."""
    settings = settings_of(session)
    sees(session)  # the rows of an import still being written are in the database, and in the trail, like any other
    report = Report()
    seals = _seals(session)
    session.rollback()  # the snapshot begins after the checkpoints are read
    start, chain_problems = _start_seal(settings, seals)
    report.problems += chain_problems
    log = audit_keys.read_checkpoints(settings, start.chain_id) if start else audit_keys.CheckpointLog([], [], [])

    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    if _seals(session) != seals:
        report.problems.append("the seals changed while the trail was being checked: check it again")
        return report

    report.keyed_after = start.seq if start else None
    report.problems += [
        f"checkpoint {where} is not signed with the audit key (forged, or another key's)" for where in log.forged
    ]
    report.notes += [f"checkpoint {where} is unreadable and was skipped" for where in log.unreadable]
    points = _vouched_points(settings, seals, start, log.checkpoints, report)
    report.checkpoints = len(log.checkpoints)
    report.last_checkpoint = max(log.checkpoints, key=lambda c: c.seq, default=None)

    recorded = ar.RecordedStates()
    _walk(session, settings, start, points, recorded, report)
    if start is None and report.events:
        report.problems.insert(0, _not_sealed(settings, report.events))
    _cut_short(start, points, report)
    if recorded.unreadable:
        report.notes.append(
            f"{len(recorded.unreadable)} events name no state this version reads (from event {recorded.unreadable[0]})"
        )
    report.records = _compare_records(session, recorded, report)
    return report


def _seals(session: so.Session) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(sa.select(*AuditSeal.__table__.c).order_by(AuditSeal.id))]


def _as_seal(row: tuple[Any, ...]) -> AuditSeal:
    return AuditSeal(**dict(zip(AuditSeal.__table__.c.keys(), row, strict=True)))


def _start_seal(settings: AuditSettings, rows: list[tuple[Any, ...]]) -> tuple[AuditSeal | None, list[str]]:
    """The start seal, and what is wrong with the seals."""
    problems = []
    starts = []
    for row in rows:
        seal = _as_seal(row)
        if not seal_is_signed(settings.key, seal):
            problems.append(
                f"seal {seal.id} ({seal.kind}, event {seal.seq}) is not signed with the audit key (forged, or made "
                "with another key)"
            )
        elif seal.kind == START:
            starts.append(seal)
    if len(starts) > 1:
        ids = ", ".join(str(s.id) for s in starts)
        problems.append(f"{len(starts)} start seals: the trail was sealed more than once (seals {ids})")
    return (starts[0] if starts else None), problems


def _not_sealed(settings: AuditSettings, count: int) -> str:
    message = (
        f"audit trail not sealed: nothing vouches for its {count} events with the audit key. A database from before "
        "audit keys: check it, then run `assessor audit seal` once. Otherwise its seal was removed"
    )
    others = list(audit_keys.other_chains(settings, None))
    if others:
        last = max(others, key=lambda c: c.seq)
        message += (
            f"; the checkpoint folder holds {len(others)} other trail(s) signed with this key, the latest up to event "
            f"{last.seq} (chain {last.chain}, {last.at}): if one was this database's, it was rewritten"
        )
    return message


def _vouched_points(
    settings: AuditSettings,
    rows: list[tuple[Any, ...]],
    start: AuditSeal | None,
    checkpoints: list[Checkpoint],
    report: Report,
) -> dict[int, list[Vouched]]:
    """Every (seq, hash) vouched for from outside the events, by seq."""
    points: dict[int, list[Vouched]] = defaultdict(list)
    if start is None:
        return points
    if start.seq:
        points[start.seq].append(Vouched(start.seq, start.hash, "the start seal"))
    for row in rows:
        seal = _as_seal(row)
        if seal.kind != EVENT or not seal_is_signed(settings.key, seal):
            continue
        if seal.chain_id != start.chain_id or seal.seq > start.seq:
            report.problems.append(f"seal {seal.id} vouches for event {seal.seq}, which is not of the sealed trail")
            continue
        points[seal.seq].append(Vouched(seal.seq, seal.hash, f"seal {seal.id}"))
    for checkpoint in checkpoints:
        points[checkpoint.seq].append(Vouched(checkpoint.seq, checkpoint.hash, f"a checkpoint of {checkpoint.at}"))
    return points


def _walk(
    session: so.Session,
    settings: AuditSettings,
    start: AuditSeal | None,
    points: dict[int, list[Vouched]],
    recorded: ar.RecordedStates,
    report: Report,
) -> None:
    """Stream the chain: links and hashes, the vouched points, and the state of every record."""
    rewrites = _rewrites(session, report)
    walk = ChainWalk(settings.key, start.chain_id, start.seq, rewrites) if start is not None else ChainWalk()
    differing: list[Vouched] = []
    for event in events(session):
        walk.step(event)
        for point in points.get(event.seq, ()):
            if point.hash != event.hash:
                differing.append(point)
        recorded.add(event.seq, event.action, event.entity_type, event.entity_id, event.before, event.after)
    report.events, report.last_seq = walk.count, walk.last_seq
    if walk.broken is not None:
        report.problems.append(f"audit trail broken at event {walk.broken.seq}: {BREAKS[walk.broken.problem]}")
    if differing:
        first = differing[0]
        more = f" ({len(differing) - 1} more vouched points differ)" if len(differing) > 1 else ""
        report.problems.append(
            f"audit trail rewritten: event {first.seq} is not the event {first.by} vouches for{more}"
        )


def _rewrites(session: so.Session, report: Report) -> dict[int, Rewrite]:
    """The events erasures rewrote, as the erasure events vouch for them (each checked itself in the walk)."""
    found: dict[int, Rewrite] = {}
    query = sa.select(AuditEvent.seq, AuditEvent.after).where(AuditEvent.action == ar.ERASE).order_by(AuditEvent.seq)
    for seq, after in session.execute(query):
        try:
            found.update((r.seq, r) for r in ar.rewrites(seq, after))
        except (ValueError, KeyError, TypeError):
            report.problems.append(f"erasure event {seq} does not say which events it rewrote")
    return found


def _cut_short(start: AuditSeal | None, points: dict[int, list[Vouched]], report: Report) -> None:
    """Events missing from the end, against the furthest vouched point; and no checkpoint at all."""
    furthest = max((p for vouched in points.values() for p in vouched), key=lambda p: p.seq, default=None)
    if furthest is not None and furthest.seq > report.last_seq:
        missing = furthest.seq - report.last_seq
        what = "the last event is missing" if missing == 1 else f"the last {missing} events are missing"
        report.problems.append(
            f"audit trail cut short: {what} ({furthest.by} vouches for event {furthest.seq}; the trail ends at "
            f"event {report.last_seq})"
        )
    if start is not None and report.last_seq > start.seq and not report.checkpoints:
        report.problems.append(
            "no checkpoint of this audit trail in the checkpoint folder: whether its last events were deleted "
            "cannot be checked (restore the folder from the backup made with the database)"
        )
    elif report.last_checkpoint is not None and report.last_seq > report.last_checkpoint.seq:
        after = report.last_seq - report.last_checkpoint.seq
        report.notes.append(
            f"{after} event{'s' if after != 1 else ''} after the last checkpoint (event {report.last_checkpoint.seq}, "
            f"{report.last_checkpoint.at}): deleting {'them' if after != 1 else 'it'} would not be noticed"
        )


# --- the records against the trail ---------------------------------------------------------------


def _compare_records(session: so.Session, recorded: ar.RecordedStates, report: Report) -> int:
    """Every row of every record table set beside the state the trail gives it; return how many rows were read."""
    count = 0
    for kind, rows in _ROWS:
        comparison = ar.Comparison(recorded, kind)
        disagreements: list[tuple[ar.Disagreement, str | None, tuple[str, int] | None]] = []
        for key, now, entity in rows(session):
            count += 1
            if (found := comparison.row(key, now)) is not None:
                disagreements.append((found, now, entity))
        disagreements += [(gone, None, None) for gone in comparison.rest()]
        for disagreement, state, named in disagreements[:SHOWN_PER_KIND]:
            report.problems.append(_say(session, disagreement, state, named))
        if len(disagreements) > SHOWN_PER_KIND:
            report.problems.append(f"... and {len(disagreements) - SHOWN_PER_KIND} more {kind} records disagree")
    return count


Row = tuple[ar.Key, str, tuple[str, int] | None]  # key, state now, the audit entity its events name


def _name(kind: str, key: ar.Key) -> str:
    if kind == ar.ACKNOWLEDGEMENT and isinstance(key, tuple):
        return f"acknowledgement of evidence {key[0]}, version {key[1]}"
    if kind == ar.REVOCATION:
        return f"revocation of completion record {key}"
    return f"{kind} {key}"


def _entity(kind: str, key: ar.Key) -> tuple[str, int] | None:
    """The audit entity whose events set a record, where the record's key names it."""
    by_kind = {
        ar.ACCOUNT: "user",
        ar.COHORT: "cohort",
        ar.UNIT_VERSION: "unit_version",
        ar.ENROLMENT: "enrolment",
        ar.EVIDENCE: "evidence",
        ar.COMPLETION: "completion_record",
        ar.REVOCATION: "completion_record",
        ar.CREDIT: "credit",
        ar.LOGBOOK: "logbook_entry",
    }
    if kind == ar.ACKNOWLEDGEMENT and isinstance(key, tuple):
        return ("evidence", key[0])
    if kind in by_kind and isinstance(key, int):
        return (by_kind[kind], key)
    return None


def _say(session: so.Session, found: ar.Disagreement, state: str | None, entity: tuple[str, int] | None) -> str:
    name = _name(found.kind, found.key)
    if found.problem == "inserted":
        return f"{name}: not in the audit trail (inserted outside the application)"
    seq, recorded = _recorded(session, found.kind, found.key, entity or _entity(found.kind, found.key))
    at = f"event {seq}" if seq else "the audit trail"
    if found.problem == "deleted":
        return f"{name}: missing, but {at} says it exists (deleted outside the application)"
    fields = ar.differing_fields(recorded, state) if recorded and state else []
    what = f" in {', '.join(fields)}" if fields else ""
    return f"{name}: differs from what {at} recorded{what} (changed outside the application)"


def _recorded(session: so.Session, kind: str, key: ar.Key, entity: tuple[str, int] | None) -> tuple[int, str | None]:
    """The seq and state of the last event that set a record, looked up for a disagreement found."""
    columns = (AuditEvent.seq, AuditEvent.action, AuditEvent.entity_type, AuditEvent.entity_id)
    query = sa.select(*columns, AuditEvent.before, AuditEvent.after).order_by(AuditEvent.seq)
    if entity is not None:
        named = query.where(AuditEvent.entity_type == entity[0], AuditEvent.entity_id == str(entity[1]))
        seq, recorded = ar.last_state(session.execute(named), kind, key)
        if seq:
            return seq, recorded
    field = {ar.JUDGEMENT: "mapping", ar.ATTACHMENT: "attachment"}.get(kind)
    if field is None:
        return 0, None
    # Moved to other evidence, or gone: the events that name it, wherever they are (a scan, for a few records only).
    pattern = f'%"{field}":{key},%'
    return ar.last_state(
        session.execute(query.where(AuditEvent.after.like(pattern) | AuditEvent.before.like(pattern))), kind, key
    )


def _stream(session: so.Session, query: sa.Select) -> Iterator[Any]:
    result = session.execute(query.execution_options(yield_per=BATCH))
    try:
        yield from result
    finally:
        result.close()


def _accounts(session: so.Session) -> Iterator[Row]:
    query = sa.select(User.id, User.username, User.display_name, User.email, User.role, User.active).order_by(User.id)
    for id, username, display_name, email, role, active in _stream(session, query):
        yield id, canonical(user_state(username, display_name, email, role, active)), None


def _cohorts(session: so.Session) -> Iterator[Row]:
    coordinators: dict[int, list[str]] = defaultdict(list)
    query = sa.select(cohort_coordinator.c.cohort_id, User.username).join(User, User.id == cohort_coordinator.c.user_id)
    for cohort_id, username in session.execute(query):
        coordinators[cohort_id].append(username)
    for id, name in _stream(session, sa.select(Cohort.id, Cohort.name).order_by(Cohort.id)):
        yield id, ar.cohort_state_text({"name": name, "coordinators": coordinators.get(id, [])}), None


def _unit_versions(session: so.Session) -> Iterator[Row]:
    columns = (UnitVersion.id, UnitVersion.unit_id, UnitVersion.version, UnitVersion.code, UnitVersion.title)
    query = sa.select(*columns, UnitVersion.framework, UnitVersion.source_sha256, UnitVersion.source_text)
    for id, unit_id, version, code, title, framework, sha256, text in session.execute(query.order_by(UnitVersion.id)):
        state: dict[str, Any] = {"unit": f"{unit_id}@{version}", "sha256": sha256}
        # The text must still be the one its hash names, and the columns what the text says.
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha256:
            state["source_text"] = "changed"
        else:
            try:
                unit = parse_unit(text, "<stored unit>")
            except Exception:  # noqa: BLE001 - any failure to read the stored text means it is not what was loaded
                state["source_text"] = "unreadable"
            else:
                for name, value in (("code", code), ("title", title), ("framework", framework)):
                    if getattr(unit, name) != value:
                        state[name] = value
        yield id, canonical(state), None


def _enrolments(session: so.Session) -> Iterator[Row]:
    keys = {
        id: f"{unit_id}@{version}"
        for id, unit_id, version in session.execute(sa.select(UnitVersion.id, UnitVersion.unit_id, UnitVersion.version))
    }
    assessors: dict[int, list[int]] = defaultdict(list)
    for enrolment_id, user_id in session.execute(
        sa.select(enrolment_assessor.c.enrolment_id, enrolment_assessor.c.user_id)
    ):
        assessors[enrolment_id].append(user_id)
    columns = (Enrolment.id, Enrolment.trainee_id, Enrolment.unit_version_id, Enrolment.cohort_id, Enrolment.status)
    query = sa.select(*columns, Enrolment.start_date, Enrolment.end_date).order_by(Enrolment.id)
    for id, trainee_id, unit_version_id, cohort_id, status, start, end in _stream(session, query):
        state = enrolment_state(
            trainee_id, keys.get(unit_version_id, "?"), cohort_id, assessors.get(id, []), status, start, end
        )
        yield id, canonical(state), None


def _evidence(session: so.Session) -> Iterator[Row]:
    attachments: dict[int, list[str]] = defaultdict(list)
    for evidence_id, sha256 in session.execute(
        sa.select(Attachment.evidence_id, Attachment.sha256).order_by(Attachment.evidence_id, Attachment.id)
    ):
        attachments[evidence_id].append(sha256)
    columns = (Evidence.id, Evidence.trainee_id, Evidence.method, Evidence.context, Evidence.observed_on)
    erasure = (Evidence.erased_on, Evidence.erased_because, Evidence.dimensions)
    query = sa.select(*columns, Evidence.location, Evidence.narrative, *erasure).order_by(Evidence.id)
    for id, trainee_id, method, context, observed_on, location, narrative, *rest in _stream(session, query):
        state = evidence_state(
            trainee_id, method, context, observed_on, location, narrative, attachments.get(id, []), *rest
        )
        yield id, canonical(state), None


def _attachments(session: so.Session) -> Iterator[Row]:
    columns = (Attachment.id, Attachment.evidence_id, Attachment.original_name, Attachment.size)
    rest = (Attachment.content_type, Attachment.sha256, Attachment.stored_name, Attachment.erased_on)
    for id, evidence_id, *fields in _stream(session, sa.select(*columns, *rest).order_by(Attachment.id)):
        yield id, canonical(attachment_state(evidence_id, *fields)), ("evidence", evidence_id)


def _judgements(session: so.Session) -> Iterator[Row]:
    columns = (EvidenceMapping.id, EvidenceMapping.evidence_id, EvidenceMapping.enrolment_id)
    query = sa.select(*columns, EvidenceMapping.target, EvidenceMapping.verdict, EvidenceMapping.comment)
    for id, evidence_id, enrolment_id, target, verdict, comment in _stream(session, query.order_by(EvidenceMapping.id)):
        state = ar.judgement_state(canonical(mapping_state(id, enrolment_id, target, verdict, comment)), evidence_id)
        yield id, state, ("evidence", evidence_id)


def _acknowledgements(session: so.Session) -> Iterator[Row]:
    query = sa.select(Acknowledgement.evidence_id, Acknowledgement.evidence_version).order_by(Acknowledgement.id)
    for evidence_id, version in _stream(session, query):
        yield (evidence_id, version), ar.PRESENT, None


def _completions(session: so.Session) -> Iterator[Row]:
    declared = (
        CompletionRecord.declared_valid,
        CompletionRecord.declared_sufficient,
        CompletionRecord.declared_authentic,
        CompletionRecord.declared_current,
    )
    columns = (
        CompletionRecord.id,
        CompletionRecord.enrolment_id,
        CompletionRecord.result,
        CompletionRecord.assessor_id,
        CompletionRecord.signed_on,
        CompletionRecord.snapshot,
        CompletionRecord.countersigned_by_id,
    )
    query = sa.select(*columns, *declared)
    for id, enrolment_id, result, assessor_id, signed_on, snapshot, countersigned_by, *flags in _stream(
        session, query.order_by(CompletionRecord.id)
    ):
        state = completion_state(enrolment_id, result, assessor_id, signed_on, snapshot, countersigned_by)
        state["declaration"] = [name for name, flag in zip(DECLARATION, flags, strict=True) if flag]
        yield id, canonical(state), None


def _revocations(session: so.Session) -> Iterator[Row]:
    query = sa.select(Revocation.record_id, Revocation.reason).order_by(Revocation.record_id)
    for record_id, reason in _stream(session, query):
        yield record_id, canonical({"reason": reason}), None


def _credits(session: so.Session) -> Iterator[Row]:
    columns = (Credit.id, Credit.trainee_id, Credit.unit, Credit.awarded_on, Credit.source, Credit.withdrawn_because)
    for id, *fields in _stream(session, sa.select(*columns).order_by(Credit.id)):
        yield id, canonical(credit_state(*fields)), None


def _logbook_entries(session: so.Session) -> Iterator[Row]:
    columns = (LogbookEntry.id, LogbookEntry.enrolment_id, LogbookEntry.worked_on, LogbookEntry.minutes)
    query = sa.select(*columns, LogbookEntry.description, LogbookEntry.verified_by_id).order_by(LogbookEntry.id)
    for id, *fields in _stream(session, query):
        yield id, canonical(logbook_state(*fields)), None


_ROWS: tuple[tuple[str, Callable[[so.Session], Iterable[Row]]], ...] = (
    (ar.ACCOUNT, _accounts),
    (ar.COHORT, _cohorts),
    (ar.UNIT_VERSION, _unit_versions),
    (ar.ENROLMENT, _enrolments),
    (ar.EVIDENCE, _evidence),
    (ar.ATTACHMENT, _attachments),
    (ar.JUDGEMENT, _judgements),
    (ar.ACKNOWLEDGEMENT, _acknowledgements),
    (ar.COMPLETION, _completions),
    (ar.REVOCATION, _revocations),
    (ar.CREDIT, _credits),
    (ar.LOGBOOK, _logbook_entries),
)
