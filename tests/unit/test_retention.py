"""When evidence content falls due for erasure: the rules, their configuration, holds, and the chain's rewrites."""

from __future__ import annotations

import datetime
import hashlib

import pytest

from assessor.domain.audit_chain import (
    GENESIS,
    ChainedEvent,
    ChainWalk,
    Rewrite,
    canonical,
    erase_fields,
    keyed_event_hash,
    rewritten_hash,
)
from assessor.domain.retention import DEFAULT_RULES, Assessment, Hold, Holding, add_months, decide, rules_with

D = datetime.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 5, 15), 6, D(2026, 11, 15)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2026, 12, 1), 12, D(2027, 12, 1)),
        (D(2026, 12, 1), 360, D(2056, 12, 1)),
    ],
)
def test_months_are_added_as_people_count_them(day, months, expected):
    assert add_months(day, months) == expected


def test_the_regulators_minimums_are_the_defaults():
    assert (DEFAULT_RULES["NZQA"].months, DEFAULT_RULES["training.gov.au"].months) == (12, 6)
    assert "ASQA" in DEFAULT_RULES["training.gov.au"].basis


def test_an_organisation_keeps_longer_but_the_legal_minimum_stays():
    rules = rules_with({"NZQA": 36, "other": 3})
    assert (rules["NZQA"].months, rules["NZQA"].legal_months) == (36, 12)
    assert (rules["other"].months, rules["other"].legal_months) == (3, 3)
    assert rules["training.gov.au"] == DEFAULT_RULES["training.gov.au"]


@pytest.mark.parametrize(
    ("months", "said"),
    [
        ({"NZQA": 6}, "NZQA: 6 months is shorter than the minimum (NZQA: assessment evidence"),
        ({"training.gov.au": 5}, "shorter than the minimum (ASQA"),
        ({"SQA": 12}, "'SQA' is not a framework"),
        ({"NZQA": "12"}, "whole number of months"),
        ({"NZQA": True}, "whole number of months"),
        ({"other": 0}, "from 1 to 1200"),
        ({"other": 100_000}, "from 1 to 1200"),
    ],
)
def test_a_period_that_breaks_the_law_or_makes_no_sense_is_refused_saying_why(months, said):
    with pytest.raises(ValueError) as refused:
        rules_with(months)
    assert said in str(refused.value)


RECORDED_ON = D(2025, 1, 10)


def holding(*assessments: Assessment, recorded_on: D = RECORDED_ON, trainee_id: int = 7) -> Holding:
    return Holding(1, trainee_id, "trainee", recorded_on, assessments, 2)


NZ_DONE = Assessment(10, "NZQA", D(2025, 3, 1), cohort_id=4)
TGA_DONE = Assessment(11, "training.gov.au", D(2025, 9, 1), cohort_id=None)
NZ_OPEN = Assessment(12, "NZQA", None, cohort_id=4)


def test_evidence_counting_toward_an_open_enrolment_is_kept_whatever_its_age():
    decision = decide(holding(NZ_DONE, NZ_OPEN), DEFAULT_RULES, [])
    assert decision.due_on is None and not decision.past(D(2099, 1, 1))
    assert decision.why() == "kept while enrolment 12 is open"


def test_the_result_and_rule_that_keep_it_longest_decide():
    # NZQA: 1 March 2025 + 12 months; training.gov.au: 1 September 2025 + 6 months: the same day, the first wins.
    decision = decide(holding(NZ_DONE, TGA_DONE), DEFAULT_RULES, [])
    assert decision.due_on == D(2026, 3, 1)
    longer = decide(holding(NZ_DONE, TGA_DONE), rules_with({"training.gov.au": 24}), [])
    assert (longer.due_on, longer.rule.framework, longer.result_on) == (D(2027, 9, 1), "training.gov.au", D(2025, 9, 1))
    assert longer.why() == (
        "training.gov.au: 24 months after the result on 2025-09-01 (the organisation's period; ASQA: completed "
        "assessment items are kept at least 6 months after the result)"
    )
    assert not longer.past(D(2027, 8, 31)) and longer.past(D(2027, 9, 1))


def test_a_privacy_request_counts_from_the_legal_minimum():
    rules = rules_with({"NZQA": 60})
    assert decide(holding(NZ_DONE), rules, []).due_on == D(2030, 3, 1)
    legal = decide(holding(NZ_DONE), rules, [], legal=True)
    assert legal.due_on == D(2026, 3, 1)
    assert "12 months after the result on 2025-03-01 (the legal minimum" in legal.why(legal=True)


