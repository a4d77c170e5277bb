"""What publishers print beyond the criteria: their own release, section names, sector, planned review date,
standard-setting body, and prerequisite units, which sign-off checks."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from assessor.cli.standards import unit_tree
from assessor.cohorts.operations import enrol
from assessor.core.audit_verify import verify
from assessor.credits.operations import record_credit, withdraw_credit
from assessor.domain.errors import InvalidInput, NotReady
from assessor.domain.standards import Catalogue, load_unit, parse_unit
from assessor.domain.vocabulary import EnrolmentStatus, Verdict
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.models import AuditEvent, Credit, Enrolment, User
from assessor.records.operations import Declaration, sign_off
from assessor.standards.operations import register_units
from assessor.standards.queries import targets_of
from tests.records.factories import TODAY, observation
from tests.web.conftest import csrf_token, sign_in

DATA = Path(__file__).resolve().parents[1] / "data"
DECLARED = Declaration(True, True, True, True)


@pytest.fixture
def review_unit(app, world):
    """The review unit (which requires EXCLR001) and EXCLR001 itself loaded; trainee enrolled in both, in the
    coordinator's cohort."""
    review = load_unit(DATA / "publisher_fields.yaml")
    document = yaml.safe_load(review.source_text)
    document.update(id="example_interview", code="EXCLR001", title="Interview clients", publisher_version="Release 1")
    del document["prerequisites"]
    interview = parse_unit(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "interview.yaml")
    with app.extensions["database"].sessions.begin() as session:
        versions = {v.unit_id: v for v in register_units(session, Catalogue((review, interview)))}
        admin, assessor, trainee = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("admin", "assessor", "trainee")
        )
        started, cohort = datetime.date(2026, 8, 1), session.get_one(Enrolment, world.open_enrolment).cohort
        ids = {u: enrol(session, admin, trainee, versions[u], [assessor], started, cohort).id for u in versions}
    return ids


def test_the_unit_page_and_standards_show_carry_what_the_publisher_printed(client, review_unit):
    page = client.get("/standards/example_client_review/v1").get_data(as_text=True)
    for text in [
        "Release 2",
        "Community services",
        "Example Skills Council",
        "2028-06-30",
        "EXCLR001 Interview clients",
        "Elements and performance criteria",
        '<h2 id="guidance">Explanatory notes</h2>',
    ]:
        assert text in page, text
    lines = list(unit_tree(load_unit(DATA / "publisher_fields.yaml")))
    for line in [
        "  Publisher's version: Release 2",
        "  Sector: Community services",
        "  Standard-setting body: Example Skills Council",
        "  Planned review: 2028-06-30",
        "  Prerequisite: EXCLR001 Interview clients",
        "  Explanatory notes",
    ]:
        assert line in lines, line


def test_sign_off_waits_for_the_prerequisite_and_says_so(app, client, world, review_unit):
    database = app.extensions["database"]
    with database.sessions.begin() as session:
        satisfied(session, session.get_one(Enrolment, review_unit["example_client_review"]))
    sign_in(client, "assessor")
    page = client.get(f"/enrolments/{review_unit['example_client_review']}").get_data(as_text=True)
    message = "The trainee holds no completion record of EXCLR001, nor a credit for it, which this unit requires first."
    assert (
        message in page
        and '<li>EXCLR001 Interview clients: <span class="status status-not_yet_satisfied">Not held yet' in page
    )
    with database.sessions() as session:
        review = session.get_one(Enrolment, review_unit["example_client_review"])
        assert review.status == EnrolmentStatus.ACTIVE  # every criterion met, the prerequisite not held
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        with pytest.raises(NotReady):
            sign_off(session, assessor, review, DECLARED, TODAY)
    # once the trainee holds EXCLR001, nothing stands in the way
    with database.sessions.begin() as session:
        interview = session.get_one(Enrolment, review_unit["example_interview"])
        sign_off(session, satisfied(session, interview), interview, DECLARED, TODAY)
    with database.sessions() as session:  # issuing the prerequisite's record made it ready
        assert (
            session.get_one(Enrolment, review_unit["example_client_review"]).status
            == EnrolmentStatus.READY_FOR_SIGN_OFF
        )
    page = client.get(f"/enrolments/{review_unit['example_client_review']}").get_data(as_text=True)
    assert message not in page and "Nothing is missing" in page
    assert '<li>EXCLR001 Interview clients: <span class="status status-satisfied">Held</span>' in page


def satisfied(session, enrolment: Enrolment) -> User:
    """Every criterion of the enrolment judged satisfied by its assessor, who is returned."""
    assessor = enrolment.assessors[0]
    mappings = [MappingInput(enrolment.id, key, Verdict.SATISFIED) for key in targets_of(enrolment.unit_version)]
    record_evidence(session, assessor, enrolment.trainee, observation(), mappings, today=TODAY)
    return assessor


def test_conditions_and_foundation_skills_keep_their_paragraphs_lists_and_table(client, review_unit):
    page = client.get("/standards/example_client_review/v1").get_data(as_text=True)
    conditions = page[page.index('id="conditions"') : page.index('id="rules"')]
    assert "<p>Assessors must have access to:</p><ul><li>the organisation&#39;s case review policy</li>" in conditions
    foundation = page[page.index('id="foundation"') :]
    assert '<th scope="row">Oral communication</th>' in foundation
    assert (
        "<p>Asks open questions to:</p><ul><li>confirm the client&#39;s goals</li><li>check what has changed</li>"
        in (foundation)
    )
    lines = list(unit_tree(load_unit(DATA / "publisher_fields.yaml")))
    assert "    Reading: Interprets case notes to identify changes in the client's situation." in lines


