"""Quality assurance as it is done: plan, propose and adjust a sample, confirm it, decide on what is sampled, have the
assessor act and confirm it, close the review; countersign or decline a sign-off. Each step audited."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import assessed_by, enrolment_facts, require
from assessor.core.database import flush_or_changed
from assessor.domain import limits, policy, sampling
from assessor.domain.errors import InvalidInput, NotReady
from assessor.domain.vocabulary import ActionState, Outcome, PlanBasis, ReviewState, Stage
from assessor.models import (
    CompletionRecord,
    CountersignRule,
    Enrolment,
    EvidenceMapping,
    ReviewDecision,
    SampleReview,
    SamplingPlan,
    User,
    utcnow,
)
from assessor.progress.queries import progress_of, sign_off_obstacles
from assessor.quality.queries import ADDED, candidates, new_assessors, rules_of
from assessor.records.operations import issue
from assessor.standards.queries import targets_of

# The longest period one plan covers: ASQA asks for every training product to be validated within five years.
LONGEST_PERIOD = datetime.timedelta(days=5 * 366)


@dataclass(frozen=True)
class PlanInput:
    """What a quality assurer says of a new plan."""

    name: str
    basis: PlanBasis
    stage: Stage
    period_from: datetime.date
    period_to: datetime.date
    assessor_percent: int = 10
    unit_percent: int = 100
    confidence: int = 95
    margin: int = 15
    per_standard: int = sampling.MODERATION_SAMPLES
    seed: int | None = None


def _plan_problems(data: PlanInput) -> dict[str, str]:
    problems = {}
    if not data.name.strip():
        problems["name"] = "Name the plan."
    problems |= limits.too_long({"name": (data.name.strip(), limits.NAME)})
    if data.period_to < data.period_from:
        problems["period_to"] = "The period ends before it starts."
    elif data.period_to - data.period_from > LONGEST_PERIOD:
        problems["period_to"] = "A plan covers at most five years."
    for field, value, low, high in (
        ("assessor_percent", data.assessor_percent, 1, 100),
        ("unit_percent", data.unit_percent, 1, 100),
        ("margin", data.margin, 1, 50),
        ("per_standard", data.per_standard, 1, 50),
    ):
        if not low <= value <= high:
            problems[field] = f"Give a whole number from {low} to {high}."
    if data.confidence not in sampling.CONFIDENCE_LEVELS:
        problems["confidence"] = "Choose 90, 95 or 99 per cent."
    if data.seed is not None and not 0 <= data.seed < 2**31:
        problems["seed"] = f"Give a whole number from 0 to {2**31 - 1:,}."
    return problems


def _plan_state(plan: SamplingPlan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "basis": plan.basis.value,
        "stage": plan.stage.value,
        "period": [plan.period_from.isoformat(), plan.period_to.isoformat()],
        "assessor_percent": plan.assessor_percent,
        "unit_percent": plan.unit_percent,
        "confidence": plan.confidence,
        "margin": plan.margin,
        "per_standard": plan.per_standard,
        "seed": plan.seed,
    }


def create_plan(session: so.Session, actor: User, data: PlanInput) -> SamplingPlan:
    """A new sampling plan; its seed makes its proposal reproducible (a random one unless given)."""
    require(policy.may_assure_quality(actor_of(actor)), "Only a quality assurer makes sampling plans.")
    if problems := _plan_problems(data):
        raise InvalidInput(problems)
    values = asdict(data) | {"name": data.name.strip()}
    values["seed"] = data.seed if data.seed is not None else secrets.randbelow(2**31)
    plan = SamplingPlan(**values, created_by=actor)
    session.add(plan)
    session.flush()
    audit.record(session, actor, "quality.plan", "sampling_plan", plan.id, None, _plan_state(plan))
    return plan


def _require_planner(actor: User) -> None:
    require(policy.may_assure_quality(actor_of(actor)), "Only a quality assurer adjusts a sample.")


def propose_sample(session: so.Session, actor: User, plan: SamplingPlan) -> list[SampleReview]:
    """Draw the plan's sample with its seed, replacing what an earlier proposal left (what was added by hand stays);
    before the sample is confirmed only."""
    _require_planner(actor)
    if plan.confirmed_at is not None:
        raise InvalidInput({"plan": "The sample is confirmed: add or take out enrolments one by one."})
    found = candidates(session, plan)
    picks = sampling.propose(rules_of(plan), found, plan.seed, new_assessors(session, plan, found))
    for review in list(plan.reviews):
        if review.reason != ADDED:
            _forget(session, review)
    session.flush()
    kept = {r.enrolment_id for r in plan.reviews}
    ids = [pick.enrolment_id for pick in picks]
    enrolments = {e.id: e for e in session.scalars(sa.select(Enrolment).where(Enrolment.id.in_(ids or [0])))}
    added = [
        SampleReview(
            plan=plan,
            enrolment=enrolments[pick.enrolment_id],
            stage=plan.stage,
            state=ReviewState.PROPOSED,
            reason=pick.reason,
            added_by_id=actor.id,
        )
        for pick in picks
        if pick.enrolment_id not in kept
    ]
    session.add_all(added)
    session.flush()
    after = {"seed": plan.seed, "enrolments": [p.enrolment_id for p in picks], "population": len(found)}
    audit.record(session, actor, "quality.propose", "sampling_plan", plan.id, None, after)
    return added


def add_to_sample(session: so.Session, actor: User, plan: SamplingPlan, enrolment_id: int) -> SampleReview:
    """Add one enrolment of the plan's population to its sample (under review at once once the sample is
    confirmed)."""
    _require_planner(actor)
    if enrolment_id not in {c.enrolment_id for c in candidates(session, plan)}:
        raise InvalidInput({"enrolment": "That enrolment was not assessed at this stage in the plan's period."})
    if any(r.enrolment_id == enrolment_id for r in plan.reviews):
        raise InvalidInput({"enrolment": "That enrolment is already in the sample."})
    state = ReviewState.PROPOSED if plan.confirmed_at is None else ReviewState.UNDER_REVIEW
    enrolment = session.get_one(Enrolment, enrolment_id)
    review = SampleReview(
        plan=plan,
        enrolment=enrolment,
        stage=plan.stage,
        state=state,
        reason=ADDED,
        added_by_id=actor.id,
    )
    session.add(review)
    session.flush()
    after = {"plan": plan.id, "enrolment": enrolment_id, "state": state.value}
    audit.record(session, actor, "quality.sample_add", "sample_review", review.id, None, after)
    return review


def remove_from_sample(session: so.Session, actor: User, review: SampleReview, reason: str) -> None:
    """Take an enrolment out of a sample, with the reason an auditor will ask for, while nothing has been decided on
    it."""
    if review.plan is None:
        raise InvalidInput({"review": "A countersignature is given or declined, never taken out."})
    _require_planner(actor)
    require(
        actor.id not in assessed_by(session, review.enrolment_id),
        "You assessed this enrolment: another quality assurer decides whether it stays in the sample.",
    )
    if review.decisions or review.state == ReviewState.CLOSED:
        raise InvalidInput({"review": "Decisions are recorded on this enrolment: it stays in the sample."})
    reason = _reason(reason, "Say why it is taken out of the sample.")
    before = {"plan": review.plan_id, "enrolment": review.enrolment_id, "state": review.state.value}
    audit.record(session, actor, "quality.sample_remove", "sample_review", review.id, before, {"reason": reason})
    _forget(session, review)
    session.flush()


def _reason(reason: str, when_missing: str) -> str:
    """A reason as given, trimmed; refused when missing (unless `when_missing` is empty) or too long."""
    reason = reason.strip()
    if not reason and when_missing:
        raise InvalidInput({"reason": when_missing})
    if problems := limits.too_long({"reason": (reason, limits.REASON)}):
        raise InvalidInput(problems)
    return reason


def _forget(session: so.Session, review: SampleReview) -> None:
    """Delete a review, and take it out of its plan's and its enrolment's lists at once."""
    if review.plan is not None:
        review.plan.reviews.remove(review)
    review.enrolment.reviews.remove(review)
    session.delete(review)


def confirm_sample(session: so.Session, actor: User, plan: SamplingPlan) -> None:
    """Confirm the sample: each enrolment in it is under review, its evidence and judgements locked."""
    _require_planner(actor)
    if plan.confirmed_at is not None:
        raise InvalidInput({"plan": "The sample is already confirmed."})
    if not plan.reviews:
        raise InvalidInput({"plan": "The sample is empty: propose one or add enrolments first."})
    plan.confirmed_at = utcnow()
    for review in plan.reviews:
        review.state = ReviewState.UNDER_REVIEW
    flush_or_changed(session, "sample")
    after = {"enrolments": [r.enrolment_id for r in plan.reviews]}
    audit.record(session, actor, "quality.confirm", "sampling_plan", plan.id, None, after)


def _require_reviewer(session: so.Session, actor: User, review: SampleReview) -> None:
    enrolment = review.enrolment
    require(
        policy.may_review(actor_of(actor), enrolment_facts(enrolment), assessed_by(session, enrolment.id)),
        "Only a quality assurer who did not assess this enrolment reviews it.",
    )


def _require_open(review: SampleReview) -> None:
    if not review.state.is_open:
        raise InvalidInput({"review": "This review is not open: the sample is not confirmed, or the review ended."})


@dataclass(frozen=True)
class DecisionInput:
    """A quality assurer's decision on one judgement (`target`) or one piece of evidence."""

    outcome: Outcome
    target: str = ""
    evidence_id: int | None = None
    reason: str = ""
    due_on: datetime.date | None = None


