"""Reads behind the API: pages of the records a user may see, in the order of their ids, each page a few statements
whatever its length; the same rules as the web's lists (`core.access`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.access import visible_cohorts, visible_enrolments
from assessor.core.paging import Cursor, Key, page_of
from assessor.core.urls import MAX_ID
from assessor.domain.progress import Tally
from assessor.models import (
    Cohort,
    CompletionRecord,
    Enrolment,
    EnrolmentProgress,
    Evidence,
    EvidenceMapping,
    UnitVersion,
    User,
)
from assessor.progress.queries import with_tallies

T = TypeVar("T")
# Every list the API pages is in the order of its records' ids: a cursor holds one id, whatever the list.
ID_KEY = (Key(sa.literal_column("id")),)


@dataclass(frozen=True)
class Found(Generic[T]):
    """One page of rows, and the cursor of the next (None on the last page)."""

    rows: list[T]
    next: Cursor | None


def parse_cursor(token: str) -> Cursor:
    """The cursor of a `next_cursor` this API gave; ValueError for anything else (the API pages forward only)."""
    cursor = Cursor.parse(token, ID_KEY)
    if cursor.values is None or not cursor.forward or not 0 <= cursor.values[0] <= MAX_ID:
        raise ValueError("not a cursor of this API")
    return cursor


def _by_id(
    session: so.Session,
    column: Any,
    query: sa.Select[Any],
    cursor: Cursor | None,
    limit: int,
    load: Callable[[list[int]], list[T]],
) -> Found[T]:
    """The page after `cursor` of `query`'s rows in the order of `column` (their id); `load` reads the page's rows."""
    keys = (Key(column),)

    def rows_of(condition: sa.ColumnElement[bool], order: list[Any], count: int) -> list[tuple[tuple[Any, ...], T]]:
        ids = list(session.scalars(query.with_only_columns(column).where(condition).order_by(*order).limit(count)))
        loaded = {_id_of(row): row for row in load(ids)}
        return [((i,), loaded[i]) for i in ids]

    page = page_of(rows_of, keys, cursor, limit, total=0, exact=False)
    return Found(page.rows, page.next)


def _id_of(row: Any) -> int:
    return int(row[0].id if isinstance(row, tuple) else row.id)


def unit_versions(session: so.Session, cursor: Cursor | None, limit: int) -> Found[UnitVersion]:
    """Every loaded unit version (anyone signed in reads the units)."""

    def load(ids: list[int]) -> list[UnitVersion]:
        return list(session.scalars(sa.select(UnitVersion).where(UnitVersion.id.in_(ids))))

    return _by_id(session, UnitVersion.id, sa.select(UnitVersion), cursor, limit, load)


def cohorts(session: so.Session, user: User, cursor: Cursor | None, limit: int) -> Found[Cohort]:
    """The cohorts the user runs, with their coordinators."""

    def load(ids: list[int]) -> list[Cohort]:
        query = sa.select(Cohort).where(Cohort.id.in_(ids)).options(so.selectinload(Cohort.coordinators))
        return list(session.scalars(query))

    return _by_id(session, Cohort.id, visible_cohorts(user), cursor, limit, load)


def enrolments(
    session: so.Session, user: User, cursor: Cursor | None, limit: int, cohort_id: int | None = None
) -> Found[tuple[Enrolment, Tally]]:
    """The enrolments the user may see (of one cohort, if given), each with its stored tally."""
    query = visible_enrolments(user)
    if cohort_id is not None:
        query = query.where(Enrolment.cohort_id == cohort_id)

    return _by_id(session, Enrolment.id, query, cursor, limit, lambda ids: with_tallies(session, ids))


def tally_of(session: so.Session, enrolment: Enrolment) -> Tally:
    """An enrolment's stored tally."""
    stored = session.scalar(sa.select(EnrolmentProgress.tally).where(EnrolmentProgress.enrolment_id == enrolment.id))
    return Tally.from_json(stored or {})


def evidence_of(session: so.Session, enrolment: Enrolment, cursor: Cursor | None, limit: int) -> Found[Evidence]:
    """The evidence mapped to an enrolment (which the caller sees, and so sees the evidence)."""
    mapped = sa.select(EvidenceMapping.evidence_id).where(EvidenceMapping.enrolment_id == enrolment.id)
    query = sa.select(Evidence).where(Evidence.id.in_(mapped))

    def load(ids: list[int]) -> list[Evidence]:
        return list(session.scalars(sa.select(Evidence).where(Evidence.id.in_(ids)).options(*EVIDENCE_LOADS)))

    return _by_id(session, Evidence.id, query, cursor, limit, load)


EVIDENCE_LOADS = (
    so.selectinload(Evidence.mappings).joinedload(EvidenceMapping.judged_by),
    so.selectinload(Evidence.attachments),
    so.selectinload(Evidence.acknowledgements),
    so.joinedload(Evidence.recorded_by),
)


def visible_enrolment_ids(session: so.Session, user: User, trainee_id: int) -> set[int]:
    """The enrolments of one trainee that the user sees: whose mappings of evidence they are shown."""
    query = visible_enrolments(user).with_only_columns(Enrolment.id).where(Enrolment.trainee_id == trainee_id)
    return set(session.scalars(query))


def records(session: so.Session, user: User, cursor: Cursor | None, limit: int) -> Found[CompletionRecord]:
    """The completion records of the enrolments the user sees."""
    seen = visible_enrolments(user).with_only_columns(Enrolment.id)
    query = sa.select(CompletionRecord).where(CompletionRecord.enrolment_id.in_(seen))

    def load(ids: list[int]) -> list[CompletionRecord]:
        query = sa.select(CompletionRecord).where(CompletionRecord.id.in_(ids)).options(*RECORD_LOADS)
        return list(session.scalars(query))

    return _by_id(session, CompletionRecord.id, query, cursor, limit, load)


RECORD_LOADS = (
    so.joinedload(CompletionRecord.enrolment).joinedload(Enrolment.trainee),
    so.joinedload(CompletionRecord.enrolment).joinedload(Enrolment.unit_version),
    so.joinedload(CompletionRecord.assessor),
    so.joinedload(CompletionRecord.countersigned_by),
    so.joinedload(CompletionRecord.revocation),
)
