"""Quality assurance sampling: how large a sample must be, which enrolments a plan proposes, and whether a sample
meets its plan. Pure functions of plain facts; `quality` gathers the facts from the database.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from assessor.domain.vocabulary import Method, PlanBasis

# The confidence levels a validation plan may choose, as ASQA's calculator offers them.
CONFIDENCE_LEVELS = (90, 95, 99)
# How many samples of learner work a moderation plan takes of each standard unless it says otherwise: NZQA's
# long-standing eight (since 2022 schools send six, or four for achieved-only standards; the plan sets its own).
MODERATION_SAMPLES = 8
# The share of a new assessor's learners an assessor-rate plan samples.
NEW_ASSESSOR_PERCENT = 100


def validation_sample_size(population: int, confidence: int, margin: int) -> int:
    """ASQA's validation sample size: how many of `population` assessment judgements to validate for `confidence` per
    cent confidence within `margin` percentage points.

    Cochran's sample size for a proportion at its most demanding (p = 0.5), corrected for a finite population and
    rounded up, n = N z^2 p q / ((N - 1) e^2 + z^2 p q), with z from Odeh and Evans' approximation as ASQA's
    calculator computes it (so that the rare population where the exact z rounds the other way agrees too).
    """
    if population <= 0:
        return 0
    if confidence not in CONFIDENCE_LEVELS:
        raise ValueError(f"confidence must be one of {CONFIDENCE_LEVELS}")
    if not 1 <= margin <= 50:
        raise ValueError("margin must be between 1 and 50 percentage points")
    z = critical_normal(confidence / 100)
    spread = z * z * 50 * 50  # z^2 p q, in percentage points squared
    return math.ceil(population * spread / ((population - 1) * margin * margin + spread))


def critical_normal(confidence: float) -> float:
    """The two-sided critical value of the standard normal distribution for `confidence` (0.95 gives 1.95996...), by
    Odeh and Evans' rational approximation (Applied Statistics 23, 1974, algorithm AS 70)."""
    tail = (1 - confidence) / 2
    y = math.sqrt(-2 * math.log(tail))
    p = (-0.322232431088, -1.0, -0.342242088547, -0.0204231210245, -0.453642210148e-4)
    q = (0.0993484626060, 0.588581570495, 0.531103462366, 0.103537752850, 0.38560700634e-2)
    numerator = (((p[4] * y + p[3]) * y + p[2]) * y + p[1]) * y + p[0]
    denominator = (((q[4] * y + q[3]) * y + q[2]) * y + q[1]) * y + q[0]
    return y + numerator / denominator


def moderation_sample_size(population: int, per_standard: int = MODERATION_SAMPLES) -> int:
    """A moderation sample of one standard: `per_standard` samples of learner work, or all when there are fewer."""
    return min(per_standard, max(population, 0))


def share(count: int, percent: int) -> int:
    """`percent` per cent of `count`, rounded up: any share of a non-empty group samples at least one."""
    return math.ceil(count * percent / 100) if count > 0 and percent > 0 else 0


@dataclass(frozen=True)
class Candidate:
    """An enrolment a plan may sample: whose judgements, in which unit, by which methods."""

    enrolment_id: int
    unit: str  # the unit's key, e.g. "us_case_mgmt@1"
    assessors: frozenset[int]
    methods: frozenset[Method] = frozenset()


@dataclass(frozen=True)
class Plan:
    """What a plan asks of its sample."""

    basis: PlanBasis
    assessor_percent: int = 10  # ASSESSOR_RATE: of each assessor's learners
    unit_percent: int = 100  # ASSESSOR_RATE: of the units assessed, each sampled at least once
    confidence: int = 95  # VALIDATION
    margin: int = 15  # VALIDATION, in percentage points (ASQA's default error level)
    per_standard: int = MODERATION_SAMPLES  # MODERATION


@dataclass(frozen=True)
class Requirement:
    """How many samples a plan needs, per assessor, per unit, across units, and which methods it must cover."""

    assessors: Mapping[int, int]
    units: Mapping[str, int]
    units_to_cover: int  # how many distinct units need at least one sample
    methods: frozenset[Method]
    learners: Mapping[int, int]  # each assessor's candidates
    assessed: Mapping[str, int]  # each unit's candidates