def _decision_state(d: ReviewDecision) -> dict[str, Any]:
    return {
        "review": d.review_id,
        "target": d.target,
        "evidence": d.evidence_id,
        "outcome": d.outcome.value,
        "reason": d.reason,
        "due_on": d.due_on.isoformat() if d.due_on else None,
        "action": d.action.value if d.action else None,
        "action_note": d.action_note,
        "sent_back_because": d.sent_back_because,
    }


def decide(
    session: so.Session, actor: User, review: SampleReview, data: DecisionInput, today: datetime.date
) -> ReviewDecision:
    """Record a decision: agree; the assessor to act (with a reason and a due date), which opens the enrolment to
    them until the action is confirmed; or disagree with the judgement (with a reason)."""
    _require_reviewer(session, actor, review)
    _require_open(review)
    target = data.target.strip()
    reason = data.reason.strip()
    problems: dict[str, str] = {}
    if bool(target) == (data.evidence_id is not None):
        problems["target"] = "Choose one criterion or evidence item, or one piece of evidence."
    elif target and target not in targets_of(review.enrolment.unit_version):
        problems["target"] = f"{target} is not a criterion or evidence item of this unit."
    elif data.evidence_id is not None and not session.scalar(
        sa.select(sa.func.count()).where(
            EvidenceMapping.evidence_id == data.evidence_id, EvidenceMapping.enrolment_id == review.enrolment_id
        )
    ):
        problems["evidence_id"] = "That evidence is not mapped to this enrolment."
    if data.outcome != Outcome.AGREE and not reason:
        problems["reason"] = "Say why."
    problems |= limits.too_long({"reason": (reason, limits.REASON)})
    if data.outcome == Outcome.ACT and data.due_on is None:
        problems["due_on"] = "Give the date the action is due."
    elif data.outcome == Outcome.ACT and data.due_on is not None and data.due_on < today:
        problems["due_on"] = "The due date has passed."
    if problems:
        raise InvalidInput(problems)
    twice = [
        d
        for d in review.decisions
        if (d.target or "", d.evidence_id, d.outcome, d.reason) == (target, data.evidence_id, data.outcome, reason)
    ]
    if twice:
        raise InvalidInput({"outcome": "This decision is already recorded."})
    decision = ReviewDecision(
        review=review,
        target=target or None,
        evidence_id=data.evidence_id,
        outcome=data.outcome,
        reason=reason,
        due_on=data.due_on if data.outcome == Outcome.ACT else None,
        decided_by_id=actor.id,
        action=ActionState.OPEN if data.outcome == Outcome.ACT else None,
    )
    session.add(decision)
    if data.outcome == Outcome.ACT:
        review.state = ReviewState.ACTIONS_OPEN
    flush_or_changed(session, "review")
    audit.record(session, actor, "quality.decide", "review_decision", decision.id, None, _decision_state(decision))
    return decision


