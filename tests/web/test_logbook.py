"""A unit that asks for logged hours: the trainee logs a day's work, an assessor verifies it, and sign-off waits
for enough verified hours and says how many are missing."""

from __future__ import annotations

import datetime
import io
import re

import pypdf
import pytest
import sqlalchemy as sa

from assessor.carry_over.operations import move, preview
from assessor.cohorts.operations import enrol
from assessor.core.audit_verify import verify
from assessor.demo.sample import EXAMPLES
from assessor.domain.errors import Locked
from assessor.domain.standards import Catalogue, load_unit, parse_unit
from assessor.domain.vocabulary import EnrolmentStatus, Verdict
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.logbook.operations import log_hours, verify_hours
from assessor.models import AuditEvent, Enrolment, LogbookEntry, User
from assessor.records.operations import Declaration, sign_off
from assessor.standards.operations import register_units
from assessor.standards.queries import targets_of
from tests.records.factories import TODAY, observation
from tests.web.conftest import WebWorld, csrf_token

STARTED = datetime.date(2026, 8, 1)


@pytest.fixture
def hours(app, world: WebWorld) -> int:
    """The trainee in release 2 of the example unit (40 hours of support work), every criterion and item met."""
    with app.extensions["database"].sessions.begin() as session:
        (version,) = register_units(session, Catalogue((load_unit(EXAMPLES / "example_support_plans_2.yaml"),)))
        admin, assessor, trainee = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("admin", "assessor", "trainee")
        )
        cohort = session.get_one(Enrolment, world.open_enrolment).cohort
        enrolment = enrol(session, admin, trainee, version, [assessor], STARTED, cohort)
        every = [MappingInput(enrolment.id, t, Verdict.SATISFIED) for t in targets_of(version)]
        for _ in range(2):  # PE1 needs two occasions
            record_evidence(session, assessor, trainee, observation(), every, today=TODAY)
        return enrolment.id


def _log(client, enrolment_id: int, **fields: str):
    url = f"/enrolments/{enrolment_id}/logbook"
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="submission" type="hidden" value="([0-9a-f]{32})"', page)[1]
    data = {"csrf_token": csrf_token(client, url), "submission": token, "worked_on": "2026-09-01", "hours": "8"}
    return client.post(url, data={**data, **fields})


def _entries(app) -> list[LogbookEntry]:
    with app.extensions["database"].read_sessions() as session:
        return list(session.scalars(sa.select(LogbookEntry).order_by(LogbookEntry.id)))


def test_sign_off_waits_for_verified_hours_and_says_how_many(app, signed_in, hours):
    trainee, assessor = signed_in("trainee"), signed_in("assessor")
    page = assessor.get(f"/enrolments/{hours}").get_data(as_text=True)
    needs = "The logbook needs 40 hours of support work with people in their own homes verified by an assessor"
    assert f"{needs}; it has 0." in page and "0 of 40 hours verified" in page
    for day in range(1, 6):
        response = _log(trainee, hours, worked_on=f"2026-09-0{day}", description=f"Day {day} with Mr Hēnare.")
        assert response.status_code == 302
    assert [e.minutes for e in _entries(app)] == [480] * 5
    logbook = assessor.get(f"/enrolments/{hours}/logbook").get_data(as_text=True)
    assert "Verified</dt><dd>0 of 40 hours" in logbook and "Logged</dt><dd>40 hours" in logbook
    url = f"/enrolments/{hours}/logbook/verify"
    for entry in _entries(app)[:4]:
        assert (
            assessor.post(
                url, data={"csrf_token": csrf_token(assessor, url.removesuffix("/verify")), "entry": entry.id}
            ).status_code
            == 303
        )
    assert f"{needs}; it has 32." in assessor.get(f"/enrolments/{hours}").get_data(as_text=True)
    last = _entries(app)[4]
    assert (
        assessor.post(
            url, data={"csrf_token": csrf_token(assessor, url.removesuffix("/verify")), "entry": last.id}
        ).status_code
        == 303
    )
    with app.extensions["database"].read_sessions() as session:
        assert session.get_one(Enrolment, hours).status == EnrolmentStatus.READY_FOR_SIGN_OFF
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("logbook.%"))).all()
    assert actions.count("logbook.log") == 5 and actions.count("logbook.verify") == 5
    assert "Nothing is missing" in assessor.get(f"/enrolments/{hours}").get_data(as_text=True)


