"""Where enrolments stand: one enrolment assessed afresh from its judgements, and lists read from stored tallies in a
fixed number of statements however many records there are."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.access import visible_enrolments
from assessor.core.paging import Cursor, Key, Page, page_of
from assessor.domain import policy
from assessor.domain.completion import Obstacle, Reason, obstacles
from assessor.domain.progress import Judgement, Progress, Tally, assess, values_of
from assessor.domain.standards import Prerequisite, Unit
from assessor.domain.text import folded
from assessor.domain.vocabulary import OPEN_REVIEWS, EnrolmentStatus
from assessor.models import (
    CompletionRecord,
    Credit,
    Enrolment,
    EnrolmentProgress,
    Evidence,
    EvidenceMapping,
    LogbookEntry,
    NameContains,
    Revocation,
    SampleReview,
    UnitVersion,
    User,
    enrolment_assessor,
)
from assessor.models.accounts import TRIGRAM
from assessor.standards.queries import parse_stored, unit_of

_JUDGEMENTS = sa.select(
    EvidenceMapping.enrolment_id,
    EvidenceMapping.evidence_id,
    EvidenceMapping.target,
    EvidenceMapping.verdict,
    Evidence.context,
    Evidence.observed_on,
    Evidence.dimensions,
).join(Evidence, Evidence.id == EvidenceMapping.evidence_id)


def _judgement(row: Any) -> Judgement:
    return Judgement(
        row.evidence_id, row.target, row.verdict, row.context.value, row.observed_on, values_of(row.dimensions)
    )


def progress_of(session: so.Session, enrolment: Enrolment) -> Progress:
    """Where an enrolment stands, criterion by criterion."""
    rows = session.execute(_JUDGEMENTS.where(EvidenceMapping.enrolment_id == enrolment.id))
    return assess(unit_of(enrolment.unit_version), [_judgement(r) for r in rows])


def judged_evidence(session: so.Session, enrolment: Enrolment) -> tuple[Progress, dict[str, list[Any]]]:
    """Where an enrolment stands, and each target's judgements with their evidence's method and date (and what a
    judgement carried over from an earlier version was mapped to there), oldest first: one statement."""
    origin = so.aliased(EvidenceMapping)
    rows = session.execute(
        _JUDGEMENTS.add_columns(Evidence.method, EvidenceMapping.comment, origin.target.label("carried_from"))
        .outerjoin(origin, origin.id == EvidenceMapping.carried_from_id)
        .where(EvidenceMapping.enrolment_id == enrolment.id)
        .order_by(Evidence.observed_on, Evidence.id)
    ).all()
    by_target: dict[str, list[Any]] = {}
    for row in rows:
        by_target.setdefault(row.target, []).append(row)
    return assess(unit_of(enrolment.unit_version), [_judgement(r) for r in rows]), by_target


def prerequisites_held(session: so.Session, trainee_id: int, unit: Unit) -> dict[Prerequisite, bool]:
    """For each prerequisite of the unit, whether the trainee holds a completion record of it (any version, not
    revoked) or a credit for it (not withdrawn)."""
    if not unit.prerequisites:
        return {}
    records = session.execute(
        sa.select(UnitVersion.unit_id, UnitVersion.code)
        .join(Enrolment, Enrolment.unit_version_id == UnitVersion.id)
        .join(CompletionRecord, CompletionRecord.enrolment_id == Enrolment.id)
        .outerjoin(Revocation, Revocation.record_id == CompletionRecord.id)
        .where(Enrolment.trainee_id == trainee_id, Revocation.id.is_(None))
    )
    credits = session.scalars(
        sa.select(Credit.unit).where(Credit.trainee_id == trainee_id, Credit.withdrawn_at.is_(None))
    )
    held = [(unit_id, code) for unit_id, code in records] + [(name, name) for name in credits]
    return {p: any(p.names(unit_id, code) for unit_id, code in held) for p in unit.prerequisites}


def verified_minutes(session: so.Session, enrolment: Enrolment) -> int:
    """The minutes of work logged toward the enrolment and verified by an assessor (none for a unit without a
    logbook)."""
    if unit_of(enrolment.unit_version).logbook is None:
        return 0
    query = sa.select(sa.func.coalesce(sa.func.sum(LogbookEntry.minutes), 0)).where(
        LogbookEntry.enrolment_id == enrolment.id, LogbookEntry.verified_at.is_not(None)
    )
    return int(session.scalar(query) or 0)


def not_held(held: dict[Prerequisite, bool]) -> list[str]:
    """The prerequisites among `held` the trainee holds no record of, by the unit they name."""
    return [p.unit for p, has in held.items() if not has]


def sign_off_obstacles(
    session: so.Session,
    enrolment: Enrolment,
    progress: Progress | None = None,
    held: dict[Prerequisite, bool] | None = None,
) -> tuple[Obstacle, ...]:
    """Every reason the enrolment cannot be signed off yet; empty when it can. Pass its progress and its held
    prerequisites if they are at hand."""
    unit = unit_of(enrolment.unit_version)
    if held is None:
        held = prerequisites_held(session, enrolment.trainee_id, unit)
    minutes = verified_minutes(session, enrolment)
    found = obstacles(unit, progress or progress_of(session, enrolment), enrolment.status, not_held(held), minutes)
    reviews = session.scalars(
        sa.select(SampleReview).where(SampleReview.enrolment_id == enrolment.id, SampleReview.state.in_(OPEN_REVIEWS))
    ).all()
    if any(r.countersigning for r in reviews):
        return (*found, Obstacle(Reason.AWAITING_COUNTERSIGNATURE))
    if reviews:
        return (*found, Obstacle(Reason.UNDER_REVIEW))
    return found


def tally_columns(tally: Tally) -> dict[str, Any]:
    """An enrolment_progress row's columns for a tally."""
    return {
        "tally": tally.to_json(),
        "percent": tally.percent,
        "outstanding": tally.outstanding,
        "last_evidence": tally.last_evidence,
    }


