"""What retention reads: each piece of evidence with the enrolments it counts toward, and the legal holds in force."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.domain.retention import Assessment, Decision, Hold, Holding, Rule, decide
from assessor.models import Attachment, Enrolment, Evidence, EvidenceMapping, UnitVersion, User
from assessor.models.retention import LegalHold

BATCH = 1000


def holds_in_force(session: so.Session) -> list[Hold]:
    """Every legal hold not released."""
    query = sa.select(LegalHold.id, LegalHold.trainee_id, LegalHold.cohort_id, LegalHold.reason)
    return [Hold(*row) for row in session.execute(query.where(LegalHold.released_at.is_(None)).order_by(LegalHold.id))]


def _assessments(session: so.Session, trainee_ids: Sequence[int]) -> dict[int, list[Assessment]]:
    """Every enrolment of these trainees, by trainee: an enrolment moved to a newer version has the result of the one
    it moved to, so the evidence it leaves behind is kept while the trainee carries on."""
    columns = (Enrolment.id, Enrolment.trainee_id, Enrolment.status, Enrolment.start_date, Enrolment.end_date)
    query = (
        sa.select(*columns, Enrolment.transferred_to_id, Enrolment.cohort_id, UnitVersion.framework)
        .join(UnitVersion, UnitVersion.id == Enrolment.unit_version_id)
        .where(Enrolment.trainee_id.in_(trainee_ids))
    )
    rows = session.execute(query).all()
    results = {id: None if status.is_open else (end or start) for id, _, status, start, end, *_ in rows}
    moved_to = {id: to for id, *_, to, _, _ in rows if to is not None}
    found: dict[int, list[Assessment]] = defaultdict(list)
    for id, trainee_id, _, _, _, _, cohort_id, framework in rows:
        last = id
        for _ in range(len(moved_to)):  # a moved enrolment's result is the one it moved to (and on, when that moved)
            if last not in moved_to:
                break
            last = moved_to[last]
        found[trainee_id].append(Assessment(id, framework, results.get(last), cohort_id))
    return found


def holdings(session: so.Session, trainee_id: int | None = None) -> Iterator[Holding]:
    """Every piece of evidence whose content is not erased yet (one trainee's, when named), a thousand at a time."""
    query = sa.select(Evidence.id).where(Evidence.erased_on.is_(None)).order_by(Evidence.id)
    if trainee_id is not None:
        query = query.where(Evidence.trainee_id == trainee_id)
    ids = session.scalars(query).all()
    for start in range(0, len(ids), BATCH):
        yield from holdings_of(session, ids[start : start + BATCH])


def holdings_of(session: so.Session, evidence_ids: Sequence[int]) -> list[Holding]:
    """These pieces of evidence, for retention."""
    rows = session.execute(
        sa.select(Evidence.id, Evidence.trainee_id, User.username, Evidence.recorded_at)
        .join(User, User.id == Evidence.trainee_id)
        .where(Evidence.id.in_(evidence_ids))
        .order_by(Evidence.id)
    ).all()
    mapped: dict[int, set[int]] = defaultdict(set)
    for evidence_id, enrolment_id in session.execute(
        sa.select(EvidenceMapping.evidence_id, EvidenceMapping.enrolment_id).where(
            EvidenceMapping.evidence_id.in_(evidence_ids)
        )
    ):
        mapped[evidence_id].add(enrolment_id)
    files: dict[int, int] = {
        evidence_id: count
        for evidence_id, count in session.execute(
            sa.select(Attachment.evidence_id, sa.func.count())
            .where(Attachment.evidence_id.in_(evidence_ids), Attachment.erased_on.is_(None))
            .group_by(Attachment.evidence_id)
        )
    }
    enrolments = _assessments(session, sorted({row.trainee_id for row in rows}))
    found = []
    for id, trainee_id, username, recorded_at in rows:
        own = enrolments.get(trainee_id, [])
        counts_toward = [a for a in own if a.enrolment_id in mapped[id]] if mapped[id] else own
        found.append(Holding(id, trainee_id, username, recorded_at.date(), tuple(counts_toward), files.get(id, 0)))
    return found


@dataclass
class Plan:
    """What retention would do on `today`: erase `due`; `held` are past their time but on hold; `kept` the rest."""

    today: datetime.date
    legal: bool
    due: list[Decision] = field(default_factory=list)
    held: list[Decision] = field(default_factory=list)
    kept: list[Decision] = field(default_factory=list)


def plan(
    session: so.Session,
    rules: Mapping[str, Rule],
    today: datetime.date,
    trainee_id: int | None = None,
    legal: bool = False,
) -> Plan:
    """Every piece of evidence not erased yet (one trainee's, when named), sorted into due, held and kept."""
    holds = holds_in_force(session)
    found = Plan(today, legal)
    for holding in holdings(session, trainee_id):
        decision = decide(holding, rules, holds, legal)
        if not decision.past(today):
            found.kept.append(decision)
        elif decision.holds:
            found.held.append(decision)
        else:
            found.due.append(decision)
    return found
