"""Sign-off rules: what stands in the way of signing off a unit, and the snapshot a completion record keeps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from assessor.domain.progress import Progress, TargetStatus
from assessor.domain.vocabulary import EnrolmentStatus, TargetKind

if TYPE_CHECKING:  # only for annotations: this module stays standard library only
    from assessor.domain.standards import Unit


class Reason(StrEnum):
    """Why a unit cannot be signed off yet."""

    CRITERION_NOT_MET = "criterion_not_met"
    ITEM_NOT_MET = "item_not_met"
    TOO_FEW_OCCASIONS = "too_few_occasions"
    CONTEXT_NOT_ACCEPTED = "context_not_accepted"
    NOT_ACTIVE = "not_active"
    UNDER_REVIEW = "under_review"  # a quality assurer is reviewing it
    AWAITING_COUNTERSIGNATURE = "awaiting_countersignature"  # signed off, for a quality assurer to countersign
    PREREQUISITE_NOT_HELD = "prerequisite_not_held"  # the trainee holds no record of a unit this one requires
    TOO_FEW_DIFFERENT = "too_few_different"  # occasions must differ in a dimension; too few different values
    QUOTA_NOT_MET = "quota_not_met"  # too few of the different values are of a kind the quota counts
    HOURS_NOT_VERIFIED = "hours_not_verified"  # fewer verified hours in the logbook than the unit asks (in minutes)


@dataclass(frozen=True)
class Obstacle:
    """One reason sign-off is not possible, as a code and data; the web layer words it."""

    reason: Reason
    target: str | None = None
    evidence_ids: tuple[int, ...] = ()
    have: int = 0
    need: int = 0
    detail: str | None = None  # the dimension's label, or the kind a quota counts


def target_obstacles(target: TargetStatus) -> tuple[Obstacle, ...]:
    """Why one unsatisfied criterion or item is not met: too few occasions or not met, then discounted evidence.

    TOO_FEW_OCCASIONS (TOO_FEW_DIFFERENT where occasions must differ, QUOTA_NOT_MET where enough differ but too few
    are of a kind) names the supporting evidence, CONTEXT_NOT_ACCEPTED the discounted evidence, and
    CRITERION_NOT_MET / ITEM_NOT_MET every piece mapped (awaiting judgement or judged not yet).
    """
    have, need = target.satisfied_occasions, target.needed
    short = [q for q in target.quotas if q.have < q.need]
    if target.dimension and 0 < have < need:
        found = [Obstacle(Reason.TOO_FEW_DIFFERENT, target.target, target.supporting, have, need, target.dimension)]
    elif 0 < have < need:
        found = [Obstacle(Reason.TOO_FEW_OCCASIONS, target.target, target.supporting, have, need)]
    elif have >= need and short:
        found = [
            Obstacle(Reason.QUOTA_NOT_MET, target.target, target.supporting, q.have, q.need, q.kind) for q in short
        ]
    else:
        not_met = Reason.CRITERION_NOT_MET if target.kind == TargetKind.CRITERION else Reason.ITEM_NOT_MET
        found = [Obstacle(not_met, target.target, target.evidence_ids, have, need)]
    if target.discounted:
        found.append(Obstacle(Reason.CONTEXT_NOT_ACCEPTED, target.target, target.discounted, have, need))
    return tuple(found)


def obstacles(
    unit: Unit,
    progress: Progress,
    enrolment_status: EnrolmentStatus,
    not_held: Iterable[str] = (),
    verified_minutes: int = 0,
) -> tuple[Obstacle, ...]:
    """Every reason the enrolment cannot be signed off, in unit order; empty when it can. `not_held` names the unit's
    prerequisites the trainee holds no record of; `verified_minutes` is what its logbook holds, verified."""
    found: list[Obstacle] = []
    if not enrolment_status.is_open:
        found.append(Obstacle(Reason.NOT_ACTIVE))
    else:
        found.extend(Obstacle(Reason.PREREQUISITE_NOT_HELD, unit_code) for unit_code in not_held)
        if unit.logbook and verified_minutes < unit.logbook.hours * 60:
            needed = unit.logbook.hours * 60
            found.append(Obstacle(Reason.HOURS_NOT_VERIFIED, None, (), verified_minutes, needed, unit.logbook.context))
    for target in progress.outstanding:
        found.extend(target_obstacles(target))
    return tuple(found)


def supporting_snapshot(unit: Unit, progress: Progress) -> dict[str, Any]:
    """The frozen record of the accepted, satisfied evidence behind each criterion and item, in the unit's words."""

    def supporting(target: str) -> list[int]:
        return list(progress.targets[target].supporting)

    criteria = [{"number": c.number, "text": c.text, "evidence_ids": supporting(c.number)} for c in unit.criteria()]
    items = [{"id": i.id, "text": i.text, "evidence_ids": supporting(i.id)} for i in unit.assessable_items()]
    return {"unit": unit.key, "source_sha256": unit.source_sha256, "criteria": criteria, "items": items}