def tally_rows(connection: sa.Connection) -> list[dict[str, Any]]:
    """Every enrolment_progress row computed afresh, its tally from the enrolment's judgements and its sort keys from
    its unit version and trainee (for checks)."""
    judgements: dict[int, list[Judgement]] = {}
    for row in connection.execute(_JUDGEMENTS):
        judgements.setdefault(row.enrolment_id, []).append(_judgement(row))
    enrolments = connection.execute(
        sa.select(Enrolment.id, UnitVersion.source_text, UnitVersion.title, User.search_name)
        .join(UnitVersion)
        .join(User, User.id == Enrolment.trainee_id)
        .order_by(Enrolment.id)
    )
    return [
        {
            "enrolment_id": e.id,
            **tally_columns(assess(parse_stored(e.source_text), judgements.get(e.id, [])).tally()),
            "unit_title": e.title,
            "trainee_name": e.search_name,
        }
        for e in enrolments
    ]


@dataclass(frozen=True)
class EnrolmentSummary:
    """One row of an enrolment list: who, which unit, and how far (with when evidence last came in). Plain values read
    with the page rather than records: a page of records and their relations cost more to build than to read."""

    enrolment_id: int
    trainee_id: int
    trainee: str  # the trainee's name as shown
    status: EnrolmentStatus
    unit: Unit
    progress: Tally
    assessor_ids: frozenset[int]

    @property
    def facts(self) -> policy.EnrolmentFacts:
        """The policy's view of the enrolment, as far as the list asks it (who may record evidence)."""
        return policy.EnrolmentFacts(self.trainee_id, self.assessor_ids, frozenset(), self.status)


# Each sort's key, its last column the enrolment's id so that every row has a place of its own. Each is served by an
# index (see the models): a page deep in a list of any length, in any order, reads about a page of rows.
SORTS: dict[str, tuple[Key, ...]] = {
    "trainee": (Key(EnrolmentProgress.trainee_name, str), Key(EnrolmentProgress.enrolment_id)),
    "unit": (
        Key(EnrolmentProgress.unit_title, str),
        Key(EnrolmentProgress.trainee_name, str),
        Key(EnrolmentProgress.enrolment_id),
    ),
    "progress": (Key(EnrolmentProgress.percent), Key(EnrolmentProgress.enrolment_id)),
    "outstanding": (
        Key(EnrolmentProgress.outstanding, descending=True),
        Key(EnrolmentProgress.enrolment_id, descending=True),
    ),
    "last_evidence": (
        Key(EnrolmentProgress.last_evidence, datetime.date, nullable=True),
        Key(EnrolmentProgress.enrolment_id),
    ),
}
# A list counts its enrolments up to this many and says "more than" beyond, so a count never reads everything. Counting
# to 10,000 took 50-80 ms on PostgreSQL at 85,000 trainees; a list longer than this is narrowed with the filters.
COUNTED_TO = 1_000


