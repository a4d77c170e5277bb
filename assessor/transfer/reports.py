"""The four spreadsheet exports as sheets of plain rows, streamed from a fixed number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.labels import CONTEXT, ENROLMENT_STATUS, METHOD, STATUS, VERDICT
from assessor.domain.progress import Tally
from assessor.domain.vocabulary import EnrolmentStatus
from assessor.models import (
    Acknowledgement,
    AmongIds,
    Attachment,
    Cohort,
    CompletionRecord,
    Enrolment,
    EnrolmentProgress,
    Evidence,
    EvidenceMapping,
    Revocation,
    UnitVersion,
    User,
    enrolment_assessor,
)
from assessor.standards.queries import unit_of
from assessor.transfer.workbook import Column, Sheet

KINDS = {
    "progress": "Progress summary",
    "matrix": "Criteria matrix",
    "evidence": "Evidence register",
    "completions": "Completion register",
}
BATCH = 1000


@dataclass(frozen=True)
class Filters:
    """Which records an export covers: a cohort, a unit, and a date range (any of them optional)."""

    enrolments: sa.Select[int]  # the enrolment ids the user may see
    cohort_id: int | None = None
    unit_id: str | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None

    def enrolment_ids(self) -> sa.Select[int]:
        """Visible enrolments in the cohort and unit, active at some time in the date range; none an import is still
        writing. The exports read plain rows through the connection, past the ORM's filter that hides those (see
        models.pending), so the scope leaves them out itself: every other row of an unfinished import hangs off them."""
        query = self.enrolments.join(UnitVersion, UnitVersion.id == Enrolment.unit_version_id)
        query = query.where(Enrolment.pending_import_id.is_(None))
        if self.cohort_id is not None:
            query = query.where(Enrolment.cohort_id == self.cohort_id)
        if self.unit_id:
            query = query.where(UnitVersion.unit_id == self.unit_id)
        if self.end is not None:
            query = query.where(Enrolment.start_date <= self.end)
        if self.start is not None:
            query = query.where(sa.or_(Enrolment.end_date.is_(None), Enrolment.end_date >= self.start))
        return query


def csv_suffix(kind: str) -> str:
    """As CSV, the criteria matrix (a sheet per unit) is a .zip of .csv files; every other export one .csv file."""
    return "zip" if kind == "matrix" else "csv"


def sheets(session: so.Session, kind: str, filters: Filters) -> list[Sheet]:
    """The sheets of one export."""
    return {"progress": _progress, "matrix": _matrix, "evidence": _evidence, "completions": _completions}[kind](
        session, filters
    )


def row_count(session: so.Session, kind: str, filters: Filters) -> int:
    """How many data rows an export will have, for a progress bar."""
    ids = filters.enrolment_ids().subquery()
    if kind == "evidence":
        query = sa.select(sa.func.count(sa.distinct(EvidenceMapping.evidence_id))).join(
            ids, ids.c.id == EvidenceMapping.enrolment_id
        )
    elif kind == "completions":
        query = sa.select(sa.func.count(CompletionRecord.id)).join(ids, ids.c.id == CompletionRecord.enrolment_id)
    else:
        query = sa.select(sa.func.count()).select_from(ids)
    return session.scalar(query) or 0


class _EnrolmentRow(NamedTuple):
    """What the progress summary and the criteria matrix show of one enrolment."""

    username: str
    display_name: str
    email: str | None
    cohort: str
    unit_version_id: int
    status: EnrolmentStatus
    start_date: datetime.date
    end_date: datetime.date | None
    assessors: str
    tally: Tally


def _enrolment_rows(session: so.Session, filters: Filters) -> Iterator[_EnrolmentRow]:
    """Enrolments in id order with trainee, cohort, assessors and stored tally: one streamed query."""
    ids = filters.enrolment_ids().subquery()
    assessors = (
        sa.select(
            sa.func.group_concat(User.username)
            if session.get_bind().dialect.name == "sqlite"
            else sa.func.string_agg(User.username, ",")
        )
        .join(enrolment_assessor, enrolment_assessor.c.user_id == User.id)
        .where(enrolment_assessor.c.enrolment_id == Enrolment.id)
        .scalar_subquery()
    )
    # Plain columns, not Enrolment objects: those brought their trainee and the whole text of their unit version with
    # every row, which cost more than writing the row.
    enrolments = session.connection().execute(
        sa.select(
            User.username,
            User.display_name,
            User.email,
            Cohort.name,
            Enrolment.unit_version_id,
            Enrolment.status,
            Enrolment.start_date,
            Enrolment.end_date,
            assessors,
            EnrolmentProgress.tally,
        )
        .select_from(Enrolment)
        .join(ids, ids.c.id == Enrolment.id)
        .join(User, User.id == Enrolment.trainee_id)
        .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
        .outerjoin(Cohort, Cohort.id == Enrolment.cohort_id)
        .order_by(Enrolment.id)
        .execution_options(yield_per=BATCH)
    )
    with enrolments:
        for username, name, email, cohort, version, status, start, end, assessor_names, tally in enrolments:
            yield _EnrolmentRow(
                username,
                name,
                email,
                cohort or "",
                version,
                status,
                start,
                end,
                ", ".join(sorted((assessor_names or "").split(","))).strip(", "),
                Tally.from_json(tally),
            )


PROGRESS_COLUMNS = (
    Column("Trainee username", 18),
    Column("Trainee", 26),
    Column("Email", 28),
    Column("Cohort", 24),
    Column("Unit code", 12),
    Column("Unit", 48),
    Column("Version", 9, "int"),
    Column("Status", 18, "status"),
    Column("Start date", 12, "date"),
    Column("End date", 12, "date"),
    Column("Assessors", 22),
    Column("Criteria satisfied", 10, "int"),
    Column("Criteria", 10, "int"),
    Column("Items satisfied", 10, "int"),
    Column("Items", 10, "int"),
    Column("Progress", 10, "percent"),
    Column("Last evidence", 13, "date"),
)


def _progress(session: so.Session, filters: Filters) -> list[Sheet]:
    def rows() -> Iterator[tuple[object, ...]]:
        # A version's code, title and number are stored as its text gives them: no need to parse the text here.
        versions = {
            version_id: (code, title, number)
            for version_id, code, title, number in session.execute(
                sa.select(UnitVersion.id, UnitVersion.code, UnitVersion.title, UnitVersion.version).where(
                    UnitVersion.id.in_(filters.enrolment_ids().with_only_columns(Enrolment.unit_version_id))
                )
            )
        }
        for e in _enrolment_rows(session, filters):
            tally = e.tally
            yield (
                e.username,
                e.display_name,
                e.email,
                e.cohort,
                *versions[e.unit_version_id],
                ENROLMENT_STATUS[e.status],
                e.start_date,
                e.end_date,
                e.assessors,
                tally.criteria_satisfied,
                tally.criteria_total,
                tally.items_satisfied,
                tally.items_total,
                tally.percent,
                tally.last_evidence,
            )

    return [Sheet("Progress summary", PROGRESS_COLUMNS, rows())]


def _matrix(session: so.Session, filters: Filters) -> list[Sheet]:
    """One sheet per unit version: one row per enrolment, one column per criterion and evidence item."""
    versions = session.scalars(
        sa.select(UnitVersion)
        .where(UnitVersion.id.in_(filters.enrolment_ids().with_only_columns(Enrolment.unit_version_id)))
        .order_by(UnitVersion.unit_id, UnitVersion.version)
    ).all()
    result = []
    for version in versions:
        unit = unit_of(version)
        targets = [c.number for c in unit.criteria()] + [i.id for i in unit.assessable_items()]
        columns = [
            Column("Trainee username", 18),
            Column("Trainee", 26),
            Column("Cohort", 24),
            Column("Status", 18, "status"),
            Column("Progress", 10, "percent"),
        ]
        columns += [Column(t, 11, "status") for t in targets]
        scoped = Filters(
            filters.enrolments.where(Enrolment.unit_version_id == version.id),
            filters.cohort_id,
            None,
            filters.start,
            filters.end,
        )

        def rows(scoped: Filters = scoped) -> Iterator[tuple[object, ...]]:
            for e in _enrolment_rows(session, scoped):
                statuses = [STATUS[status] for status in e.tally.statuses()]
                yield (
                    e.username,
                    e.display_name,
                    e.cohort,
                    ENROLMENT_STATUS[e.status],
                    e.tally.percent,
                    *statuses,
                )

        result.append(Sheet(f"{unit.code or unit.id} v{unit.version}", columns, rows()))
    return result or [Sheet("Criteria matrix", [Column("Trainee username", 18)], iter(()))]


EVIDENCE_COLUMNS = (
    Column("Evidence", 10, "int"),
    Column("Trainee username", 18),
    Column("Trainee", 26),
    Column("Date observed", 13, "date"),
    Column("Method", 22),
    Column("Context", 22),
    Column("Location", 24),
    Column("Recorded by", 18),
    Column("Recorded at", 17, "datetime"),
    Column("Submitted by trainee", 10),
    Column("Narrative", 60),
    Column("Attachments", 30),
    Column("Mappings", 60),
    Column("Acknowledged", 12),
)


def _evidence(session: so.Session, filters: Filters) -> list[Sheet]:
    """One row per piece of evidence about the trainees in scope, with its mappings within scope."""
    ids = filters.enrolment_ids().subquery()
    in_scope = sa.select(EvidenceMapping.evidence_id).join(ids, ids.c.id == EvidenceMapping.enrolment_id)
    trainee, recorder = so.aliased(User), so.aliased(User)
    # Plain columns, not Evidence objects: building an object (and its two users) per row took longer than writing
    # the row's cells.
    query = (
        sa.select(
            Evidence.id,
            trainee.username,
            trainee.display_name,
            Evidence.observed_on,
            Evidence.method,
            Evidence.context,
            Evidence.location,
            recorder.username,
            Evidence.recorded_at,
            Evidence.submitted_by_trainee,
            Evidence.narrative,
            Evidence.erased_on,
            Evidence.erased_because,
            Evidence.version,
        )
        .join(trainee, trainee.id == Evidence.trainee_id)
        .join(recorder, recorder.id == Evidence.recorded_by_id)
        .where(Evidence.id.in_(in_scope))
    )
    if filters.start is not None:
        query = query.where(Evidence.observed_on >= filters.start)
    if filters.end is not None:
        query = query.where(Evidence.observed_on <= filters.end)

    def rows() -> Iterator[tuple[object, ...]]:
        # Related rows come in per batch of evidence, so statements grow with batches, never with rows.
        # The enrolments in scope as a set, so that each batch looks its mappings up by evidence alone: joining the
        # scope in every batch's statement made SQLite scan all mappings once a batch.
        scope = set(session.scalars(sa.select(ids.c.id)))
        connection = session.connection()  # plain rows need none of the session's object loading
        result = connection.execute(query.order_by(Evidence.id).execution_options(yield_per=BATCH))
        try:
            for batch in result.partitions():
                yield from _evidence_batch(connection, batch, scope)
        finally:
            result.close()

    return [Sheet("Evidence register", EVIDENCE_COLUMNS, rows())]


def _evidence_batch(
    connection: sa.Connection, batch: Sequence[Sequence[Any]], scope: set[int]
) -> Iterator[tuple[object, ...]]:
    """The rows of one batch of evidence (plain rows of the register's query), with their mappings in scope."""
    evidence_ids = [e[0] for e in batch]
    mappings: dict[int, list[str]] = {}
    for evidence_id, enrolment_id, target, verdict, unit_id, code in connection.execute(
        sa.select(
            EvidenceMapping.evidence_id,
            EvidenceMapping.enrolment_id,
            EvidenceMapping.target,
            EvidenceMapping.verdict,
            UnitVersion.unit_id,
            UnitVersion.code,
        )
        .join(Enrolment, Enrolment.id == EvidenceMapping.enrolment_id)
        .join(UnitVersion, UnitVersion.id == Enrolment.unit_version_id)
        .where(AmongIds(EvidenceMapping.evidence_id, evidence_ids))
        .order_by(EvidenceMapping.id)
    ).all():
        if enrolment_id in scope:
            mappings.setdefault(evidence_id, []).append(f"{code or unit_id} {target}: {VERDICT[verdict]}")
    attachments: dict[int, list[str]] = {}
    for evidence_id, name in connection.execute(
        sa.select(Attachment.evidence_id, Attachment.original_name)
        .where(AmongIds(Attachment.evidence_id, evidence_ids))
        .order_by(Attachment.id)
    ).all():
        attachments.setdefault(evidence_id, []).append(name)
    acknowledged = {
        (evidence_id, version)
        for evidence_id, version in connection.execute(
            sa.select(Acknowledgement.evidence_id, Acknowledgement.evidence_version).where(
                AmongIds(Acknowledgement.evidence_id, evidence_ids)
            )
        ).all()
    }
    for (
        evidence_id,
        trainee_username,
        trainee_name,
        observed_on,
        method,
        context,
        location,
        recorded_by,
        recorded_at,
        submitted_by_trainee,
        narrative,
        erased_on,
        erased_because,
        version,
    ) in batch:
        yield (
            evidence_id,
            trainee_username,
            trainee_name,
            observed_on,
            METHOD[method],
            CONTEXT[context],
            location,
            recorded_by,
            recorded_at,
            "Yes" if submitted_by_trainee else "No",
            f"(erased on {erased_on.isoformat()}: {erased_because})" if erased_on else narrative,
            "; ".join(attachments.get(evidence_id, ())),
            "; ".join(mappings.get(evidence_id, ())),
            "Yes" if (evidence_id, version) in acknowledged else "No",
        )


COMPLETION_COLUMNS = (
    Column("Record", 9, "int"),
    Column("Trainee username", 18),
    Column("Trainee", 26),
    Column("Cohort", 24),
    Column("Unit code", 12),
    Column("Unit", 48),
    Column("Version", 9, "int"),
    Column("Result", 14, "status"),
    Column("Signed on", 12, "date"),
    Column("Assessor", 18),
    Column("Verification code", 28),
    Column("Revoked", 10, "status"),
    Column("Revoked on", 12, "date"),
    Column("Revoked by", 18),
    Column("Reason", 40),
)


def _completions(session: so.Session, filters: Filters) -> list[Sheet]:
    """One row per completion record, revoked ones included and marked."""
    ids = filters.enrolment_ids().subquery()
    trainee, assessor, revoker = so.aliased(User), so.aliased(User), so.aliased(User)
    # The columns the register shows, not the records' objects: those bring each record's snapshot and the whole text
    # of its unit version with every row.
    query = (
        sa.select(
            CompletionRecord.id,
            trainee.username,
            trainee.display_name,
            Cohort.name,
            UnitVersion.code,
            UnitVersion.title,
            UnitVersion.version,
            CompletionRecord.result,
            CompletionRecord.signed_on,
            assessor.username,
            CompletionRecord.verification_code,
            Revocation.id,
            Revocation.revoked_at,
            revoker.username,
            Revocation.reason,
        )
        .join(ids, ids.c.id == CompletionRecord.enrolment_id)
        .join(Enrolment, Enrolment.id == CompletionRecord.enrolment_id)
        .join(trainee, trainee.id == Enrolment.trainee_id)
        .join(UnitVersion, UnitVersion.id == Enrolment.unit_version_id)
        .outerjoin(Cohort, Cohort.id == Enrolment.cohort_id)
        .join(assessor, assessor.id == CompletionRecord.assessor_id)
        .outerjoin(Revocation, Revocation.record_id == CompletionRecord.id)
        .outerjoin(revoker, revoker.id == Revocation.revoked_by_id)
        .order_by(CompletionRecord.id)
    )
    if filters.start is not None:
        query = query.where(CompletionRecord.signed_on >= filters.start)
    if filters.end is not None:
        query = query.where(CompletionRecord.signed_on <= filters.end)

    def rows() -> Iterator[tuple[object, ...]]:
        result = session.connection().execute(query.execution_options(yield_per=BATCH))
        try:
            for (
                record_id,
                trainee_username,
                trainee_name,
                cohort,
                code,
                title,
                version,
                outcome,
                signed_on,
                assessor_name,
                verification_code,
                revocation,
                revoked_at,
                revoked_by,
                reason,
            ) in result:
                yield (
                    record_id,
                    trainee_username,
                    trainee_name,
                    cohort or "",
                    code,
                    title,
                    version,
                    outcome,
                    signed_on,
                    assessor_name,
                    verification_code,
                    "Revoked" if revocation is not None else "No",
                    revoked_at.date() if revocation is not None else None,
                    revoked_by,
                    reason if revocation is not None else None,
                )
        finally:
            result.close()

    return [Sheet("Completion register", COMPLETION_COLUMNS, rows())]
