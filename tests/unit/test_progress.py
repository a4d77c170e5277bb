"""The status rules for criteria and evidence items, and unit progress, as tables: no database, no app."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from assessor.domain.progress import ComponentProgress, Judgement, Progress, Tally, assess
from assessor.domain.standards import Unit, load_unit, parse_unit
from assessor.domain.vocabulary import Status

DATA = Path(__file__).resolve().parents[1] / "data"
STANDARDS = Path(__file__).resolve().parents[2] / "standards"

ONE_CRITERION = """
id: tiny
version: 1
framework: other
title: Tiny unit
results: {{achieved: Competent, not_achieved: Not yet competent}}
usage: {{status: current}}
component_label: Element
components:
  - number: "1"
    title: Do the task
    criteria:
      - number: "1.1"
        text: Do the task safely.
        occasions: {occasions}
rules:
  accepted_contexts: [workplace, simulated_workplace]
"""

NESTED_HEADINGS = """
id: nested
version: 1
framework: other
title: Nested unit
results: {achieved: Competent, not_achieved: Not yet competent}
usage: {status: current}
component_label: Element
components:
  - number: "1"
    title: Do the task
    criteria:
      - number: "1.1"
        text: Do the task safely.
evidence_requirements:
  - id: KE
    kind: knowledge
    title: Knowledge Evidence
    items:
      - id: KE1
        text: "hazards, including:"
        items:
          - id: KE1.1
            text: "in the building, including:"
            items:
              - id: KE1.1.1
                text: stairs
          - id: KE1.2
            text: weather