def enrolment_summaries(
    session: so.Session,
    user: User,
    search: str = "",
    status: str = "",
    unit_id: str = "",
    sort: str = "trainee",
    cursor: Cursor | None = None,
    per_page: int = 50,
) -> Page[EnrolmentSummary]:
    """The page at `cursor` of the enrolments a user may see, filtered and sorted, each with its stored tally: five
    statements for a list of any length. The sort runs over the key columns alone; the page's rows are read after."""
    keys = SORTS[sort]

    def matching(many: bool) -> sa.Select[Enrolment]:
        query = (
            visible_enrolments(user, many)
            .join(Enrolment.trainee)
            .join(Enrolment.unit_version)
            .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
        )
        if wanted := folded(search):  # the trainees found by name lead to their enrolments (by their index)
            query = query.where(Enrolment.trainee_id.in_(sa.select(User.id).where(NameContains(wanted))))
        if status in {s.value for s in EnrolmentStatus}:
            query = query.where(Enrolment.status == EnrolmentStatus(status))
        if unit_id:
            query = query.where(UnitVersion.unit_id == unit_id)
        return query

    # Counted from the user's own enrolments, or from the names found when searching.
    counted = matching(many=bool(folded(search))).with_only_columns(Enrolment.id).limit(COUNTED_TO + 1).subquery()
    total = session.scalar(sa.select(sa.func.count()).select_from(counted)) or 0
    query = matching(many=total > COUNTED_TO)  # a long list is walked in its order, a short one sorted
    if len(folded(search)) >= TRIGRAM and sort in ("trainee", "unit"):
        # A name's matches gather in one stretch of a sort by name ("tui" near the end): walking the index to them
        # reads most of it. Sorted by a copy of the key, the matches are found on the name index and sorted instead.
        keys = (Key(keys[0].column + "", keys[0].kind), *keys[1:])

    def rows_of(
        condition: sa.ColumnElement[bool], order: list[sa.ColumnElement[Any]], limit: int
    ) -> list[tuple[tuple[Any, ...], EnrolmentSummary]]:
        found = session.execute(
            query.with_only_columns(*(k.column for k in keys)).where(condition).order_by(*order).limit(limit)
        ).all()
        summaries = _summaries(session, [row[-1] for row in found])
        return [(tuple(row), summaries[row[-1]]) for row in found]

    return page_of(rows_of, keys, cursor, per_page, total, exact=total <= COUNTED_TO)


def _summaries(session: so.Session, ids: list[int]) -> dict[int, EnrolmentSummary]:
    """The rows of these enrolments, by id: three statements."""
    rows = session.execute(
        sa.select(
            Enrolment.id,
            Enrolment.trainee_id,
            User.display_name,
            Enrolment.status,
            Enrolment.unit_version_id,
            EnrolmentProgress.tally,
        )
        .join(User, User.id == Enrolment.trainee_id)
        .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
        .where(Enrolment.id.in_(ids))
    ).all()
    assessors: dict[int, set[int]] = {}
    assigned = sa.select(enrolment_assessor.c.enrolment_id, enrolment_assessor.c.user_id)
    for enrolment_id, user_id in session.execute(assigned.where(enrolment_assessor.c.enrolment_id.in_(ids))):
        assessors.setdefault(enrolment_id, set()).add(user_id)
    versions = session.scalars(sa.select(UnitVersion).where(UnitVersion.id.in_({r.unit_version_id for r in rows})))
    units = {version.id: unit_of(version) for version in versions}
    return {
        r.id: EnrolmentSummary(
            r.id,
            r.trainee_id,
            r.display_name,
            r.status,
            units[r.unit_version_id],
            Tally.from_json(r.tally),
            frozenset(assessors.get(r.id, ())),
        )
        for r in rows
    }


def with_tallies(session: so.Session, ids: list[int]) -> list[tuple[Enrolment, Tally]]:
    """The enrolments with these ids (in no order), each with its trainee, unit version and assessors loaded, and its
    stored tally: three statements."""
    rows = session.execute(
        sa.select(Enrolment, EnrolmentProgress.tally)
        .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
        .where(Enrolment.id.in_(ids))
        .options(
            so.joinedload(Enrolment.trainee),
            so.selectinload(Enrolment.unit_version),
            so.selectinload(Enrolment.assessors),
        )
    ).all()
    return [(e, Tally.from_json(t)) for e, t in rows]


@dataclass(frozen=True)
class Matrix:
    """An enrolment's criteria and items against every piece of evidence mapped to it."""

    targets: list[tuple[str, str]]  # number or id, text
    evidence: list[Evidence]  # oldest first
    cells: dict[tuple[str, int], EvidenceMapping]  # (target, evidence id) -> its mapping


def matrix_of(session: so.Session, enrolment: Enrolment) -> Matrix:
    """The mapping matrix of one enrolment: one statement."""
    unit = unit_of(enrolment.unit_version)
    rows = session.execute(
        sa.select(EvidenceMapping, Evidence)
        .join(Evidence, Evidence.id == EvidenceMapping.evidence_id)
        .where(EvidenceMapping.enrolment_id == enrolment.id)
        .order_by(Evidence.observed_on, Evidence.id)
    ).all()
    targets = [(c.number, c.text) for c in unit.criteria()] + [(i.id, i.text) for i in unit.assessable_items()]
    evidence = list({e.id: e for _, e in rows}.values())
    return Matrix(targets, evidence, {(m.target, e.id): m for m, e in rows})
