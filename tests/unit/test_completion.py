"""Sign-off rules and the completion snapshot, as tables: no database, no app."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from assessor.domain.completion import Obstacle, Reason, obstacles, supporting_snapshot
from assessor.domain.progress import Judgement, assess
from assessor.domain.standards import Unit, load_unit
from assessor.domain.vocabulary import EnrolmentStatus

DATA = Path(__file__).resolve().parents[1] / "data"
TARGETS = ["1.1", "1.2", "2.1", "KE1", "KE2.1", "KE2.2"]


def j(evidence_id: int, target: str, judgement: str | None, context: str = "workplace") -> Judgement:
    """A judgement observed on 1 March 2024."""
    return Judgement(evidence_id, target, judgement, context, datetime.date(2024, 3, 1))


def everything_satisfied(leaving_out: tuple[str, ...] = ()) -> list[Judgement]:
    """Evidence 1 satisfies every target of the lifting unit and evidence 2 gives 2.1 its second occasion."""
    judgements = [j(1, target, "satisfied") for target in TARGETS] + [j(2, "2.1", "satisfied")]
    return [x for x in judgements if x.target not in leaving_out]


@pytest.fixture(scope="module")
def lifting() -> Unit:
    """Criteria 1.1, 1.2, 2.1 (two occasions); items KE1 and heading KE2 over KE2.1, KE2.2; workplace only."""
    return load_unit(DATA / "valid_unit.yaml")


@pytest.mark.parametrize(
    ("enrolment_status", "expected"),
    [
        pytest.param(EnrolmentStatus.ACTIVE, (), id="active"),
        pytest.param(EnrolmentStatus.READY_FOR_SIGN_OFF, (), id="ready for sign-off"),
        pytest.param(EnrolmentStatus.COMPLETED, (Obstacle(Reason.NOT_ACTIVE),), id="completed"),
        pytest.param(EnrolmentStatus.WITHDRAWN, (Obstacle(Reason.NOT_ACTIVE),), id="withdrawn"),
    ],
)
def test_everything_satisfied_is_ready_only_while_the_enrolment_is_open(lifting, enrolment_status, expected):
    progress = assess(lifting, everything_satisfied())
    assert obstacles(lifting, progress, enrolment_status) == expected
    assert (obstacles(lifting, progress, enrolment_status) == ()) is (expected == ())


@pytest.mark.parametrize(
    ("leaving_out", "extra", "expected"),
    [
        pytest.param(
            ("1.2",), [], (Obstacle(Reason.CRITERION_NOT_MET, "1.2", (), 0, 1),), id="criterion with no evidence"
        ),
        pytest.param(
            ("1.2",),
            [j(5, "1.2", "not_yet")],
            (Obstacle(Reason.CRITERION_NOT_MET, "1.2", (5,), 0, 1),),
            id="criterion judged not yet",
        ),
        pytest.param(
            ("1.2",),
            [j(6, "1.2", None)],
            (Obstacle(Reason.CRITERION_NOT_MET, "1.2", (6,), 0, 1),),
            id="criterion awaiting judgement",
        ),
        pytest.param(("KE2.1",), [], (Obstacle(Reason.ITEM_NOT_MET, "KE2.1", (), 0, 1),), id="item with no evidence"),
        pytest.param(
            ("2.1",),
            [j(1, "2.1", "satisfied")],
            (Obstacle(Reason.TOO_FEW_OCCASIONS, "2.1", (1,), 1, 2),),
            id="one occasion of two",
        ),
        pytest.param(
            ("1.1",),
            [j(7, "1.1", "satisfied", context="simulated_workplace")],
            (
                Obstacle(Reason.CRITERION_NOT_MET, "1.1", (7,), 0, 1),
                Obstacle(Reason.CONTEXT_NOT_ACCEPTED, "1.1", (7,), 0, 1),
            ),
            id="only evidence from a context not accepted",
        ),
        pytest.param(
            ("2.1",),
            [j(1, "2.1", "satisfied"), j(8, "2.1", "satisfied", context="off_the_job")],
            (
                Obstacle(Reason.TOO_FEW_OCCASIONS, "2.1", (1,), 1, 2),
                Obstacle(Reason.CONTEXT_NOT_ACCEPTED, "2.1", (8,), 1, 2),
            ),
            id="too few occasions once the other context is discounted",
        ),
        pytest.param(
            (),
            [j(9, "1.1", "satisfied", context="off_the_job"), j(10, "KE1", "not_yet")],
            (),
            id="discounted or not-yet evidence beside enough satisfied evidence is no obstacle",
        ),
    ],
)
def test_obstacles_for_each_reason(lifting, leaving_out, extra, expected):
    progress = assess(lifting, everything_satisfied(leaving_out) + extra)
    assert obstacles(lifting, progress, EnrolmentStatus.ACTIVE) == expected
    assert (obstacles(lifting, progress, EnrolmentStatus.ACTIVE) == ()) is (expected == ())


def test_obstacles_are_in_unit_order_after_the_enrolment_itself(lifting):
    found = obstacles(lifting, assess(lifting, []), EnrolmentStatus.WITHDRAWN)
    assert [(o.reason, o.target) for o in found] == [
        (Reason.NOT_ACTIVE, None),
        (Reason.CRITERION_NOT_MET, "1.1"),
        (Reason.CRITERION_NOT_MET, "1.2"),
        (Reason.CRITERION_NOT_MET, "2.1"),
        (Reason.ITEM_NOT_MET, "KE1"),
        (Reason.ITEM_NOT_MET, "KE2.1"),
        (Reason.ITEM_NOT_MET, "KE2.2"),
    ]
    assert [o.need for o in found] == [0, 1, 1, 2, 1, 1, 1]


def test_snapshot_records_accepted_satisfied_evidence_in_the_units_words(lifting):
    extra = [
        j(3, "1.1", "not_yet"),
        j(9, "1.2", "satisfied", context="off_the_job"),
        j(4, "KE1", None),
        j(5, "KE1", "satisfied"),
    ]
    snapshot = supporting_snapshot(lifting, assess(lifting, everything_satisfied() + extra))
    assert snapshot == {
        "unit": "example_safe_lifting@1",
        "source_sha256": lifting.source_sha256,
        "criteria": [
            {"number": "1.1", "text": "Assess the load and the route before lifting.", "evidence_ids": [1]},
            {"number": "1.2", "text": "Use lifting aids where the load requires them.", "evidence_ids": [1]},
            {"number": "2.1", "text": "Lift with a straight back and bent knees.", "evidence_ids": [1, 2]},
        ],
        "items": [
            {"id": "KE1", "text": "safe lifting techniques", "evidence_ids": [1, 5]},
            {"id": "KE2.1", "text": "sharp edges", "evidence_ids": [1]},
            {"id": "KE2.2", "text": "unstable loads", "evidence_ids": [1]},
        ],
    }
    assert len(snapshot["source_sha256"]) == 64
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_a_prerequisite_not_held_stands_in_the_way_of_an_open_enrolment_only(lifting):
    progress = assess(lifting, everything_satisfied())
    assert obstacles(lifting, progress, EnrolmentStatus.ACTIVE, ["EXCLR001"]) == (
        Obstacle(Reason.PREREQUISITE_NOT_HELD, "EXCLR001"),
    )
    assert obstacles(lifting, progress, EnrolmentStatus.COMPLETED, ["EXCLR001"]) == (Obstacle(Reason.NOT_ACTIVE),)
