"""How long assessment evidence is kept, and when its content falls due for erasure.

Each framework has a rule: the regulator's minimum (how long the law requires the evidence to be kept after the
result) and the organisation's own period, never shorter. Scheduled retention erases what is past the organisation's
period; a privacy request erases what is past the legal minimum. Either way nothing under a legal hold is erased, and
evidence still counting toward an open enrolment is kept whatever its age.

Erasure removes the content of evidence (its narrative and its attachments); the evidence summary a completion record
froze, the judgements and the completion records themselves are certification records and are never erased here.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_MONTHS = 1200  # a hundred years: anything longer is a typing mistake


@dataclass(frozen=True)
class Rule:
    """How long evidence assessed under a framework is kept after the result, in months."""

    framework: str
    months: int  # the organisation's period
    legal_months: int  # the regulator's minimum; a privacy request may erase after this
    basis: str  # where the minimum comes from, in words


# The regulators' minimums. ASQA (training.gov.au units): completed assessment items at least 6 months after the result
# (certification records 30 years: completion records are never erased). NZQA: assessment evidence at least 12 months.
# Other frameworks name no regulator here, so their minimum is the organisation's period.
DEFAULT_RULES: dict[str, Rule] = {
    "NZQA": Rule("NZQA", 12, 12, "NZQA: assessment evidence is kept at least 12 months"),
    "training.gov.au": Rule(
        "training.gov.au",
        6,
        6,
        "ASQA: completed assessment items are kept at least 6 months after the result",
    ),
    "other": Rule("other", 12, 12, "no regulator's minimum: the organisation's own period"),
}


def rules_with(months: Mapping[str, object]) -> dict[str, Rule]:
    """The default rules with the organisation's own periods (framework -> months); ValueError says what is wrong.

    A period shorter than a regulator's minimum is refused; for "other" the period is the minimum too."""
    rules = dict(DEFAULT_RULES)
    problems = []
    for framework, value in months.items():
        if framework not in rules:
            problems.append(f"{framework!r} is not a framework (use {', '.join(sorted(rules))})")
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_MONTHS:
            problems.append(f"{framework}: the period must be a whole number of months from 1 to {MAX_MONTHS}")
            continue
        rule = rules[framework]
        if framework == "other":
            rules[framework] = Rule(framework, value, value, rule.basis)
        elif value < rule.legal_months:
            problems.append(f"{framework}: {value} months is shorter than the minimum ({rule.basis})")
        else:
            rules[framework] = Rule(framework, value, rule.legal_months, rule.basis)
    if problems:
        raise ValueError("; ".join(problems))
    return rules


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day where it is shorter (31 January + 1 = 28 or 29 February)."""
    years, month = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Assessment:
    """An enrolment a piece of evidence counts toward: the framework of its unit, when its result was reached (None
    while it is still open) and the cohort it belongs to."""

    enrolment_id: int
    framework: str
    result_on: datetime.date | None
    cohort_id: int | None


@dataclass(frozen=True)
class Holding:
    """What retention needs to know of one piece of evidence.

    `assessments` are the enrolments it is mapped to; for evidence mapped to none, every enrolment of its trainee
    (it might yet be mapped to any of them)."""

    evidence_id: int
    trainee_id: int
    trainee: str
    recorded_on: datetime.date
    assessments: tuple[Assessment, ...]
    attachments: int


@dataclass(frozen=True)
class Hold:
    """A legal hold on a trainee's or a cohort's evidence."""

    id: int
    trainee_id: int | None
    cohort_id: int | None
    reason: str

    def covers(self, holding: Holding) -> bool:
        if self.trainee_id is not None:
            return self.trainee_id == holding.trainee_id
        return any(a.cohort_id == self.cohort_id for a in holding.assessments)


@dataclass(frozen=True)
class Decision:
    """When one piece of evidence may be erased, and why: `due_on` None while an enrolment it counts toward is open."""

    holding: Holding
    due_on: datetime.date | None
    rule: Rule | None
    result_on: datetime.date | None
    holds: tuple[Hold, ...]

    @property
    def open_enrolments(self) -> list[int]:
        return [a.enrolment_id for a in self.holding.assessments if a.result_on is None]

    def past(self, today: datetime.date) -> bool:
        """Past its time on `today` (erased then unless a hold covers it)."""
        return self.due_on is not None and self.due_on <= today

    def why(self, legal: bool = False) -> str:
        """The rule that decides, in words."""
        if self.due_on is None or self.rule is None or self.result_on is None:
            enrolments = ", ".join(str(i) for i in self.open_enrolments)
            return f"kept while enrolment {enrolments} is open"
        months = self.rule.legal_months if legal else self.rule.months
        kind = "the legal minimum" if legal else "the organisation's period"
        return (
            f"{self.rule.framework}: {months} months after the result on {self.result_on.isoformat()} "
            f"({kind}; {self.rule.basis})"
        )


def decide(holding: Holding, rules: Mapping[str, Rule], holds: Iterable[Hold], legal: bool = False) -> Decision:
    """When `holding` falls due: the latest of its enrolments' results plus their framework's period (the legal
    minimum for a privacy request); evidence that counts toward nothing, from the day it was recorded."""
    covering = tuple(h for h in holds if h.covers(holding))
    if any(a.result_on is None for a in holding.assessments):
        return Decision(holding, None, None, None, covering)
    best: tuple[datetime.date, Rule, datetime.date] | None = None
    for framework, result_on in [
        (a.framework, a.result_on) for a in holding.assessments if a.result_on is not None
    ] or [("other", holding.recorded_on)]:
        rule = rules.get(framework, rules["other"])
        due_on = add_months(result_on, rule.legal_months if legal else rule.months)
        if best is None or due_on > best[0]:
            best = (due_on, rule, result_on)
    assert best is not None
    return Decision(holding, best[0], best[1], best[2], covering)
