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


def cohort_overview(
    session: so.Session, cohort_id: int, stale_after_days: int, today: datetime.date
) -> tuple[dict[EnrolmentStatus, int], list[UnitHeat]]:
    """Counts per status and, per unit, trainees × components: two statements for any cohort size.

    Plain columns rather than whole records: a heat map of a thousand trainees is two thousand rows.
    """
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
    ).all()
    versions = session.scalars(
        sa.select(UnitVersion).where(UnitVersion.id.in_({r.unit_version_id for r in rows}))
    ).all()
    units = {v.id: UnitHeat(unit_of(v), []) for v in versions}
    counts = {status: 0 for status in EnrolmentStatus}
    limit = today - datetime.timedelta(days=stale_after_days)
    for r in rows:
        counts[r.status] += 1
        tally = Tally.from_json(r.tally)
        stale = r.status.is_open and (tally.last_evidence or r.start_date) < limit
        units[r.unit_version_id].rows.append(HeatRow(r.id, r.display_name, r.status, tally, stale))
    return counts, sorted(units.values(), key=lambda h: h.unit.name)


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
