"""Sufficiency beyond a count: occasions that must differ in a named dimension, and quotas among them."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from assessor.cli.standards import unit_tree
from assessor.demo.sample import EXAMPLES
from assessor.domain.completion import Reason, obstacles
from assessor.domain.progress import Judgement, assess
from assessor.domain.standards import load_unit
from assessor.domain.vocabulary import EnrolmentStatus, Status, Verdict
from tests.unit.test_loader import line_of, problems_of

DATA = Path(__file__).resolve().parents[1] / "data"
TEXT = (EXAMPLES / "example_whanau_hui.yaml").read_text(encoding="utf-8")
UNIT = load_unit(EXAMPLES / "example_whanau_hui.yaml")


def met(evidence_id: int, whanau: str | None, kinds: tuple[str, ...] = (), context: str = "workplace") -> Judgement:
    """Evidence judged satisfied against 2.1, with the whānau it was with."""
    values = (("whanau", whanau, kinds),) if whanau is not None else ()
    return Judgement(evidence_id, "2.1", Verdict.SATISFIED, context, datetime.date(2026, 9, evidence_id), values)


def test_the_unit_declares_what_occasions_must_differ_in_and_the_quota():
    criterion = UNIT.components[1].criteria[0]
    assert (criterion.distinct, [(q.kind, q.at_least) for q in criterion.quota]) == ("whanau", [("Māori", 1)])
    assert UNIT.dimension("whanau").kinds == ("Māori", "Pasifika")
    assert (
        "    2.1 The meeting is opened and closed in a way that respects the tikanga agreed. [2 different: whānau, at least 1 Māori]"
        in list(unit_tree(UNIT))
    )


@pytest.mark.parametrize(
    ("judgements", "status", "have", "values", "reasons"),
    [
        (
            [met(1, "Ngāti Hemi", ("Māori",)), met(2, "ngāti  hemi")],
            Status.NOT_YET_SATISFIED,
            1,
            ("Ngāti Hemi",),
            [Reason.TOO_FEW_DIFFERENT],
        ),
        (
            [met(1, "Tupou", ("Pasifika",)), met(2, "Smith")],
            Status.NOT_YET_SATISFIED,
            2,
            ("Tupou", "Smith"),
            [Reason.QUOTA_NOT_MET],
        ),
        ([met(1, "Tupou"), met(2, "Ngāti Hemi", ("Māori",))], Status.SATISFIED, 2, ("Tupou", "Ngāti Hemi"), []),
        (
            [met(1, "Ngāti Hemi", ("Māori",)), met(2, None)],
            Status.NOT_YET_SATISFIED,
            1,
            ("Ngāti Hemi",),
            [Reason.TOO_FEW_DIFFERENT],
        ),
        (
            [met(1, "Ngāti Hemi", ("Māori",)), met(2, "Tupou", context="off_the_job")],
            Status.NOT_YET_SATISFIED,
            1,
            ("Ngāti Hemi",),
            [Reason.TOO_FEW_DIFFERENT, Reason.CONTEXT_NOT_ACCEPTED],
        ),
    ],
    ids=["same whānau twice", "quota not met", "met", "a value missing", "other context discounted"],
)
def test_occasions_count_once_per_different_value_and_the_quota_counts_kinds(judgements, status, have, values, reasons):
    progress = assess(UNIT, judgements)
    target = progress.targets["2.1"]
    assert (target.status, target.satisfied_occasions, target.values) == (status, have, values)
    assert target.dimension == "Whānau"
    found = [o for o in obstacles(UNIT, progress, EnrolmentStatus.ACTIVE) if o.target == "2.1"]
    assert [o.reason for o in found] == reasons
    if Reason.QUOTA_NOT_MET in reasons:
        assert (found[0].detail, found[0].have, found[0].need) == ("Māori", 0, 1)
    if Reason.TOO_FEW_DIFFERENT in reasons:
        assert (found[0].detail, found[0].have, found[0].need) == ("Whānau", 1, 2)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "        distinct: whanau\n",
            "        distinct: family\n",
            "        distinct: family",
            'components[1].criteria[0].distinct: "family" is not one of the dimensions',
        ),
        (
            "        distinct: whanau\n",
            "",
            "          - kind: Māori",
            "components[1].criteria[0].quota: a quota needs distinct: what it counts",
        ),
        (
            "          - kind: Māori\n",
            "          - kind: Tongan\n",
            "          - kind: Tongan",
            'components[1].criteria[0].quota[0].kind: "Tongan" is not one of the kinds of "whanau"',
        ),
        (
            "            at_least: 1\n",
            "            at_least: 3\n",
            "          - kind: Māori",
            "components[1].criteria[0].quota: the quota asks for 3 occasions but only 2 are needed: raise occasions",
        ),
        (
            "    kinds: [Māori, Pasifika]\n",
            "    kinds: [Māori, Pasifika]\n  - id: whanau\n    label: Family\n",
            "  - id: whanau",
            'dimensions[1].id: duplicate dimension "whanau"',
        ),
    ],
)
def test_a_wrong_sufficiency_rule_is_refused_with_its_line(old, new, line, message):
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    lines = [n for n, t in enumerate(text.splitlines(), 1) if t == line]
    found = problems_of(text)
    assert found == [f"unit.yaml:{lines[-1] if line.startswith('  - id') else line_of(text, line)}: {message}"]


def test_distinct_on_a_heading_is_refused():
    text = (
        (EXAMPLES / "example_support_plans_1.yaml")
        .read_text(encoding="utf-8")
        .replace(
            '      - id: KE1\n        text: "the organisation\'s procedures for:"\n',
            '      - id: KE1\n        text: "the organisation\'s procedures for:"\n        distinct: place\n',
        )
        .replace("evidence_requirements:", "dimensions:\n  - id: place\n    label: Workplace\nevidence_requirements:")
    )
    assert problems_of(text) == [
        f"unit.yaml:{line_of(text, '        distinct: place')}: evidence_requirements[1].items[0].distinct: distinct belongs on nested items"
    ]


@pytest.mark.parametrize(
    ("logbook", "message"),
    [
        ("logbook:\n  hours: 0\n  context: work\n", "logbook.hours: must be at least 1, got 0"),
        ("logbook:\n  hours: 40\n", "logbook.context: missing required field in logbook"),
        ("logbook:\n  hours: forty\n  context: work\n", "logbook.hours: expected a whole number, got text 'forty'"),
    ],
)
def test_a_wrong_logbook_is_refused(logbook, message):
    text = TEXT.replace("dimensions:\n", logbook + "dimensions:\n", 1)
    (found,) = problems_of(text)
    assert found.endswith(message)


def test_a_logbook_loads_with_its_hours_and_context():
    unit = load_unit(EXAMPLES / "example_support_plans_2.yaml")
    assert unit.logbook is not None
    assert (unit.logbook.hours, unit.logbook.context) == (40, "support work with people in their own homes")
