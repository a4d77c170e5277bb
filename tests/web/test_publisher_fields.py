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
from assessor.domain.errors import NotReady
from assessor.domain.standards import Catalogue, load_unit, parse_unit
from assessor.domain.vocabulary import EnrolmentStatus, Verdict
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.models import Enrolment, User
from assessor.records.operations import Declaration, sign_off
from assessor.standards.operations import register_units
from assessor.standards.queries import targets_of
from tests.records.factories import TODAY, observation
from tests.web.conftest import sign_in

DATA = Path(__file__).resolve().parents[1] / "data"
DECLARED = Declaration(True, True, True, True)


@pytest.fixture
def review_unit(app, world):
    """The review unit (which requires EXCLR001) and EXCLR001 itself loaded; trainee enrolled in both."""
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
        started = datetime.date(2026, 8, 1)
        ids = {u: enrol(session, admin, trainee, versions[u], [assessor], started).id for u in versions}
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
    message = "The trainee holds no completion record of EXCLR001, which this unit requires first."
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
