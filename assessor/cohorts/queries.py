"""Reads behind the cohort pages: counts per status and heat maps, in a fixed number of statements."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.access import visible_cohorts
from assessor.domain.progress import Tally
from assessor.domain.standards import Unit
from assessor.domain.vocabulary import EnrolmentStatus
from assessor.models import Cohort, Enrolment, EnrolmentProgress, UnitVersion, User
from assessor.standards.queries import unit_of


@dataclass(frozen=True)
class HeatRow:
    """One trainee's enrolment in a cohort heat map."""

    enrolment_id: int
    trainee: str  # display name
    status: EnrolmentStatus
    progress: Tally
    stale: bool

    @property
    def levels(self) -> list[int]:
        """A colour level 0-4 for each component, by share of criteria satisfied."""
        return [min(c.percent // 25, 4) for c in self.progress.components]


@dataclass(frozen=True)
class UnitHeat:
    """The heat map of one unit version within a cohort."""

    unit: Unit
    rows: list[HeatRow]


@dataclass(frozen=True)
class Overview:
    """A cohort's counts per status, and one page of its heat map: trainees × components, per unit."""

    counts: dict[EnrolmentStatus, int]
    units: list[UnitHeat]
    page: int
    pages: int
    first: int  # the place of the page's first row among all the cohort's enrolments, from 1
    last: int
    total: int  # enrolments in the cohort


def cohort_overview(
    session: so.Session,
    cohort_id: int,
    stale_after_days: int,
    today: datetime.date,
    page: int = 1,
    per_page: int = 200,
) -> Overview:
    """Counts per status and one page of the heat map (`per_page` enrolments by trainee name), three statements for
    any cohort size; a page past the last shows the last.

    Plain columns rather than whole records: a page of a heat map can be hundreds of rows.
    """
    counted = dict(
        session.execute(
            sa.select(Enrolment.status, sa.func.count())
            .where(Enrolment.cohort_id == cohort_id)
            .group_by(Enrolment.status)
        ).all()
    )
    counts = {status: counted.get(status, 0) for status in EnrolmentStatus}
    total = sum(counts.values())
    last_page = max(1, -(-total // per_page))
    page = min(max(page, 1), last_page)
    rows = session.execute(
        sa.select(
            Enrolment.id,
            Enrolment.unit_version_id,
            Enrolment.status,
            Enrolment.start_date,
            User.display_name,
            EnrolmentProgress.tally,
        )
        .where(Enrolment.cohort_id == cohort_id)
        .join(User, User.id == Enrolment.trainee_id)
        .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
        .order_by(User.display_name, Enrolment.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    versions = session.scalars(
        sa.select(UnitVersion).where(UnitVersion.id.in_({r.unit_version_id for r in rows}))
    ).all()
    units = {v.id: UnitHeat(unit_of(v), []) for v in versions}
    limit = today - datetime.timedelta(days=stale_after_days)
    for r in rows:
        tally = Tally.from_json(r.tally)
        stale = r.status.is_open and (tally.last_evidence or r.start_date) < limit
        units[r.unit_version_id].rows.append(HeatRow(r.id, r.display_name, r.status, tally, stale))
    heat = sorted(units.values(), key=lambda h: h.unit.name)
    first = (page - 1) * per_page + 1
    return Overview(counts, heat, page, last_page, first, first + len(rows) - 1, total)


def enrolment_counts(session: so.Session, cohort_ids: list[int]) -> dict[int, int]:
    """How many enrolments each cohort has: one statement."""
    if not cohort_ids:
        return {}
    rows = session.execute(
        sa.select(Enrolment.cohort_id, sa.func.count(Enrolment.id))
        .where(Enrolment.cohort_id.in_(cohort_ids))
        .group_by(Enrolment.cohort_id)
    )
    return {cohort_id: count for cohort_id, count in rows if cohort_id is not None}


@dataclass(frozen=True)
class CohortPage:
    """A page of the cohorts a user runs, by name: `after` is the name the next page starts after, if there is one."""

    cohorts: list[Cohort]
    counts: dict[int, int]
    after: str | None


def cohort_page(session: so.Session, user: User, after: str | None, count: int) -> CohortPage:
    """The cohorts the user runs whose names come after `after`, with their coordinators and enrolment counts: three
    statements whatever the number of cohorts (names are unique, so they page by name)."""
    query = visible_cohorts(user).options(so.selectinload(Cohort.coordinators)).order_by(Cohort.name).limit(count + 1)
    if after:
        query = query.where(Cohort.name > after)
    found = list(session.scalars(query))
    shown = found[:count]
    following = shown[-1].name if len(found) > count else None
    return CohortPage(shown, enrolment_counts(session, [c.id for c in shown]), following)
