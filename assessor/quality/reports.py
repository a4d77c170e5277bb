"""The validation and moderation report: the reviews of a period with their decisions, actions and outcomes, summed
per assessor and per unit, as a printable page and as a workbook."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from assessor.core.labels import label
from assessor.models import ReviewDecision, SampleReview
from assessor.quality.queries import ReportFilter, outcome_of
from assessor.transfer.workbook import Column, Sheet, write_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A review's result (queries.outcome_of) in words.
RESULT = {
    "pending": "No decision yet",
    "agreed": "Agreed",
    "action": "Assessor acted",
    "disagreed": "Disagreed",
    "countersigned": "Countersigned",
    "declined": "Countersignature declined",
}


@dataclass
class Tally:
    """Reviews of one assessor or unit, by outcome."""

    name: str
    sampled: int = 0
    agreed: int = 0
    actions: int = 0
    disagreed: int = 0
    open: int = 0

    def counts(self) -> list[int]:
        return [self.sampled, self.agreed, self.actions, self.disagreed, self.open]


@dataclass(frozen=True)
class Summary:
    assessors: list[Tally]
    units: list[Tally]


def summary(reviews: Sequence[SampleReview]) -> Summary:
    """Each assessor's and each unit's reviews, by outcome (people by their account, so namesakes stay apart)."""
    assessors: dict[int, Tally] = {}
    units: dict[str, Tally] = {}
    for review in reviews:
        outcome = outcome_of(review)
        unit = review.enrolment.unit_version
        tallies = [assessors.setdefault(a.id, Tally(a.display_name)) for a in review.enrolment.assessors]
        for tally in [*tallies, units.setdefault(unit.unit_id, Tally(unit.title))]:
            tally.sampled += 1
            tally.agreed += outcome in ("agreed", "countersigned")
            tally.actions += outcome == "action"
            tally.disagreed += outcome in ("disagreed", "declined")
            tally.open += review.state.is_open
    return Summary(_by_name(assessors.values()), _by_name(units.values()))


def _by_name(tallies: Iterable[Tally]) -> list[Tally]:
    return sorted(tallies, key=lambda t: t.name)


def where_from(review: SampleReview) -> str:
    """The plan a review belongs to, or that it is a countersignature."""
    return review.plan.name if review.plan else "Countersignature"


def decision_about(decision: ReviewDecision) -> str:
    return decision.target or f"Evidence #{decision.evidence_id}"


def workbook(reviews: Sequence[SampleReview], wanted: ReportFilter) -> io.BytesIO:
    """The report as a workbook: the sample, every decision, and the summaries."""
    out = io.BytesIO()
    tallies = summary(reviews)
    tally_columns = [
        Column("Sampled", 10, "int"),
        Column("Agreed", 10, "int"),
        Column("Actions", 10, "int"),
        Column("Disagreed", 10, "int"),
        Column("Still under review", 12, "int"),
    ]
    write_workbook(
        [
            Sheet(
                "Sample",
                [
                    Column("Review", 8, "int"),
                    Column("Plan", 28),
                    Column("Stage", 10),
                    Column("Trainee", 24),
                    Column("Unit", 36),
                    Column("Assessors", 24),
                    Column("Sampled", 18, "datetime"),
                    Column("State", 14),
                    Column("Outcome", 14),
                    Column("Closed", 18, "datetime"),
                ],
                _sample_rows(reviews),
            ),
            Sheet(
                "Decisions",
                [
                    Column("Review", 8, "int"),
                    Column("Trainee", 24),
                    Column("Unit", 36),
                    Column("About", 12),
                    Column("Decision", 16),
                    Column("Reason", 40),
                    Column("Due", 12, "date"),
                    Column("Decided by", 20),
                    Column("Decided", 18, "datetime"),
                    Column("Action", 16),
                    Column("What the assessor did", 40),
                    Column("Acted", 18, "datetime"),
                ],
                _decision_rows(reviews),
            ),
            Sheet(
                "By assessor",
                [Column("Assessor", 28), *tally_columns],
                ([t.name, *t.counts()] for t in tallies.assessors),
            ),
            Sheet(
                "By unit",
                [Column("Unit", 40), *tally_columns],
                ([t.name, *t.counts()] for t in tallies.units),
            ),
            Sheet(
                "About",
                [Column("", 20), Column("", 40)],
                [
                    ["Period from", wanted.period_from.isoformat()],
                    ["Period to", wanted.period_to.isoformat()],
                    ["Unit", wanted.unit_id or "Every unit"],
                    ["Reviews", str(len(reviews))],
                ],
            ),
        ],
        out,
    )
    out.seek(0)
    return out


def _sample_rows(reviews: Sequence[SampleReview]) -> Iterator[list[object]]:
    for r in reviews:
        yield [
            r.id,
            where_from(r),
            label(r.stage),
            r.enrolment.trainee.display_name,
            r.enrolment.unit_version.title,
            ", ".join(a.display_name for a in r.enrolment.assessors),
            r.added_at,
            label(r.state),
            RESULT[outcome_of(r)],
            r.closed_at,
        ]


def _decision_rows(reviews: Sequence[SampleReview]) -> Iterator[list[object]]:
    for r in reviews:
        for d in r.decisions:
            yield [
                r.id,
                r.enrolment.trainee.display_name,
                r.enrolment.unit_version.title,
                decision_about(d),
                label(d.outcome),
                d.reason,
                d.due_on,
                d.decided_by.display_name,
                d.decided_at,
                label(d.action) if d.action else "",
                d.action_note,
                d.acted_at,
            ]
