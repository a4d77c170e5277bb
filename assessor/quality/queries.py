"""What quality assurance reads: who and what a plan may sample, how far its sample meets it, who assessed an
enrolment, what waits for a quality assurer or an assessor, and the rows of the validation and moderation report."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.domain import sampling
from assessor.domain.vocabulary import OPEN_REVIEWS, ActionState, EnrolmentStatus, Method, Outcome, ReviewState, Stage
from assessor.models import (
    CompletionRecord,
    CountersignRule,
    Enrolment,
    Evidence,
    EvidenceMapping,
    ReviewDecision,
    Revocation,
    SampleReview,
    SamplingPlan,
    UnitVersion,
    User,
    enrolment_assessor,
)
from assessor.models.quality import EVERY_UNIT

# Why a review is in a sample, beyond the plan's own reasons (sampling.Pick.reason): added by hand, or a
# countersignature the assessor asked for.
ADDED = "added"
COUNTERSIGN = "countersign"
# Why an enrolment is in a sample, in words.
REASONS = {
    "assessor": "The assessor's share",
    "unit": "The unit's share",
    "method": "An assessment method",
    ADDED: "Added by the quality assurer",
    COUNTERSIGN: "Countersignature asked for",
}


def needs_countersignature(session: so.Session, unit_id: str) -> bool:
    """Whether a unit's completion records wait for a quality assurer's countersignature."""
    return (
        session.scalar(sa.select(sa.func.count()).where(CountersignRule.unit_id.in_([unit_id, EVERY_UNIT]))) or 0
    ) > 0


def countersigned_units(session: so.Session) -> set[str]:
    """The units (EVERY_UNIT among them, for all) whose records need countersigning."""
    return set(session.scalars(sa.select(CountersignRule.unit_id)))


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def _day_end(day: datetime.date) -> datetime.datetime:
    """The last moment of a day (never the next day's start, which 31 December 9999 does not have)."""
    return datetime.datetime.combine(day, datetime.time.max, tzinfo=datetime.UTC)


def candidates(session: so.Session, plan: SamplingPlan) -> list[sampling.Candidate]:
    """The enrolments the plan may sample: at the interim stage, those (not withdrawn) with judgements made in its
    period; at the summative stage, those signed off in its period and not revoked. Each with whoever judged or signed
    it and the methods of its judged evidence."""
    start, end = _day_start(plan.period_from), _day_end(plan.period_to)
    judged = (
        sa.select(EvidenceMapping.enrolment_id, EvidenceMapping.judged_by_id, Evidence.method, UnitVersion.unit_id)
        .join(Evidence, Evidence.id == EvidenceMapping.evidence_id)
        .join(Enrolment, Enrolment.id == EvidenceMapping.enrolment_id)
        .join(UnitVersion, UnitVersion.id == Enrolment.unit_version_id)
        .where(EvidenceMapping.judged_by_id.is_not(None))
        .distinct()
    )
    signers: dict[int, int] = {}
    if plan.stage == Stage.INTERIM:
        judged = judged.where(
            EvidenceMapping.judged_at >= start,
            EvidenceMapping.judged_at <= end,
            # A moved enrolment's judgements are sampled where they were carried to, once.
            Enrolment.status.notin_([EnrolmentStatus.WITHDRAWN, EnrolmentStatus.TRANSFERRED]),
        )
    else:
        signed = (
            sa.select(CompletionRecord.enrolment_id, CompletionRecord.assessor_id)
            .outerjoin(Revocation, Revocation.record_id == CompletionRecord.id)
            .where(
                CompletionRecord.signed_on >= plan.period_from,
                CompletionRecord.signed_on <= plan.period_to,
                Revocation.id.is_(None),
            )
        )
        signers = {enrolment_id: assessor_id for enrolment_id, assessor_id in session.execute(signed)}
        judged = judged.where(EvidenceMapping.enrolment_id.in_(signers or [0]))
    facts: dict[int, tuple[str, set[int], set[Method]]] = {}
    for enrolment_id, judge, method, unit_id in session.execute(judged):
        unit, judges, methods = facts.setdefault(enrolment_id, (unit_id, set(), set()))
        judges.add(judge or 0)  # never None: only judged mappings are read
        methods.add(method)
    for enrolment_id, assessor_id in signers.items():
        if enrolment_id in facts:
            facts[enrolment_id][1].add(assessor_id)
    return [
        sampling.Candidate(enrolment_id, unit, frozenset(judges), frozenset(methods))
        for enrolment_id, (unit, judges, methods) in sorted(facts.items())
    ]


def new_assessors(session: so.Session, plan: SamplingPlan, among: Sequence[sampling.Candidate]) -> set[int]:
    """The assessors among the candidates' whose first judgement was made in the plan's period (or later)."""
    ids = {a for c in among for a in c.assessors}
    if not ids:
        return set()
    first = (
        sa.select(EvidenceMapping.judged_by_id)
        .where(EvidenceMapping.judged_by_id.in_(ids))
        .group_by(EvidenceMapping.judged_by_id)
        .having(sa.func.min(EvidenceMapping.judged_at) >= _day_start(plan.period_from))
    )
    return set(session.scalars(first))


def rules_of(plan: SamplingPlan) -> sampling.Plan:
    return sampling.Plan(
        plan.basis, plan.assessor_percent, plan.unit_percent, plan.confidence, plan.margin, plan.per_standard
    )


@dataclass(frozen=True)
class PlanState:
    """A plan's population, what it needs, its sample, and how far the sample meets it, with the names to show."""

    candidates: list[sampling.Candidate]
    new_assessors: set[int]
    requirement: sampling.Requirement
    coverage: sampling.Coverage
    people: dict[int, User]
    units: dict[str, str]  # unit id to its title


def plan_state(session: so.Session, plan: SamplingPlan) -> PlanState:
    found = candidates(session, plan)
    new = new_assessors(session, plan, found)
    need = sampling.requirement(rules_of(plan), found, new)
    sampled = {r.enrolment_id for r in plan.reviews}
    cover = sampling.coverage(need, [c for c in found if c.enrolment_id in sampled])
    ids = {a for c in found for a in c.assessors}
    people = {u.id: u for u in session.scalars(sa.select(User).where(User.id.in_(ids or [0])))}
    titles = {
        unit_id: title
        for unit_id, title in session.execute(
            sa.select(UnitVersion.unit_id, UnitVersion.title)
            .where(UnitVersion.unit_id.in_({c.unit for c in found} or [""]))
            .order_by(UnitVersion.version)
        )
    }
    return PlanState(found, new, need, cover, people, titles)


def plans(session: so.Session) -> list[SamplingPlan]:
    """Every sampling plan, the latest first."""
    return list(
        session.scalars(
            sa.select(SamplingPlan)
            .options(so.selectinload(SamplingPlan.reviews), so.selectinload(SamplingPlan.created_by))
            .order_by(SamplingPlan.id.desc())
        )
    )


def reviews_of(session: so.Session, plan: SamplingPlan) -> list[SampleReview]:
    """A plan's sample with what its page shows of each."""
    return list(
        session.scalars(
            sa.select(SampleReview)
            .where(SampleReview.plan_id == plan.id)
            .options(
                so.selectinload(SampleReview.enrolment).selectinload(Enrolment.trainee),
                so.selectinload(SampleReview.enrolment).selectinload(Enrolment.unit_version),
                so.selectinload(SampleReview.enrolment).selectinload(Enrolment.assessors),
                so.selectinload(SampleReview.decisions),
            )
            .order_by(SampleReview.id)
        )
    )


def to_countersign() -> sa.Select[SampleReview]:
    """Countersignatures asked for and not yet given or declined."""
    return sa.select(SampleReview).where(SampleReview.plan_id.is_(None), SampleReview.state.in_(OPEN_REVIEWS))


def to_confirm() -> sa.Select[ReviewDecision]:
    """Actions the assessor says are done, for a quality assurer to confirm."""
    return sa.select(ReviewDecision).where(ReviewDecision.action == ActionState.DONE)


def actions_for(assessor: User) -> sa.Select[ReviewDecision]:
    """Actions a quality assurer asked of the assessors of enrolments `assessor` assesses, not yet done (the soonest
    due first)."""
    assigned = sa.select(enrolment_assessor.c.enrolment_id).where(enrolment_assessor.c.user_id == assessor.id)
    return (
        sa.select(ReviewDecision)
        .join(SampleReview, SampleReview.id == ReviewDecision.review_id)
        .where(ReviewDecision.action == ActionState.OPEN, SampleReview.enrolment_id.in_(assigned))
    )


def reviews_of_enrolment(session: so.Session, enrolment_id: int) -> list[SampleReview]:
    """An enrolment's reviews with their decisions, the latest first, for its page."""
    return list(
        session.scalars(
            sa.select(SampleReview)
            .where(SampleReview.enrolment_id == enrolment_id)
            .options(
                so.selectinload(SampleReview.plan),
                so.selectinload(SampleReview.decisions).selectinload(ReviewDecision.decided_by),
            )
            .order_by(SampleReview.id.desc())
        )
    )


def outcome_of(review: SampleReview) -> str:
    """A review's result in a word: disagreed, action, agreed; countersigned or declined; or pending."""
    if review.countersigning and review.state == ReviewState.CLOSED:
        return "countersigned" if review.record_id else "declined"
    outcomes = {d.outcome for d in review.decisions}
    if Outcome.DISAGREE in outcomes:
        return "disagreed"
    if Outcome.ACT in outcomes:
        return "action"
    return "agreed" if outcomes else "pending"


@dataclass(frozen=True)
class ReportFilter:
    """Which reviews a report covers: sampled in a period, optionally of one unit and one assessor."""

    period_from: datetime.date
    period_to: datetime.date
    unit_id: str = ""
    assessor_id: int | None = None


def report_reviews(session: so.Session, wanted: ReportFilter) -> list[SampleReview]:
    """The reviews a report covers, with everything it shows loaded."""
    query = (
        sa.select(SampleReview)
        .join(Enrolment, Enrolment.id == SampleReview.enrolment_id)
        .join(UnitVersion, UnitVersion.id == Enrolment.unit_version_id)
        .where(
            SampleReview.added_at >= _day_start(wanted.period_from),
            SampleReview.added_at <= _day_end(wanted.period_to),
        )
        .options(
            so.selectinload(SampleReview.plan),
            so.selectinload(SampleReview.enrolment).selectinload(Enrolment.trainee),
            so.selectinload(SampleReview.enrolment).selectinload(Enrolment.unit_version),
            so.selectinload(SampleReview.enrolment).selectinload(Enrolment.assessors),
            so.selectinload(SampleReview.decisions).selectinload(ReviewDecision.decided_by),
            so.selectinload(SampleReview.decisions).selectinload(ReviewDecision.acted_by),
        )
        .order_by(SampleReview.id)
    )
    if wanted.unit_id:
        query = query.where(UnitVersion.unit_id == wanted.unit_id)
    if wanted.assessor_id is not None:
        query = query.where(
            Enrolment.id.in_(
                sa.select(enrolment_assessor.c.enrolment_id).where(enrolment_assessor.c.user_id == wanted.assessor_id)
            )
        )
    return list(session.scalars(query))
