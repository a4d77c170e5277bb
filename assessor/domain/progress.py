"""Where one enrolment stands: the status of every criterion and evidence item, from its judgements."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assessor.domain.vocabulary import Status, TargetKind, Verdict

if TYPE_CHECKING:  # only for annotations: the domain stays free of the web and the database
    from assessor.domain.standards import Criterion, EvidenceItem, Unit


@dataclass(frozen=True)
class Judgement:
    """One piece of evidence mapped to one criterion or item, with the assessor's judgement (None until judged)."""

    evidence_id: int
    target: str
    judgement: Verdict | None
    context: str
    observed_on: datetime.date
    # The evidence's value of each dimension it names (the person supported...), with that value's kinds.
    values: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def value_of(self, dimension: str) -> tuple[str, tuple[str, ...]] | None:
        """The evidence's value of one dimension and its kinds, if it names one."""
        return next(((value, kinds) for d, value, kinds in self.values if d == dimension), None)


def values_of(stored: dict[str, Any] | None) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """A piece of evidence's stored dimension values ({dimension: {"value": ..., "kinds": [...]}}) as a Judgement
    keeps them."""
    return tuple((d, v["value"], tuple(v.get("kinds") or ())) for d, v in sorted((stored or {}).items()))


@dataclass(frozen=True)
class QuotaCount:
    """How many different values of a kind a target's occasions have, of how many it needs."""

    kind: str
    have: int
    need: int


@dataclass(frozen=True)
class TargetStatus:
    """The status of one criterion or assessable evidence item, and the evidence behind it."""

    target: str
    kind: TargetKind
    status: Status
    satisfied_occasions: int
    needed: int
    evidence_ids: tuple[int, ...]
    discounted: tuple[int, ...]
    last_observed: datetime.date | None
    supporting: tuple[int, ...] = ()
    dimension: str | None = None  # the label of what its occasions must differ in, where they must
    values: tuple[str, ...] = ()  # the different values its supporting evidence has, as first written
    quotas: tuple[QuotaCount, ...] = ()

    @property
    def quotas_met(self) -> bool:
        return all(q.have >= q.need for q in self.quotas)


@dataclass(frozen=True)
class ComponentProgress:
    """How many criteria of one component (outcome or element) are satisfied."""

    number: str
    title: str
    satisfied: int
    total: int

    @property
    def percent(self) -> int:
        """Share of the component's criteria satisfied, rounded down (100 when it has none)."""
        return 100 * self.satisfied // self.total if self.total else 100


@dataclass(frozen=True)
class Counts:
    """How many criteria and items are satisfied, overall and per component."""

    components: tuple[ComponentProgress, ...]
    criteria_satisfied: int
    criteria_total: int
    items_satisfied: int
    items_total: int

    @property
    def satisfied(self) -> int:
        """Criteria and items satisfied."""
        return self.criteria_satisfied + self.items_satisfied

    @property
    def total(self) -> int:
        """Criteria and items to satisfy."""
        return self.criteria_total + self.items_total

    @property
    def percent(self) -> int:
        """Whole per cent satisfied, rounded down so 100 means everything is met."""
        return 100 if self.total == 0 else 100 * self.satisfied // self.total


# One letter per status, for keeping every target's status of an enrolment in a short string.
STATUS_LETTERS = {
    Status.NOT_STARTED: "-",
    Status.EVIDENCE_RECORDED: "e",
    Status.SATISFIED: "s",
    Status.NOT_YET_SATISFIED: "n",
}
STATUS_OF_LETTER = {letter: status for status, letter in STATUS_LETTERS.items()}