def test_the_same_form_sent_twice_logs_once_and_a_trainee_cannot_verify(app, signed_in, hours):
    trainee = signed_in("trainee")
    url = f"/enrolments/{hours}/logbook"
    page = trainee.get(url).get_data(as_text=True)
    token = re.search(r'name="submission" type="hidden" value="([0-9a-f]{32})"', page)[1]
    data = {"csrf_token": csrf_token(trainee, url), "submission": token, "worked_on": "2026-09-01", "hours": "7.5"}
    data["description"] = "Support at home."
    assert trainee.post(url, data=data).status_code == 302
    assert trainee.post(url, data=data).status_code == 302
    (entry,) = _entries(app)
    assert entry.minutes == 450
    refused = trainee.post(f"{url}/verify", data={"csrf_token": csrf_token(trainee, url), "entry": entry.id})
    assert refused.status_code == 303
    assert "Only an assessor of this open enrolment who did not log these hours verifies them." in trainee.get(
        url
    ).get_data(as_text=True)
    assert _entries(app)[0].verified_at is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hours": "0", "description": "x"}, "Log between a minute and 24 hours for one day."),
        ({"hours": "25", "description": "x"}, "Log between a minute and 24 hours for one day."),
        ({"hours": "lots", "description": "x"}, "Not a valid decimal value."),
        ({"worked_on": "2999-01-01", "description": "x"}, "The day worked cannot be in the future."),
        ({"worked_on": "2026-07-31", "description": "x"}, "The day worked cannot be before the enrolment started"),
        ({"description": " "}, "Say what the work was"),
        ({"description": "x" * 2001}, "Use at most 2000 characters."),
    ],
)
def test_wrong_hours_are_refused_with_a_message_and_log_nothing(app, signed_in, hours, fields, message):
    response = _log(signed_in("trainee"), hours, **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert _entries(app) == []


def test_a_unit_without_hours_has_no_logbook_and_another_trainee_sees_none(world, signed_in, hours):
    assert signed_in("trainee").get(f"/enrolments/{world.open_enrolment}/logbook").status_code == 404
    assert signed_in("trainee2").get(f"/enrolments/{hours}/logbook").status_code == 404


def test_whoever_logged_hours_does_not_verify_them_and_a_day_holds_at_most_24_hours(app, signed_in, hours):
    assessor = signed_in("assessor")
    assert _log(assessor, hours, hours="20", description="Logged for the trainee.").status_code == 302
    too_many = _log(assessor, hours, hours="5", description="Same day again.")
    assert too_many.status_code == 400 and "2026-09-01 has hours logged already" in too_many.get_data(as_text=True)
    (entry,) = _entries(app)
    url = f"/enrolments/{hours}/logbook"
    page = assessor.get(url).get_data(as_text=True)
    assert "Verify 2026-09-01" not in page
    assessor.post(f"{url}/verify", data={"csrf_token": csrf_token(assessor, url), "entry": entry.id})
    assert "who did not log these hours verifies them" in assessor.get(url).get_data(as_text=True)
    assert _entries(app)[0].verified_at is None


def test_hours_are_verified_once_the_trail_checks_them_and_they_move_with_the_enrolment(app, signed_in, hours):
    with app.extensions["database"].sessions.begin() as session:
        enrolment = session.get_one(Enrolment, hours)
        trainee, assessor = (session.scalar(sa.select(User).where(User.username == n)) for n in ("trainee", "assessor"))
        for n, minutes in enumerate((1440, 959)):  # 39 hours 59 minutes over two days
            worked = datetime.date(2026, 9, 2 + n)
            entry = log_hours(session, trainee, enrolment, worked, minutes, "Support.", f"{n:032d}", TODAY)
            verify_hours(session, assessor, enrolment, entry)
        with pytest.raises(Locked, match="verified already"):
            verify_hours(session, assessor, enrolment, entry)
    page = signed_in("assessor").get(f"/enrolments/{hours}").get_data(as_text=True)
    assert "it has 39 h 59 min." in page  # never rounded up to the 40 it has not reached
    # A release 3 that keeps the logbook: the hours go with the enrolment.
    third = (
        (EXAMPLES / "example_support_plans_2.yaml")
        .read_text(encoding="utf-8")
        .replace("version: 2\n", "version: 3\n", 1)
    )
    with app.extensions["database"].sessions.begin() as session:
        (version,) = register_units(session, Catalogue((parse_unit(third, "r3.yaml"),)))
        coordinator = session.scalar(sa.select(User).where(User.username == "coordinator"))
        enrolment = session.get_one(Enrolment, hours)
        moved = move(
            session, coordinator, enrolment, version, preview(session, coordinator, enrolment, version).fingerprint
        )
        moved_id = moved.id
    with app.extensions["database"].sessions() as session:
        carried = session.scalars(sa.select(LogbookEntry).where(LogbookEntry.enrolment_id == moved_id)).all()
        assert [(e.minutes, e.verified_by_id is not None) for e in carried] == [(1440, True), (959, True)]
        assert verify(session).problems == []


def test_the_completion_record_keeps_the_hours_verified_at_sign_off(app, signed_in, hours):
    trainee = signed_in("trainee")
    for day in range(1, 7):  # 45 hours: five days of 8 and one of 5
        worked = {"worked_on": f"2026-09-0{day}", "hours": "5" if day == 6 else "8", "description": "Home visits."}
        assert _log(trainee, hours, **worked).status_code == 302
    with app.extensions["database"].sessions.begin() as session:
        assessor = session.scalars(sa.select(User).where(User.username == "assessor")).one()
        enrolment = session.get_one(Enrolment, hours)
        for entry in session.scalars(sa.select(LogbookEntry).order_by(LogbookEntry.id)).all():
            verify_hours(session, assessor, enrolment, entry)
        record_id = sign_off(session, assessor, enrolment, Declaration(True, True, True, True), TODAY).id
    said = "45 hours of support work with people in their own homes verified (40 required)"
    page = signed_in("assessor").get(f"/records/{record_id}").get_data(as_text=True)
    assert f"<dt>Hours of work</dt><dd>{said}</dd>" in page
    pdf = pypdf.PdfReader(io.BytesIO(trainee.get(f"/records/{record_id}/pdf").data))
    assert f"Hours of work {said}" in re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pdf.pages))
