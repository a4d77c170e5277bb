"""Read-only queries behind the pages: a fixed number of statements however many records there are."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.access import visible_enrolments
from assessor.domain.progress import Judgement, Progress, assess
from assessor.domain.standards import Unit
from assessor.models import Enrolment, EnrolmentStatus, Evidence, EvidenceMapping, User
from assessor.operations import unit_of


@dataclass(frozen=True)
class EnrolmentSummary:
    """One row of an enrolment list: who, which unit, how far, and when evidence last came in."""

    enrolment: Enrolment
    unit: Unit
    progress: Progress
    last_evidence: datetime.date | None

    @property
    def outstanding(self) -> int:
        return self.progress.total - self.progress.satisfied


SORTS = {
    "trainee": lambda s: (s.enrolment.trainee.display_name.casefold(), s.unit.title),
    "unit": lambda s: (s.unit.title, s.enrolment.trainee.display_name.casefold()),
    "progress": lambda s: (s.progress.percent, s.enrolment.trainee.display_name.casefold()),
    "outstanding": lambda s: (-s.outstanding, s.enrolment.trainee.display_name.casefold()),
    "last_evidence": lambda s: (s.last_evidence or datetime.date.min, s.enrolment.id),
}


def judgements_by_enrolment(session: so.Session, enrolment_ids: Sequence[int]) -> dict[int, list[Judgement]]:
    """Every judgement of the given enrolments, in one statement."""
    found: dict[int, list[Judgement]] = defaultdict(list)
    if not enrolment_ids:
        return found
    rows = session.execute(
        sa.select(EvidenceMapping.enrolment_id, EvidenceMapping.evidence_id, EvidenceMapping.target, EvidenceMapping.verdict, Evidence.context, Evidence.observed_on)
        .join(Evidence, Evidence.id == EvidenceMapping.evidence_id)
        .where(EvidenceMapping.enrolment_id.in_(enrolment_ids))
    )
    for r in rows:
        found[r.enrolment_id].append(Judgement(r.evidence_id, r.target, r.verdict.value if r.verdict else None, r.context.value, r.observed_on))
    return found


def enrolment_summaries(
    session: so.Session, user: User, search: str = "", status: str = "", unit_id: str = "", sort: str = "trainee"
) -> list[EnrolmentSummary]:
    """The enrolments a user may see, filtered and sorted, each with its progress."""
    query = (
        visible_enrolments(user)
        .join(Enrolment.trainee)
        .options(so.contains_eager(Enrolment.trainee), so.joinedload(Enrolment.unit_version), so.selectinload(Enrolment.assessors))
    )
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(sa.or_(sa.func.lower(User.display_name).like(pattern), sa.func.lower(User.username).like(pattern)))
    if status in {s.value for s in EnrolmentStatus}:
        query = query.where(Enrolment.status == EnrolmentStatus(status))
    enrolments = list(session.scalars(query).unique())
    if unit_id:
        enrolments = [e for e in enrolments if e.unit_version.unit_id == unit_id]
    judgements = judgements_by_enrolment(session, [e.id for e in enrolments])
    summaries = []
    for enrolment in enrolments:
        unit = unit_of(enrolment.unit_version)
        found = judgements.get(enrolment.id, [])
        last = max((j.observed_on for j in found), default=None)
        summaries.append(EnrolmentSummary(enrolment, unit, assess(unit, found), last))
    return sorted(summaries, key=SORTS.get(sort, SORTS["trainee"]))


@dataclass(frozen=True)
class HeatRow:
    """One trainee's enrolment in a cohort heat map."""

    enrolment: Enrolment
    progress: Progress
    last_evidence: datetime.date | None
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
    """Counts per status and, per unit, trainees × components: a fixed number of statements for any cohort size."""
    enrolments = list(
        session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.cohort_id == cohort_id)
            .join(Enrolment.trainee)
            .options(so.contains_eager(Enrolment.trainee), so.joinedload(Enrolment.unit_version))
            .order_by(User.display_name, Enrolment.id)
        ).unique()
    )
    counts = {status: 0 for status in EnrolmentStatus}
    judgements = judgements_by_enrolment(session, [e.id for e in enrolments])
    units: dict[int, UnitHeat] = {}
    limit = today - datetime.timedelta(days=stale_after_days)
    for enrolment in enrolments:
        counts[enrolment.status] += 1
        unit = unit_of(enrolment.unit_version)
        found = judgements.get(enrolment.id, [])
        last = max((j.observed_on for j in found), default=None)
        open_ = enrolment.status in (EnrolmentStatus.ACTIVE, EnrolmentStatus.READY_FOR_SIGN_OFF)
        stale = open_ and (last or enrolment.start_date) < limit
        heat = units.setdefault(enrolment.unit_version_id, UnitHeat(unit, []))
        heat.rows.append(HeatRow(enrolment, assess(unit, found), last, stale))
    return counts, sorted(units.values(), key=lambda h: h.unit.name)
