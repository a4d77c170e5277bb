"""Which dates are plausible for a record: each rule returns what is wrong with a date, in words for the form, or
None when the date is fine."""

from __future__ import annotations

import datetime

# No record of this service is older; an earlier date is a mistyped year (and spreadsheets cannot show it).
EARLIEST = datetime.date(2000, 1, 1)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def spoken(day: datetime.date) -> str:
    """A date as people write it, for example 3 February 2020."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def a_year_after(day: datetime.date) -> datetime.date:
    """The same date a year later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def observed_on_problem(observed_on: datetime.date, today: datetime.date) -> str | None:
    """Evidence is observed from 1 January 2000 up to today."""
    if observed_on < EARLIEST:
        return f"Check the year: the date observed cannot be before {spoken(EARLIEST)}."
    if observed_on > today:
        return "The date observed cannot be in the future."
    return None


def start_date_problem(start_date: datetime.date, today: datetime.date) -> str | None:
    """An enrolment starts from 1 January 2000 up to a year from today."""
    if start_date < EARLIEST:
        return f"Check the year: the start date cannot be before {spoken(EARLIEST)}."
    latest = a_year_after(today)
    if start_date > latest:
        return f"Check the year: the start date can be no later than {spoken(latest)}, a year from today."
    return None


def signed_on_problem(signed_on: datetime.date, start_date: datetime.date, today: datetime.date) -> str | None:
    """An enrolment is signed off on or after the day it started, and not later than today."""
    if signed_on < start_date:
        return f"The date of sign-off cannot be before the enrolment started, on {spoken(start_date)}."
    if signed_on > today:
        return "The date of sign-off cannot be in the future."
    return None
