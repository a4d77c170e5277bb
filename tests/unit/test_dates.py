"""Which dates are plausible for evidence, enrolments and sign-offs: the rules themselves, without a database."""

from __future__ import annotations

import datetime

import pytest

from assessor.domain.dates import (
    EARLIEST,
    a_year_after,
    observed_on_problem,
    signed_on_problem,
    spoken,
    start_date_problem,
)

TODAY = datetime.date(2026, 11, 23)
D = datetime.date


def test_earliest_is_the_first_of_january_2000_in_words():
    assert EARLIEST == D(2000, 1, 1)
    assert spoken(EARLIEST) == "1 January 2000"
    assert spoken(D(2020, 2, 3)) == "3 February 2020"


@pytest.mark.parametrize(
    ("day", "expected"),
    [(D(2026, 11, 23), D(2027, 11, 23)), (D(2024, 2, 29), D(2025, 2, 28)), (D(2023, 2, 28), D(2024, 2, 28))],
)
def test_a_year_after(day, expected):
    assert a_year_after(day) == expected


@pytest.mark.parametrize("day", [D(2000, 1, 1), D(2020, 11, 2), TODAY])
def test_evidence_observed_from_2000_to_today_is_plausible(day):
    assert observed_on_problem(day, TODAY) is None


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (D(1, 1, 1), "Check the year: the date observed cannot be before 1 January 2000."),
        (D(1999, 12, 31), "Check the year: the date observed cannot be before 1 January 2000."),
        (D(2026, 11, 24), "The date observed cannot be in the future."),
        (D(9999, 12, 31), "The date observed cannot be in the future."),
    ],
)
def test_evidence_dates_outside_are_refused(day, message):
    assert observed_on_problem(day, TODAY) == message


@pytest.mark.parametrize("day", [D(2000, 1, 1), D(2020, 2, 3), TODAY, D(2027, 11, 23)])
def test_enrolments_start_from_2000_to_a_year_ahead(day):
    # 2020 starts are the carry-over enrolments in CSCOFM023, deleted in 2021.
    assert start_date_problem(day, TODAY) is None


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (D(1, 1, 1), "Check the year: the start date cannot be before 1 January 2000."),
        (D(1999, 12, 31), "Check the year: the start date cannot be before 1 January 2000."),
        (D(2027, 11, 24), "Check the year: the start date can be no later than 23 November 2027, a year from today."),
        (D(9999, 12, 31), "Check the year: the start date can be no later than 23 November 2027, a year from today."),
    ],
)
def test_start_dates_outside_are_refused(day, message):
    assert start_date_problem(day, TODAY) == message


@pytest.mark.parametrize("day", [D(2026, 8, 1), D(2026, 10, 1), TODAY])
def test_sign_off_from_the_start_to_today(day):
    assert signed_on_problem(day, D(2026, 8, 1), TODAY) is None


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (D(1, 1, 1), "The date of sign-off cannot be before the enrolment started, on 1 August 2026."),
        (D(2026, 7, 31), "The date of sign-off cannot be before the enrolment started, on 1 August 2026."),
        (D(2026, 11, 24), "The date of sign-off cannot be in the future."),
        (D(9999, 12, 31), "The date of sign-off cannot be in the future."),
    ],
)
def test_sign_off_dates_outside_are_refused(day, message):
    assert signed_on_problem(day, D(2026, 8, 1), TODAY) == message