@dataclass(frozen=True)
class Tally(Counts):
    """The counts of an enrolment, the status of each target and the date of its latest evidence: what lists, heat
    maps and spreadsheets show, small enough to keep."""

    last_evidence: datetime.date | None
    letters: str  # STATUS_LETTERS of every criterion, then every assessable item, in unit order

    @property
    def outstanding(self) -> int:
        """How many criteria and items are not yet met."""
        return self.total - self.satisfied

    def statuses(self) -> list[Status]:
        """The status of every criterion, then every assessable item, in unit order."""
        return [STATUS_OF_LETTER[letter] for letter in self.letters]

    def to_json(self) -> dict[str, Any]:
        return {
            "components": [[c.number, c.title, c.satisfied, c.total] for c in self.components],
            "criteria": [self.criteria_satisfied, self.criteria_total],
            "items": [self.items_satisfied, self.items_total],
            "last_evidence": self.last_evidence.isoformat() if self.last_evidence else None,
            "statuses": self.letters,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        last = data["last_evidence"]
        return cls(
            components=tuple(ComponentProgress(*c) for c in data["components"]),
            criteria_satisfied=data["criteria"][0],
            criteria_total=data["criteria"][1],
            items_satisfied=data["items"][0],
            items_total=data["items"][1],
            last_evidence=datetime.date.fromisoformat(last) if last else None,
            letters=data["statuses"],
        )


@dataclass(frozen=True)
class Progress(Counts):
    """Every criterion and assessable item of one enrolment, in unit order, with the counts."""

    targets: dict[str, TargetStatus]
    headings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # heading id -> ids of the items under it

    def tally(self) -> Tally:
        """The counts, the status of each target, and the latest date any evidence mapped to this enrolment was
        observed."""
        last = max((t.last_observed for t in self.targets.values() if t.last_observed), default=None)
        letters = "".join(STATUS_LETTERS[t.status] for t in self.targets.values())
        return Tally(
            self.components,
            self.criteria_satisfied,
            self.criteria_total,
            self.items_satisfied,
            self.items_total,
            last,
            letters,
        )

    @property
    def outstanding(self) -> tuple[TargetStatus, ...]:
        """Criteria and items not yet satisfied, in unit order."""
        return tuple(t for t in self.targets.values() if t.status is not Status.SATISFIED)

    def heading_status(self, item_id: str) -> Status:
        """The status of an evidence item with nested items, from the items under it."""
        if item_id in self.targets:
            return self.targets[item_id].status
        statuses = {self.targets[leaf].status for leaf in self.headings[item_id]}
        if statuses <= {Status.SATISFIED}:
            return Status.SATISFIED
        if statuses == {Status.NOT_STARTED}:
            return Status.NOT_STARTED
        if Status.NOT_YET_SATISFIED in statuses:
            return Status.NOT_YET_SATISFIED
        return Status.EVIDENCE_RECORDED


def status_of(satisfied_occasions: int, needed: int, not_yet: bool, discounted: bool, mapped: bool) -> Status:
    """The status rule, first match wins.

    | satisfied occasions >= needed                                          | SATISFIED         |
    | any "not yet", or judged satisfied but too few occasions or discounted | NOT_YET_SATISFIED |
    | evidence mapped, none of it judged                                     | EVIDENCE_RECORDED |
    | nothing mapped                                                         | NOT_STARTED       |
    """
    if satisfied_occasions >= needed:
        return Status.SATISFIED
    if not_yet or satisfied_occasions > 0 or discounted:
        return Status.NOT_YET_SATISFIED
    if mapped:
        return Status.EVIDENCE_RECORDED
    return Status.NOT_STARTED


def target_status(
    unit: Unit, target: str, kind: TargetKind, requirement: Criterion | EvidenceItem, judgements: list[Judgement]
) -> TargetStatus:
    """The status of one criterion or item from the judgements recorded against it."""
    # A set of evidence ids, so the same evidence judged satisfied twice is still one occasion.
    satisfied = [j for j in judgements if j.judgement == Verdict.SATISFIED]
    accepted = [j for j in satisfied if unit.rules.accepts(j.context)]
    supporting = {j.evidence_id for j in accepted}
    discounted = {j.evidence_id for j in satisfied if not unit.rules.accepts(j.context)}
    not_yet = any(j.judgement == Verdict.NOT_YET for j in judgements)
    needed = unit.occasions_for(requirement)
    occasions, label = len(supporting), None
    values: tuple[str, ...] = ()
    quotas: tuple[QuotaCount, ...] = ()
    if requirement.distinct:
        # Occasions count once per different value (ignoring case and spacing); a value's kinds add up over them.
        found: dict[str, tuple[str, set[str]]] = {}
        for j in sorted(accepted, key=lambda j: (j.observed_on, j.evidence_id)):
            if named := j.value_of(requirement.distinct):
                first, kinds = found.setdefault(" ".join(named[0].casefold().split()), (named[0], set()))
                kinds.update(named[1])
        occasions, label = len(found), unit.dimension(requirement.distinct).label
        values = tuple(first for first, _ in found.values())
        quotas = tuple(
            QuotaCount(q.kind, sum(q.kind in kinds for _, kinds in found.values()), q.at_least)
            for q in requirement.quota
        )
    met = all(q.have >= q.need for q in quotas)
    status = status_of(
        occasions if met else min(occasions, needed - 1), needed, not_yet, bool(discounted), bool(judgements)
    )
    return TargetStatus(
        target=target,
        kind=kind,
        status=status,
        satisfied_occasions=occasions,
        needed=needed,
        evidence_ids=tuple(sorted({j.evidence_id for j in judgements})),
        discounted=tuple(sorted(discounted)),
        last_observed=max((j.observed_on for j in judgements), default=None),
        supporting=tuple(sorted(supporting)),
        dimension=label,
        values=values,
        quotas=quotas,
    )


def assess(unit: Unit, judgements: Iterable[Judgement]) -> Progress:
    """The progress of one enrolment in a unit; judgements naming targets the unit does not have are ignored."""
    requirements: dict[str, tuple[TargetKind, Criterion | EvidenceItem]] = {}
    requirements |= {c.number: (TargetKind.CRITERION, c) for c in unit.criteria()}
    requirements |= {i.id: (TargetKind.ITEM, i) for i in unit.assessable_items()}
    by_target: dict[str, list[Judgement]] = {target: [] for target in requirements}
    for judgement in judgements:
        if judgement.target in by_target:
            by_target[judgement.target].append(judgement)
    targets = {
        target: target_status(unit, target, kind, requirement, by_target[target])
        for target, (kind, requirement) in requirements.items()
    }
    met = {target for target, t in targets.items() if t.status is Status.SATISFIED}
    components = tuple(
        ComponentProgress(c.number, c.title, sum(k.number in met for k in c.criteria), len(c.criteria))
        for c in unit.components
    )
    criteria = [t for t in targets.values() if t.kind == TargetKind.CRITERION]
    items = [t for t in targets.values() if t.kind == TargetKind.ITEM]
    headings = {i.id: tuple(leaf.id for leaf in i.walk() if not leaf.items) for i in unit.evidence_items() if i.items}
    return Progress(
        targets=targets,
        components=components,
        criteria_satisfied=sum(t.status is Status.SATISFIED for t in criteria),
        criteria_total=len(criteria),
        items_satisfied=sum(t.status is Status.SATISFIED for t in items),
        items_total=len(items),
        headings=headings,
    )
