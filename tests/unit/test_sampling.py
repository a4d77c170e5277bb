"""Sample sizes against published figures, and the proposals and coverage of sampling plans."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessor.domain.sampling import (
    Candidate,
    Plan,
    coverage,
    critical_normal,
    moderation_sample_size,
    propose,
    requirement,
    validation_sample_size,
)
from assessor.domain.vocabulary import Method, PlanBasis

# (population, confidence %, error margin in percentage points) -> sample, each from a published source:
# - ASQA's validation sample size calculator (asqa.gov.au/resources/tools/validation-sample-size-calculator), whose
#   form opens on 100 judgements, 95 % and a 15 % error level and shows 31; its script (govCMS/asqa_theme,
#   js/validation_calculator.js) rounds up and takes z from Odeh and Evans' approximation;
# - Krejcie and Morgan, "Determining sample size for research activities", Educational and Psychological Measurement
#   30 (1970), Table 1 (95 %, 5 %): 100 -> 80, 1000 -> 278, 5000 -> 357, 20000 -> 377 (Raosoft's default too);
# - 7728 at 95 % and 5 %: 367 with the calculator's z, 366 with the exact z; the one case at a 5 % margin where the
#   two differ, so it shows the approximation is the calculator's.
PUBLISHED = [
    (100, 95, 15, 31),
    (100, 95, 5, 80),
    (1000, 95, 5, 278),
    (5000, 95, 5, 357),
    (20000, 95, 5, 377),
    (7728, 95, 5, 367),
]


@pytest.mark.parametrize(("population", "confidence", "margin", "sample"), PUBLISHED)
def test_the_validation_sample_size_matches_published_figures(population, confidence, margin, sample):
    assert validation_sample_size(population, confidence, margin) == sample


def test_the_validation_sample_size_never_exceeds_the_population_and_grows_with_confidence():
    assert [validation_sample_size(n, 95, 15) for n in (0, 1, 2, 5)] == [0, 1, 2, 5]
    assert (
        validation_sample_size(150, 90, 15) < validation_sample_size(150, 95, 15) < validation_sample_size(150, 99, 15)
    )
    assert (
        validation_sample_size(150, 95, 5) > validation_sample_size(150, 95, 10) > validation_sample_size(150, 95, 15)
    )


@pytest.mark.parametrize(("confidence", "margin"), [(80, 15), (95, 0), (95, 51)])
def test_a_confidence_level_or_margin_the_calculator_does_not_offer_is_refused(confidence, margin):
    with pytest.raises(ValueError):
        validation_sample_size(100, confidence, margin)


def test_the_critical_values_are_the_normal_distributions():
    assert critical_normal(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert critical_normal(0.90) == pytest.approx(1.644854, abs=1e-6)
    assert critical_normal(0.99) == pytest.approx(2.575829, abs=1e-6)


def test_moderation_takes_the_plans_number_of_each_standard_or_all_when_fewer():
    assert [moderation_sample_size(n) for n in (0, 3, 8, 40)] == [0, 3, 8, 8]
    assert moderation_sample_size(40, 6) == 6


def _population() -> list[Candidate]:
    """Three assessors: 1 with 20 learners in unit A, 2 with 10 in unit B, 3 (new) with 4 in unit C, one of whose
    learners is the only one assessed by questioning."""
    found = [Candidate(i, "a", frozenset({1}), frozenset({Method.DIRECT_OBSERVATION})) for i in range(1, 21)]
    found += [Candidate(i, "b", frozenset({2}), frozenset({Method.WORK_PRODUCT})) for i in range(21, 31)]
    found += [Candidate(i, "c", frozenset({3}), frozenset({Method.DIRECT_OBSERVATION})) for i in range(31, 34)]
    found.append(Candidate(34, "c", frozenset({3}), frozenset({Method.QUESTIONING})))
    return found


def test_an_assessor_rate_plan_samples_each_assessors_share_and_all_of_a_new_assessors_learners():
    plan = Plan(PlanBasis.ASSESSOR_RATE, assessor_percent=10, unit_percent=100)
    need = requirement(plan, _population(), new_assessors={3})
    assert dict(need.assessors) == {1: 2, 2: 1, 3: 4}
    assert need.units_to_cover == 3
    assert need.methods == {Method.DIRECT_OBSERVATION, Method.WORK_PRODUCT, Method.QUESTIONING}
    picks = propose(plan, _population(), seed=7, new_assessors={3})
    chosen = {p.enrolment_id for p in picks}
    assert {31, 32, 33, 34} <= chosen and len(chosen) == 7
    assert coverage(need, [c for c in _population() if c.enrolment_id in chosen]).met


def test_the_same_seed_proposes_the_same_sample_and_another_seed_another():
    plan = Plan(PlanBasis.ASSESSOR_RATE, assessor_percent=25)
    first = propose(plan, _population(), seed=2026)
    assert propose(plan, list(reversed(_population())), seed=2026) == first
    assert {p.enrolment_id for p in propose(plan, _population(), seed=2027)} != {p.enrolment_id for p in first}


def test_a_sample_short_of_its_plan_says_where():
    plan = Plan(PlanBasis.ASSESSOR_RATE, assessor_percent=10, unit_percent=100)
    population = _population()
    need = requirement(plan, population)
    result = coverage(need, [population[0], population[1]])
    assert not result.met
    assert result.unmet == ("assessor:2", "assessor:3", "units", "method:questioning", "method:work_product")
    assert result.assessors[1] == (2, 2) and result.units_covered == (1, 3)


def test_a_unit_share_covers_that_many_of_the_units_assessed():
    plan = Plan(PlanBasis.ASSESSOR_RATE, assessor_percent=1, unit_percent=50)
    need = requirement(plan, _population())
    assert need.units_to_cover == 2  # half of three, rounded up


def test_validation_and_moderation_plans_size_each_units_sample():
    population = _population()
    validation = requirement(Plan(PlanBasis.VALIDATION, confidence=95, margin=15), population)
    assert dict(validation.units) == {
        "a": validation_sample_size(20, 95, 15),
        "b": validation_sample_size(10, 95, 15),
        "c": validation_sample_size(4, 95, 15),
    }
    moderation = requirement(Plan(PlanBasis.MODERATION, per_standard=8), population)
    assert dict(moderation.units) == {"a": 8, "b": 8, "c": 4}
    picks = propose(Plan(PlanBasis.MODERATION), population, seed=1)
    assert coverage(moderation, [c for c in population if c.enrolment_id in {p.enrolment_id for p in picks}]).met


candidates = st.lists(
    st.builds(
        Candidate,
        st.integers(1, 10_000),
        st.sampled_from(["a", "b", "c", "d"]),
        st.frozensets(st.integers(1, 6), min_size=1, max_size=2),
        st.frozensets(st.sampled_from(list(Method)), min_size=1, max_size=2),
    ),
    max_size=60,
    unique_by=lambda c: c.enrolment_id,
)
plans = st.builds(
    Plan,
    st.sampled_from(list(PlanBasis)),
    st.integers(1, 100),
    st.integers(1, 100),
    st.sampled_from([90, 95, 99]),
    st.integers(1, 50),
    st.integers(1, 12),
)


@settings(max_examples=150, deadline=None)
@given(plan=plans, population=candidates, seed=st.integers(0, 2**31 - 1), new=st.frozensets(st.integers(1, 6)))
def test_every_proposal_meets_its_plan(plan, population, seed, new):
    picks = propose(plan, population, seed, new)
    chosen = {p.enrolment_id for p in picks}
    assert len(chosen) == len(picks)
    assert coverage(requirement(plan, population, new), [c for c in population if c.enrolment_id in chosen]).met