def _credit_form(client, enrolment_id: int, **data: str):
    url = f"/enrolments/{enrolment_id}"
    return client.post(f"{url}/credits", data={"csrf_token": csrf_token(client, url), **data})


def _audited(app) -> list[str]:
    with app.extensions["database"].read_sessions() as session:
        return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_credit_for_the_prerequisite_lets_sign_off_go_ahead_and_withdrawing_it_stops_it(app, signed_in, review_unit):
    review_id = review_unit["example_client_review"]
    database = app.extensions["database"]
    with database.sessions.begin() as session:
        satisfied(session, session.get_one(Enrolment, review_id))
    coordinator = signed_in("coordinator")
    page = coordinator.get(f"/enrolments/{review_id}").get_data(as_text=True)
    assert "Record a credit for a prerequisite" in page and '<option value="EXCLR001">' in page
    source = "NZQA Record of Achievement seen, dated 12 March 2024."
    response = _credit_form(coordinator, review_id, unit="EXCLR001", awarded_on="2024-03-12", source=source)
    assert response.status_code == 303
    page = coordinator.get(f"/enrolments/{review_id}").get_data(as_text=True)
    assert "Credit for EXCLR001 recorded." in page
    assert '<li>EXCLR001 Interview clients: <span class="status status-satisfied">Held</span>' in page
    assert f"Credit for EXCLR001, awarded 2024-03-12: {source}" in page and "Nothing is missing" in page
    with database.sessions() as session:
        assert session.get_one(Enrolment, review_id).status == EnrolmentStatus.READY_FOR_SIGN_OFF
        credit = session.scalars(sa.select(Credit)).one()
        assert (credit.unit, credit.awarded_on, credit.source) == ("EXCLR001", datetime.date(2024, 3, 12), source)
    assert _audited(app)[-2:] == ["credit.record", "enrolment.status"]

    url = f"/enrolments/{review_id}"
    withdrawn = coordinator.post(
        f"{url}/credits/withdraw",
        data={
            "csrf_token": csrf_token(coordinator, url),
            "credit": credit.id,
            "reason": "Recorded for the wrong person.",
        },
    )
    assert withdrawn.status_code == 303
    page = coordinator.get(url).get_data(as_text=True)
    assert "Not held yet" in page and "<strong>withdrawn</strong>" in page and "Recorded for the wrong person." in page
    with database.sessions() as session:
        assert session.get_one(Enrolment, review_id).status == EnrolmentStatus.ACTIVE
    assert _audited(app)[-2:] == ["credit.withdraw", "enrolment.status"]
    again = coordinator.post(
        f"{url}/credits/withdraw",
        data={"csrf_token": csrf_token(coordinator, url), "credit": credit.id, "reason": "Twice."},
    )
    assert again.status_code == 303
    assert "was withdrawn already" in coordinator.get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"unit": "EXCLR001", "awarded_on": "2024-03-12", "source": " "}, "Say where it was achieved"),
        ({"unit": "EXCLR001", "awarded_on": "2099-01-01", "source": "Seen."}, "cannot be in the future"),
        ({"unit": "EXCLR001", "awarded_on": "1900-01-01", "source": "Seen."}, "Check the year"),
        ({"unit": "EXCLR001", "awarded_on": "12/03/2024", "source": "Seen."}, "Not a valid date value."),
        ({"unit": "EXCLR009", "awarded_on": "2024-03-12", "source": "Seen."}, "Not a valid choice."),
        ({"unit": "EXCLR001", "awarded_on": "2024-03-12", "source": "x" * 2001}, "Use at most 2000 characters."),
    ],
)
def test_a_wrong_credit_is_refused_with_a_message_and_records_nothing(app, signed_in, review_unit, data, message):
    review_id = review_unit["example_client_review"]
    coordinator = signed_in("coordinator")
    before = _audited(app)
    assert _credit_form(coordinator, review_id, **data).status_code == 303
    assert message in coordinator.get(f"/enrolments/{review_id}").get_data(as_text=True)
    assert _audited(app) == before


def test_the_same_credit_sent_twice_is_recorded_once_and_the_trail_verifies(app, review_unit):
    database = app.extensions["database"]
    with database.sessions.begin() as session:
        coordinator, trainee = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("coordinator", "trainee")
        )
        credit = record_credit(session, coordinator, trainee, "EXCLR001", datetime.date(2024, 3, 12), "Seen.", TODAY)
        with pytest.raises(InvalidInput, match="has a credit for exclr001 already"):
            record_credit(session, coordinator, trainee, "exclr001", datetime.date(2024, 3, 12), "Seen.", TODAY)
        withdraw_credit(session, coordinator, credit, "Wrong person.")
        record_credit(session, coordinator, trainee, "exclr001", datetime.date(2024, 3, 12), "Seen again.", TODAY)
    with database.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Credit)) == 2
        assert verify(session).problems == []


@pytest.mark.parametrize("username", ["trainee", "assessor", "qa"])
def test_only_administrators_and_the_trainees_coordinators_record_credits(app, signed_in, review_unit, username):
    review_id = review_unit["example_client_review"]
    client = signed_in(username)
    page = client.get(f"/enrolments/{review_id}")
    assert "Record a credit" not in page.get_data(as_text=True)
    token = csrf_token(client, "/enrolments")
    data = {"csrf_token": token, "unit": "EXCLR001", "awarded_on": "2024-03-12", "source": "Seen."}
    assert client.post(f"/enrolments/{review_id}/credits", data=data).status_code == 404
    with app.extensions["database"].read_sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Credit)) == 0
