"""Implausible dates are refused beside their field on the evidence, enrol and sign-off forms."""

from __future__ import annotations

import datetime
import re

import sqlalchemy as sa

from assessor.domain.vocabulary import Verdict
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.models import Enrolment, User
from assessor.standards.queries import targets_of
from tests.records.factories import PASSWORD, TODAY, observation
from tests.web.conftest import csrf_token, sign_in


def errors_of(page: str, field: str) -> str:
    """The field's block of the page, with its messages."""
    m = re.search(rf'<div class="field has-error">\s*<label for="{field}".*?</div>', page, re.S)
    return m.group(0) if m else ""


def test_evidence_form(client, world):
    sign_in(client, "assessor")
    url = f"/trainees/{world.trainee_id}/evidence/new"
    for day, msg in [
        ("0001-01-01", "Check the year: the date observed cannot be before 1 January 2000."),
        ("9999-12-31", "The date observed cannot be in the future."),
    ]:
        r = client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "observed_on": day,
                "method": "direct_observation",
                "context": "workplace",
                "narrative": "x",
            },
        )
        page = r.get_data(as_text=True)
        assert r.status_code == 400 and msg in errors_of(page, "observed_on")


def test_enrol_form(app, client, world):
    sign_in(client, "admin")
    with app.extensions["database"].sessions() as s:
        t2 = s.scalars(sa.select(User.id).where(User.username == "trainee2")).one()
        a = s.scalars(sa.select(User.id).where(User.username == "assessor2")).one()
        csc = s.get(Enrolment, world.open_enrolment).unit_version_id
    url = f"/cohorts/{world.cohort}/enrol"
    for day, msg in [
        ("0001-01-01", "Check the year: the start date cannot be before 1 January 2000."),
        ("9999-12-31", "Check the year: the start date can be no later than"),
    ]:
        r = client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "trainee": t2,
                "unit_version": csc,
                "assessors": [a],
                "start_date": day,
            },
        )
        page = r.get_data(as_text=True)
        assert r.status_code == 400 and msg in errors_of(page, "start_date")


def test_sign_off_form(app, client, world):
    with app.extensions["database"].sessions.begin() as s:
        e = s.get(Enrolment, world.open_enrolment)
        assessor = s.scalars(sa.select(User).where(User.username == "assessor")).one()
        maps = [MappingInput(e.id, t, Verdict.SATISFIED, "") for t in targets_of(e.unit_version)]
        record_evidence(s, assessor, e.trainee, observation(observed_on=datetime.date(2021, 1, 5)), maps, today=TODAY)
    sign_in(client, "assessor")
    url = f"/enrolments/{world.open_enrolment}/sign-off"
    for day, status, msg in [
        ("0001-01-01", 400, "The date of sign-off cannot be before the enrolment started, on 2 November 2020."),
        ("2020-11-01", 400, "The date of sign-off cannot be before the enrolment started, on 2 November 2020."),
        ("9999-12-31", 400, "The date of sign-off cannot be in the future."),
    ]:
        r = client.post(
            url,
            data={
                "csrf_token": csrf_token(client, url),
                "signed_on": day,
                "valid": "y",
                "sufficient": "y",
                "authentic": "y",
                "current": "y",
                "password": PASSWORD,
            },
        )
        page = r.get_data(as_text=True)
        assert r.status_code == status and msg in errors_of(page, "signed_on")
    r = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "signed_on": "2020-11-02",
            "valid": "y",
            "sufficient": "y",
            "authentic": "y",
            "current": "y",
            "password": PASSWORD,
        },
    )
    assert r.status_code == 302
