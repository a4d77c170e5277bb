"""What carries over when an open enrolment moves to a newer version of its unit, or to the unit that supersedes it.

A criterion or evidence item carries (its evidence and judgements copied to the new enrolment) when the newer unit's
mapping table says it is unchanged, or, where the table is silent, when the newer unit has one with the same number
and the same words. A changed or new one is assessed afresh. Nothing is lost: the earlier enrolment keeps everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from assessor.domain.vocabulary import TargetKind

if TYPE_CHECKING:  # only for annotations: the domain stays free of the web and the database
    from assessor.domain.standards import Criterion, EvidenceItem, Supersedes, Unit


class Carry(StrEnum):
    """What happens to one criterion or item of the newer unit."""

    CARRIED = "carried"  # the same in both: its evidence and judgements are copied
    CHANGED = "changed"  # reworded or re-scoped: assessed afresh
    NEW = "new"  # not in the earlier unit


@dataclass(frozen=True)
class TargetPlan:
    """One criterion or item of the newer unit: what happens to it, and what it was in the earlier unit."""

    target: str
    kind: TargetKind
    carry: Carry
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Plan:
    """Every criterion and item of the newer unit in order, and the earlier unit's whose evidence stays behind."""

    targets: tuple[TargetPlan, ...]
    left_behind: tuple[str, ...]
    mapping: Supersedes | None

    def carried(self) -> list[tuple[str, str]]:
        """(earlier number, newer number) of everything that carries."""
        return [(t.source, t.target) for t in self.targets if t.carry is Carry.CARRIED and t.source is not None]


def follows(newer: Unit, earlier: Unit) -> bool:
    """Whether an enrolment in `earlier` may move to `newer`: a later version of the same unit, or a unit whose
    mapping table says it supersedes it."""
    if newer.id == earlier.id:
        return newer.version > earlier.version
    return newer.mapping_from(earlier) is not None


def plan(earlier: Unit, newer: Unit) -> Plan:
    """What carries from an enrolment in `earlier` to one in `newer`."""
    mapping = newer.mapping_from(earlier)
    said = {m.target: m for m in mapping.criteria if m.target is not None} if mapping else {}
    before = earlier.targets()
    criteria = {c.number for c in newer.criteria()}
    targets = []
    for number, requirement in newer.targets().items():
        kind = TargetKind.CRITERION if number in criteria else TargetKind.ITEM
        if number in said:
            entry = said[number]
            if entry.change == "unchanged" and entry.source in before:
                targets.append(TargetPlan(number, kind, Carry.CARRIED, entry.source, entry.note))
            elif entry.change == "unchanged":
                note = f"the mapping names {entry.source}, which the earlier unit does not have"
                targets.append(TargetPlan(number, kind, Carry.NEW, None, note))
            else:
                carry = Carry.CHANGED if entry.change == "changed" else Carry.NEW
                targets.append(TargetPlan(number, kind, carry, entry.source, entry.note))
        elif number in before and _same(before[number], requirement):
            targets.append(TargetPlan(number, kind, Carry.CARRIED, number))
        elif number in before:
            targets.append(TargetPlan(number, kind, Carry.CHANGED, number, "its words changed"))
        else:
            targets.append(TargetPlan(number, kind, Carry.NEW))
    carried = {t.source for t in targets if t.carry is Carry.CARRIED}
    return Plan(tuple(targets), tuple(n for n in before if n not in carried), mapping)


def _same(earlier: Criterion | EvidenceItem, newer: Criterion | EvidenceItem) -> bool:
    """The same kind of requirement in the same words (and, for a criterion, the same range)."""
    return (
        type(earlier) is type(newer)
        and earlier.text == newer.text
        and getattr(earlier, "range", ()) == getattr(newer, "range", ())
    )