"""


def j(evidence_id: int, target: str, judgement: str | None, context: str = "workplace", day: int = 1) -> Judgement:
    """A judgement observed on a day in March 2024."""
    return Judgement(evidence_id, target, judgement, context, datetime.date(2024, 3, day))


def one_criterion(occasions: int) -> Unit:
    """A unit with one criterion, 1.1, needing this many occasions, accepting workplace and simulated workplace."""
    return parse_unit(ONE_CRITERION.format(occasions=occasions))


@pytest.fixture(scope="module")
def lifting() -> Unit:
    """Criteria 1.1, 1.2, 2.1 (two occasions); items KE1 and heading KE2 over KE2.1, KE2.2; workplace only."""
    return load_unit(DATA / "valid_unit.yaml")


# --- the status of one criterion -------------------------------------------------------------------------------------

STATUS_CASES = [
    # judgements, occasions needed -> status, satisfied occasions, evidence ids, supporting, discounted
    pytest.param([], 1, Status.NOT_STARTED, 0, (), (), (), id="no evidence"),
    pytest.param([j(1, "1.1", None)], 1, Status.EVIDENCE_RECORDED, 0, (1,), (), (), id="mapped but not judged"),
    pytest.param([j(1, "1.1", "not_yet")], 1, Status.NOT_YET_SATISFIED, 0, (1,), (), (), id="judged not yet"),
    pytest.param([j(1, "1.1", "satisfied")], 1, Status.SATISFIED, 1, (1,), (1,), (), id="satisfied once, needs one"),
    pytest.param(
        [j(1, "1.1", "satisfied")], 2, Status.NOT_YET_SATISFIED, 1, (1,), (1,), (), id="satisfied once, needs two"
    ),
    pytest.param(
        [j(2, "1.1", "satisfied"), j(1, "1.1", "satisfied")],
        2,
        Status.SATISFIED,
        2,
        (1, 2),
        (1, 2),
        (),
        id="satisfied on two pieces of evidence, needs two",
    ),
    pytest.param(
        [j(1, "1.1", "satisfied"), j(1, "1.1", "satisfied")],
        2,
        Status.NOT_YET_SATISFIED,
        1,
        (1,),
        (1,),
        (),
        id="the same evidence satisfied twice counts once",
    ),
    pytest.param(
        [j(1, "1.1", "satisfied", context="off_the_job")],
        1,
        Status.NOT_YET_SATISFIED,
        0,
        (1,),
        (),
        (1,),
        id="satisfied from a context the unit does not accept is discounted",
    ),
    pytest.param(
        [j(1, "1.1", "satisfied", context="simulated_workplace")],
        1,
        Status.SATISFIED,
        1,
        (1,),
        (1,),
        (),
        id="satisfied from an accepted simulated workplace counts",
    ),
    pytest.param(
        [j(1, "1.1", "not_yet", day=1), j(2, "1.1", "satisfied", day=5)],
        1,
        Status.SATISFIED,
        1,
        (1, 2),
        (2,),
        (),
        id="not yet, then satisfied later",
    ),
    pytest.param(
        [j(1, "1.1", "satisfied"), j(2, "1.1", None)],
        2,
        Status.NOT_YET_SATISFIED,
        1,
        (1, 2),
        (1,),
        (),
        id="satisfied once and one awaiting judgement, needs two",
    ),
    pytest.param(
        [j(1, "1.1", None), j(2, "1.1", "not_yet")],
        1,
        Status.NOT_YET_SATISFIED,
        0,
        (1, 2),
        (),
        (),
        id="awaiting judgement and not yet",
    ),
]


@pytest.mark.parametrize(
    ("judgements", "needed", "status", "occasions", "evidence_ids", "supporting", "discounted"), STATUS_CASES
)
def test_status_of_a_criterion(judgements, needed, status, occasions, evidence_ids, supporting, discounted):
    target = assess(one_criterion(needed), judgements).targets["1.1"]
    assert (target.status, target.satisfied_occasions, target.needed) == (status, occasions, needed)
    assert (target.evidence_ids, target.supporting, target.discounted) == (evidence_ids, supporting, discounted)


@pytest.mark.parametrize(
    ("judgements", "last_observed"),
    [
        pytest.param([], None, id="nothing mapped"),
        pytest.param(
            [j(1, "1.1", None, day=9), j(2, "1.1", "satisfied", day=4)], datetime.date(2024, 3, 9), id="latest mapped"
        ),
    ],
)
def test_last_observed_is_the_latest_evidence_mapped(judgements, last_observed):
    assert assess(one_criterion(1), judgements).targets["1.1"].last_observed == last_observed


@pytest.mark.parametrize(
    ("rules", "criterion_occasions", "needed"),
    [
        pytest.param("", "", 1, id="default is one occasion"),
        pytest.param("rules:\n  occasions: 3\n", "", 3, id="the unit's rule"),
        pytest.param("rules:\n  occasions: 3\n", "        occasions: 2\n", 2, id="the criterion's own number wins"),
    ],
)
def test_occasions_needed(rules, criterion_occasions, needed):
    text = ONE_CRITERION.format(occasions=1).replace("        occasions: 1\n", criterion_occasions)
    text = text.replace("rules:\n  accepted_contexts: [workplace, simulated_workplace]\n", rules)
    assert assess(parse_unit(text), []).targets["1.1"].needed == needed


def test_a_unit_without_accepted_contexts_accepts_any_context():
    rules = "rules:\n  accepted_contexts: [workplace, simulated_workplace]\n"
    text = ONE_CRITERION.format(occasions=1).replace(rules, "")
    target = assess(parse_unit(text), [j(1, "1.1", "satisfied", context="off_the_job")]).targets["1.1"]
    assert (target.status, target.supporting, target.discounted) == (Status.SATISFIED, (1,), ())


# --- the whole unit --------------------------------------------------------------------------------------------------


def test_targets_are_criteria_then_assessable_items_in_unit_order(lifting):
    progress = assess(lifting, [])
    assert [(t.target, t.kind) for t in progress.targets.values()] == [
        ("1.1", "criterion"),
        ("1.2", "criterion"),
        ("2.1", "criterion"),
        ("KE1", "item"),
        ("KE2.1", "item"),
        ("KE2.2", "item"),
    ]
    assert {t.status for t in progress.targets.values()} == {Status.NOT_STARTED}


def test_judgements_naming_targets_the_unit_does_not_have_are_ignored(lifting):
    stray = [j(1, "9.9", "satisfied"), j(2, "KE2", "satisfied"), j(3, "KE99", "not_yet")]
    assert assess(lifting, stray) == assess(lifting, [])


def test_judgements_may_be_a_one_pass_iterable(lifting):
    progress = assess(lifting, (x for x in [j(1, "1.1", "satisfied"), j(2, "KE1", "satisfied")]))
    assert progress.satisfied == 2


def test_component_and_unit_progress(lifting):
    judgements = [
        j(1, "1.1", "satisfied"),
        j(1, "1.2", "satisfied"),
        j(1, "2.1", "satisfied"),  # 2.1 needs two occasions
        j(2, "KE1", "satisfied"),
        j(3, "KE2.1", "not_yet"),
    ]
    progress = assess(lifting, judgements)
    assert progress.components == (
        ComponentProgress("1", "Prepare to lift", 2, 2),
        ComponentProgress("2", "Lift and place the load", 0, 1),
    )
    assert (progress.criteria_satisfied, progress.criteria_total) == (2, 3)
    assert (progress.items_satisfied, progress.items_total) == (1, 3)
    assert (progress.satisfied, progress.total, progress.percent) == (3, 6, 50)
    assert [t.target for t in progress.outstanding] == ["2.1", "KE2.1", "KE2.2"]


@pytest.mark.parametrize(
    ("satisfied_targets", "percent"),
    [
        pytest.param([], 0, id="none"),
        pytest.param(["1.1"], 16, id="one of six rounds down"),
        pytest.param(["1.1", "KE1"], 33, id="two of six"),
        pytest.param(["1.1", "1.2", "KE1", "KE2.1", "KE2.2"], 83, id="five of six"),
        pytest.param(["1.1", "1.2", "2.1", "KE1", "KE2.1", "KE2.2"], 100, id="all six"),
    ],
)
def test_percent_is_rounded_down(lifting, satisfied_targets, percent):
    judgements = [j(n, target, "satisfied") for target in satisfied_targets for n in (1, 2)]
    assert assess(lifting, judgements).percent == percent


def test_percent_of_nothing_to_do_is_complete():
    assert Progress((), 0, 0, 0, 0, targets={}).percent == 100


# --- evidence items with nested items --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("judgements", "status"),
    [
        pytest.param([], Status.NOT_STARTED, id="nothing under it started"),
        pytest.param([j(1, "KE2.1", "satisfied"), j(2, "KE2.2", "satisfied")], Status.SATISFIED, id="all satisfied"),
        pytest.param([j(1, "KE2.1", "satisfied")], Status.EVIDENCE_RECORDED, id="one satisfied, one not started"),
        pytest.param([j(1, "KE2.2", None)], Status.EVIDENCE_RECORDED, id="one awaiting judgement"),
        pytest.param([j(1, "KE2.1", "satisfied"), j(2, "KE2.2", "not_yet")], Status.NOT_YET_SATISFIED, id="a not yet"),
        pytest.param(
            [j(1, "KE2.1", None), j(2, "KE2.2", "not_yet")], Status.NOT_YET_SATISFIED, id="not yet outranks awaiting"
        ),
    ],
)
def test_heading_status(lifting, judgements, status):
    assert assess(lifting, judgements).heading_status("KE2") == status


def test_heading_status_of_an_item_without_nested_items_is_its_own(lifting):
    assert assess(lifting, [j(1, "KE1", "not_yet")]).heading_status("KE1") == Status.NOT_YET_SATISFIED


def test_heading_status_reaches_items_nested_more_than_one_deep():
    unit = parse_unit(NESTED_HEADINGS)
    progress = assess(unit, [j(1, "KE1.1.1", "satisfied"), j(2, "KE1.2", "satisfied")])
    assert list(progress.targets) == ["1.1", "KE1.1.1", "KE1.2"]
    assert (progress.heading_status("KE1.1"), progress.heading_status("KE1")) == (Status.SATISFIED, Status.SATISFIED)


def test_cscofm023_knowledge_evidence_ke16_is_a_heading_and_its_items_count():
    unit = load_unit(STANDARDS / "cscofm023.yaml")
    leaves = [f"KE16.{n}" for n in range(1, 9)]
    judgements = [j(1, "KE16", "satisfied")] + [j(n, leaf, "satisfied") for n, leaf in enumerate(leaves, 2)]
    progress = assess(unit, judgements)
    assert "KE16" not in progress.targets
    assert [t for t in progress.targets if t.startswith("KE16")] == leaves
    assert (progress.items_satisfied, progress.items_total) == (8, 13 + 15 + 8 + 8)
    assert (progress.criteria_satisfied, progress.criteria_total) == (0, 19)
    assert progress.heading_status("KE16") == Status.SATISFIED
    assert progress.heading_status("KE17") == Status.NOT_STARTED
    assert progress.percent == 100 * 8 // 63


# --- the tally kept with each enrolment -------------------------------------------------------------------------------


def test_a_tally_keeps_the_counts_statuses_and_latest_evidence_through_json(lifting):
    judgements = [j(1, "1.1", "satisfied", day=3), j(2, "1.2", "not_yet", day=9), j(3, "KE1", None, day=5)]
    progress = assess(lifting, judgements)
    tally = progress.tally()
    assert tally.last_evidence == datetime.date(2024, 3, 9)
    assert tally.statuses() == [t.status for t in progress.targets.values()]
    assert tally.letters.count("s") == tally.satisfied == progress.satisfied
    assert tally.outstanding == len(progress.outstanding) == tally.total - 1
    again = Tally.from_json(json.loads(json.dumps(tally.to_json())))
    assert again == tally
    assert (again.percent, again.components) == (progress.percent, progress.components)


def test_a_tally_of_an_enrolment_without_evidence_has_no_date(lifting):
    tally = assess(lifting, []).tally()
    assert tally.last_evidence is None and set(tally.statuses()) == {Status.NOT_STARTED} and tally.percent == 0