def answer_action(session: so.Session, actor: User, decision: ReviewDecision, note: str) -> None:
    """The assessor says what they did about an action asked of them; the quality assurer is to confirm it."""
    require(
        policy.may_answer_review(actor_of(actor), enrolment_facts(decision.review.enrolment)),
        "Only an assessor of this enrolment answers the quality assurer.",
    )
    if decision.action != ActionState.OPEN:
        raise InvalidInput({"note": "This action is not waiting for you."})
    note = note.strip()
    if not note:
        raise InvalidInput({"note": "Say what you did."})
    if problems := limits.too_long({"note": (note, limits.REASON)}):
        raise InvalidInput(problems)
    before = _decision_state(decision)
    decision.action = ActionState.DONE
    decision.action_note = note
    decision.acted_by_id = actor.id
    decision.acted_at = utcnow()
    flush_or_changed(session, "action")
    audit.record(session, actor, "quality.act", "review_decision", decision.id, before, _decision_state(decision))


def confirm_action(session: so.Session, actor: User, decision: ReviewDecision, accepted: bool, reason: str) -> None:
    """The quality assurer confirms what the assessor did, or sends the action back with a reason. Once every action
    of the review is confirmed, the enrolment is locked again until the review ends."""
    review = decision.review
    _require_reviewer(session, actor, review)
    if decision.action != ActionState.DONE:
        raise InvalidInput({"action": "The assessor has not yet said what they did."})
    reason = _reason(reason, "" if accepted else "Say what is still to be done.")
    before = _decision_state(decision)
    if accepted:
        decision.action = ActionState.CONFIRMED
        decision.confirmed_by_id = actor.id
        decision.confirmed_at = utcnow()
    else:
        decision.action = ActionState.OPEN
        decision.sent_back_because = reason
    if all(d.action in (None, ActionState.CONFIRMED) for d in review.decisions):
        review.state = ReviewState.UNDER_REVIEW
    flush_or_changed(session, "action")
    action = "quality.confirm_action" if accepted else "quality.send_back"
    audit.record(session, actor, action, "review_decision", decision.id, before, _decision_state(decision))