def test_evidence_that_counts_toward_nothing_runs_from_the_day_it_was_recorded():
    decision = decide(holding(recorded_on=D(2024, 6, 30)), DEFAULT_RULES, [])
    assert (decision.due_on, decision.rule.framework) == (D(2025, 6, 30), "other")


def test_a_hold_on_the_trainee_or_on_a_cohort_it_counts_in_keeps_it():
    on_trainee = Hold(1, 7, None, "tribunal")
    on_cohort = Hold(2, None, 4, "audit")
    on_other_cohort = Hold(3, None, 5, "other matter")
    assert decide(holding(NZ_DONE), DEFAULT_RULES, [on_trainee, on_other_cohort]).holds == (on_trainee,)
    assert decide(holding(NZ_DONE), DEFAULT_RULES, [on_cohort]).holds == (on_cohort,)
    assert decide(holding(TGA_DONE), DEFAULT_RULES, [on_cohort, on_other_cohort]).holds == ()
    assert decide(holding(NZ_DONE, trainee_id=8), DEFAULT_RULES, [on_trainee]).holds == ()


# --- the chain, with content erased -----------------------------------------------------------

KEY = b"k" * 32
CHAIN = "c" * 32


def chain_of(*bodies: dict) -> list[ChainedEvent]:
    events, prev = [], GENESIS
    for seq, body in enumerate(bodies, start=1):
        fields = ChainedEvent(
            seq, "2026-12-01T00:00:00", 1, "assessor", "evidence.record", "evidence", "1", "{}", canonical(body)
        )
        event = ChainedEvent(**{**vars(fields), "prev_hash": prev, "hash": keyed_event_hash(KEY, CHAIN, prev, fields)})
        events.append(event)
        prev = event.hash
    return events


def walk(events: list[ChainedEvent], rewrites: dict[int, Rewrite]) -> object:
    checker = ChainWalk(KEY, CHAIN, 0, rewrites)
    for event in events:
        checker.step(event)
    return checker.broken


def erase(event: ChainedEvent, by: int) -> tuple[ChainedEvent, Rewrite]:
    after = erase_fields(event.after, ["narrative"])
    rewritten = ChainedEvent(**{**vars(event), "after": after})
    return rewritten, Rewrite(event.seq, event.hash, rewritten_hash(KEY, CHAIN, rewritten), by)


def test_erasing_a_field_keeps_its_sha256_and_nothing_else_of_it():
    text = canonical({"narrative": "Met the client at home.", "method": "direct_observation"})
    erased = erase_fields(text, ["narrative", "absent"])
    assert "Met the client" not in erased and '"method":"direct_observation"' in erased
    assert erased == canonical(
        {
            "narrative": {"erased": "sha256:" + hashlib.sha256(b'"Met the client at home."').hexdigest()},
            "method": "direct_observation",
        }
    )
    assert erase_fields(erased, ["narrative"]) == erased  # erased once only
    assert erase_fields(canonical({"method": "x"}), ["narrative"]) == canonical({"method": "x"})


def test_a_rewritten_event_vouched_for_by_a_later_erasure_keeps_the_chain_intact():
    events = chain_of({"narrative": "one"}, {"narrative": "two"}, {"erasure": True})
    events[0], rewrite = erase(events[0], by=3)
    assert walk(events, {}).problem == "altered"  # without the erasure's word, an edit
    assert walk(events, {1: rewrite}) is None


def test_a_rewritten_event_changed_again_or_vouched_for_by_an_earlier_event_is_caught():
    original = chain_of({"narrative": "one", "method": "a"}, {"narrative": "two"}, {"erasure": True})
    events = list(original)
    events[1], rewrite = erase(original[1], by=3)
    assert walk(events, {2: rewrite}) is None
    changed = list(events)
    changed[1] = ChainedEvent(**{**vars(events[1]), "actor": "someone else"})
    assert walk(changed, {2: rewrite}).seq == 2
    _, early = erase(original[1], by=1)  # the same rewrite, claimed by an event before it
    assert walk(events, {2: early}).seq == 2
    restored = list(events)
    restored[1] = ChainedEvent(**{**vars(events[1]), "after": canonical({"narrative": "forged"})})
    assert walk(restored, {2: rewrite}).seq == 2