def requirement(plan: Plan, candidates: Sequence[Candidate], new_assessors: Iterable[int] = ()) -> Requirement:
    """What the plan needs of a sample drawn from `candidates`; `new_assessors` are sampled at 100 %."""
    new = frozenset(new_assessors)
    learners: dict[int, int] = {}
    per_unit: dict[str, int] = {}
    for c in candidates:
        per_unit[c.unit] = per_unit.get(c.unit, 0) + 1
        for a in c.assessors:
            learners[a] = learners.get(a, 0) + 1
    methods = frozenset(m for c in candidates for m in c.methods)
    if plan.basis == PlanBasis.ASSESSOR_RATE:
        assessors = {
            a: share(n, NEW_ASSESSOR_PERCENT if a in new else plan.assessor_percent) for a, n in learners.items()
        }
        to_cover = share(len(per_unit), plan.unit_percent)
        return Requirement(assessors, dict.fromkeys(per_unit, 0), to_cover, methods, learners, per_unit)
    if plan.basis == PlanBasis.VALIDATION:
        units = {u: validation_sample_size(n, plan.confidence, plan.margin) for u, n in per_unit.items()}
    else:
        units = {u: moderation_sample_size(n, plan.per_standard) for u, n in per_unit.items()}
    return Requirement(dict.fromkeys(learners, 0), units, len(units), methods, learners, per_unit)


@dataclass(frozen=True)
class Pick:
    """An enrolment the plan proposes, and why."""

    enrolment_id: int
    reason: str


def propose(plan: Plan, candidates: Sequence[Candidate], seed: int, new_assessors: Iterable[int] = ()) -> list[Pick]:
    """The sample the plan proposes: the same every time for the same candidates and seed.

    Candidates are shuffled with the seed; each assessor's and each unit's share is then taken in that order, then one
    more for any unit still uncovered (as many as the plan asks) and for any assessment method no pick uses.
    """
    need = requirement(plan, candidates, new_assessors)
    order = sorted(candidates, key=lambda c: c.enrolment_id)
    random.Random(seed).shuffle(order)
    picked: dict[int, Pick] = {}
    by_assessor: dict[int, int] = {}
    by_unit: dict[str, int] = {}
    methods: set[Method] = set()

    def take(candidate: Candidate, reason: str) -> None:
        if candidate.enrolment_id in picked:
            return
        picked[candidate.enrolment_id] = Pick(candidate.enrolment_id, reason)
        for a in candidate.assessors:
            by_assessor[a] = by_assessor.get(a, 0) + 1
        by_unit[candidate.unit] = by_unit.get(candidate.unit, 0) + 1
        methods.update(candidate.methods)

    for assessor in sorted(need.assessors):
        for c in order:
            if by_assessor.get(assessor, 0) >= need.assessors[assessor]:
                break
            if assessor in c.assessors:
                take(c, "assessor")
    for unit in sorted(need.units):
        for c in order:
            if by_unit.get(unit, 0) >= need.units[unit]:
                break
            if c.unit == unit:
                take(c, "unit")
    first_of_unit: dict[str, Candidate] = {}
    for c in order:
        first_of_unit.setdefault(c.unit, c)
    for unit, candidate in first_of_unit.items():
        if len(by_unit) >= need.units_to_cover:
            break
        if unit not in by_unit:
            take(candidate, "unit")
    for method in sorted(need.methods):
        if method not in methods:
            take(next(c for c in order if method in c.methods), "method")
    return list(picked.values())


@dataclass(frozen=True)
class Coverage:
    """How far a sample meets its plan: have / need per assessor and per unit, units covered, methods covered."""

    assessors: Mapping[int, tuple[int, int]]
    units: Mapping[str, tuple[int, int]]
    units_covered: tuple[int, int]
    methods_missing: frozenset[Method]
    unmet: tuple[str, ...] = field(default=())

    @property
    def met(self) -> bool:
        return not self.unmet


def coverage(need: Requirement, sample: Sequence[Candidate]) -> Coverage:
    """Whether `sample` meets `need`, and where it falls short (each shortfall a code: `assessor:<id>`, `unit:<key>`,
    `units`, `method:<code>`)."""
    assessors = {a: (sum(a in c.assessors for c in sample), n) for a, n in need.assessors.items()}
    units = {u: (sum(c.unit == u for c in sample), n) for u, n in need.units.items()}
    covered = len({c.unit for c in sample if c.unit in need.units})
    missing = frozenset(m for m in need.methods if all(m not in c.methods for c in sample))
    unmet = (
        [f"assessor:{a}" for a, (have, n) in sorted(assessors.items()) if have < n]
        + [f"unit:{u}" for u, (have, n) in sorted(units.items()) if have < n]
        + (["units"] if covered < need.units_to_cover else [])
        + [f"method:{m.value}" for m in sorted(missing)]
    )
    return Coverage(assessors, units, (covered, need.units_to_cover), missing, tuple(unmet))
