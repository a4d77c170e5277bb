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