def _close(session: so.Session, actor: User, review: SampleReview) -> dict[str, Any]:
    if any(d.action in (ActionState.OPEN, ActionState.DONE) for d in review.decisions):
        raise InvalidInput({"review": "An action asked of the assessor is not yet confirmed."})
    before = {"state": review.state.value}
    review.state = ReviewState.CLOSED
    review.closed_by_id = actor.id
    review.closed_at = utcnow()
    flush_or_changed(session, "review")
    return before


def close_review(session: so.Session, actor: User, review: SampleReview) -> None:
    """End the review of a sampled enrolment once its decisions are made and its actions confirmed; it unlocks."""
    _require_reviewer(session, actor, review)
    _require_open(review)
    if review.countersigning:
        raise InvalidInput({"review": "Countersign the sign-off, or decline it."})
    if not review.decisions:
        raise InvalidInput({"review": "Record at least one decision first."})
    before = _close(session, actor, review)
    audit.record(session, actor, "quality.close", "sample_review", review.id, before, {"state": review.state.value})


def countersign(session: so.Session, actor: User, review: SampleReview) -> CompletionRecord:
    """Countersign an assessor's sign-off: the completion record is issued, in the assessor's name and the quality
    assurer's, with the evidence as it stands."""
    _require_reviewer(session, actor, review)
    _require_open(review)
    if not review.countersigning or review.requested_by is None or review.signed_on is None:
        raise InvalidInput({"review": "Nobody asked for a countersignature here."})
    enrolment = review.enrolment
    if not policy.may_assess(actor_of(review.requested_by), enrolment_facts(enrolment)):
        raise InvalidInput({"review": "Whoever signed off no longer assesses this enrolment: decline, for another."})
    before = _close(session, actor, review)
    progress = progress_of(session, enrolment)
    if found := sign_off_obstacles(session, enrolment, progress):
        raise NotReady(found)
    record = issue(session, review.requested_by, enrolment, review.signed_on, progress, countersigned_by=actor)
    review.record_id = record.id
    flush_or_changed(session, "review")
    after = {"state": review.state.value, "record": record.id}
    audit.record(session, actor, "quality.countersign", "sample_review", review.id, before, after)
    return record


def decline_countersignature(session: so.Session, actor: User, review: SampleReview, reason: str) -> None:
    """Decline to countersign, with a reason for the assessor: no record is issued, and the enrolment is open again."""
    _require_reviewer(session, actor, review)
    _require_open(review)
    if not review.countersigning:
        raise InvalidInput({"review": "Nobody asked for a countersignature here."})
    reason = _reason(reason, "Say why, for the assessor.")
    before = _close(session, actor, review)
    review.declined_because = reason
    flush_or_changed(session, "review")
    after = {"state": review.state.value, "declined_because": reason}
    audit.record(session, actor, "quality.decline", "sample_review", review.id, before, after)


def set_countersigning(session: so.Session, actor: User, unit_ids: set[str]) -> None:
    """Which units (EVERY_UNIT for all) need a quality assurer's countersignature before a record is issued."""
    require(policy.may_set_countersigning(actor_of(actor)), "Only an administrator sets countersigning.")
    if problems := {u: "Unknown unit." for u in unit_ids if len(u) > 64 or not u}:
        raise InvalidInput(problems)
    rules = {r.unit_id: r for r in session.scalars(sa.select(CountersignRule))}
    before = sorted(rules)
    if set(rules) == unit_ids:
        return
    for unit_id, rule in rules.items():
        if unit_id not in unit_ids:
            session.delete(rule)
    session.add_all(CountersignRule(unit_id=u, set_by_id=actor.id) for u in sorted(unit_ids - set(rules)))
    session.flush()
    audit.record(
        session,
        actor,
        "quality.countersigning",
        "countersign_rule",
        "units",
        {"units": before},
        {"units": sorted(unit_ids)},
    )
