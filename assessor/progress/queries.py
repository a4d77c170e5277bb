"""Read-only queries behind the pages: a fixed number of statements however many records there are."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.access import visible_enrolments
from assessor.domain.progress import Tally
from assessor.domain.standards import Unit
from assessor.models import Enrolment, EnrolmentProgress, EnrolmentStatus, UnitVersion, User
from assessor.operations import unit_of


@dataclass(frozen=True)
class EnrolmentSummary:
    """One row of an enrolment list: who, which unit, and how far (with when evidence last came in)."""

    enrolment: Enrolment
    unit: Unit
    progress: Tally


# Each sort's order in SQL; the enrolment id last, so that pages never overlap.
SORTS = {
    "trainee": (sa.func.lower(User.display_name), UnitVersion.title),
    "unit": (UnitVersion.title, sa.func.lower(User.display_name)),
    "progress": (EnrolmentProgress.percent, sa.func.lower(User.display_name)),
    "outstanding": (EnrolmentProgress.outstanding.desc(), sa.func.lower(User.display_name)),
    "last_evidence": (EnrolmentProgress.last_evidence.asc().nulls_first(),),
}
@dataclass(frozen=True)
class EnrolmentPage:
    """One page of an enrolment list, and where it stands among all the matching enrolments."""

    summaries: list[EnrolmentSummary]
    number: int
    pages: int
    total: int
    first: int  # the position of the page's first enrolment among all, counting from 1


def enrolment_summaries(
    session: so.Session, user: User, search: str = "", status: str = "", unit_id: str = "", sort: str = "trainee", page: int = 1, per_page: int = 100
) -> EnrolmentPage:
    """One page of the enrolments a user may see, filtered and sorted, each with its stored tally: three statements."""
    query = (
        visible_enrolments(user)
        .join(Enrolment.trainee)
        .join(Enrolment.unit_version)
        .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
    )
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.display_name).like(pattern), sa.func.lower(User.username).like(pattern)))
    if status in {s.value for s in EnrolmentStatus}:
        query = query.where(Enrolment.status == EnrolmentStatus(status))
    if unit_id:
        query = query.where(UnitVersion.unit_id == unit_id)
    total = session.scalar(query.with_only_columns(sa.func.count()).order_by(None)) or 0
    pages = max(1, -(-total // per_page))
    number = min(max(page, 1), pages)
    rows = session.execute(
        query.add_columns(EnrolmentProgress.tally)
        .options(so.contains_eager(Enrolment.trainee), so.contains_eager(Enrolment.unit_version), so.selectinload(Enrolment.assessors))
        .order_by(*SORTS.get(sort, SORTS["trainee"]), Enrolment.id)
        .limit(per_page)
        .offset((number - 1) * per_page)
    )
    summaries = [EnrolmentSummary(e, unit_of(e.unit_version), Tally.from_json(tally)) for e, tally in rows]
    return EnrolmentPage(summaries, number, pages, total, (number - 1) * per_page + 1)


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
        sa.select(Enrolment.id, Enrolment.unit_version_id, Enrolment.status, Enrolment.start_date, User.display_name, EnrolmentProgress.tally)
        .where(Enrolment.cohort_id == cohort_id)
        .join(User, User.id == Enrolment.trainee_id)
        .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
        .order_by(User.display_name, Enrolment.id)
    ).all()
    versions = session.scalars(sa.select(UnitVersion).where(UnitVersion.id.in_({r.unit_version_id for r in rows}))).all()
    units = {v.id: UnitHeat(unit_of(v), []) for v in versions}
    counts = {status: 0 for status in EnrolmentStatus}
    limit = today - datetime.timedelta(days=stale_after_days)
    for r in rows:
        counts[r.status] += 1
        tally = Tally.from_json(r.tally)
        open_ = r.status in (EnrolmentStatus.ACTIVE, EnrolmentStatus.READY_FOR_SIGN_OFF)
        stale = open_ and (tally.last_evidence or r.start_date) < limit
        units[r.unit_version_id].rows.append(HeatRow(r.id, r.display_name, r.status, tally, stale))
    return counts, sorted(units.values(), key=lambda h: h.unit.name)
