"""The two leaks a tester found between the access checks, closed: each answers 404 and changes nothing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import assign_assessors, create_cohort, enrol
from assessor.domain.errors import InvalidInput, NotAllowed
from assessor.domain.vocabulary import Role, Verdict
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.models import AuditEvent, Enrolment, Evidence
from tests.records.factories import TODAY, build_world, make_user, observation
from tests.web.conftest import csrf_token, sign_in, stored_attachment
from tests.web.test_exports_download import download_as


@dataclass
class Split:
    """Trainee T: NZQA assessed by `assessor`, CSCOFM023 by `assessor2`; evidence mapped only to the NZQA unit."""

    trainee_id: int
    nz_enrolment: int
    csc_enrolment: int
    evidence: int
    attachment: int
    shared_evidence: int  # mapped to both units


@pytest.fixture
def split(app) -> Split:
    with app.extensions["database"].sessions.begin() as session:
        w = build_world(session, app.extensions["catalogue"])
        make_user(session, "coordinator2", Role.COORDINATOR)
        shared = record_evidence(
            session, w.assessor, w.trainee, observation("Case conference."),
            [MappingInput(w.nz_enrolment.id, "2.1", Verdict.SATISFIED),
             MappingInput(w.csc_enrolment.id, "1.3", Verdict.SATISFIED)],
            today=TODAY,
        )  # fmt: skip
        # From now on the second assessor assesses the trainee's CSCOFM023, the first only the NZQA unit.
        assign_assessors(session, w.admin, w.csc_enrolment, [w.other_assessor])
        upload = stored_attachment(Path(app.config["UPLOAD_DIR"]))
        evidence = record_evidence(
            session, w.assessor, w.trainee, observation("Interview about housing, NZQA only."),
            [MappingInput(w.nz_enrolment.id, "1.1", Verdict.SATISFIED)], [upload], today=TODAY,
        )  # fmt: skip
        return Split(
            w.trainee.id, w.nz_enrolment.id, w.csc_enrolment.id, evidence.id, evidence.attachments[0].id, shared.id
        )


def snapshot(app) -> tuple[object, ...]:
    with app.extensions["database"].engine.connect() as connection:
        return (
            connection.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one(),
            connection.execute(sa.select(Evidence.id, Evidence.narrative, Evidence.context, Evidence.version)).all(),
            connection.execute(sa.select(sa.func.count()).select_from(Enrolment)).scalar_one(),
        )


def test_an_assessor_of_another_unit_of_the_trainee_cannot_reach_evidence_mapped_only_elsewhere(app, split):
    """Leak 1: assessor2 assesses only T's CSCOFM023 and opened, edited and downloaded evidence of T's NZQA unit."""
    client = app.test_client()
    assert sign_in(client, "assessor2").status_code == 302
    before = snapshot(app)
    for url in (f"/evidence/{split.evidence}", f"/evidence/{split.evidence}/edit", f"/attachments/{split.attachment}"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/enrolments")
    edited = client.post(
        f"/evidence/{split.evidence}/edit",
        data={"csrf_token": token, "version": "1", "observed_on": "2026-11-02", "method": "direct_observation",
              "context": "off_the_job", "narrative": "Rewritten by someone who does not assess this unit."},
    )  # fmt: skip
    assert edited.status_code == 404
    assert snapshot(app) == before
    # The first assessor, who assesses the NZQA unit, still reaches all of it.
    own = app.test_client()
    sign_in(own, "assessor")
    assert own.get(f"/evidence/{split.evidence}").status_code == 200
    download = own.get(f"/attachments/{split.attachment}")
    assert download.status_code == 200
    download.close()


def test_evidence_shared_between_units_is_judged_by_each_assessor_but_its_details_change_only_with_both(app, split):
    client = app.test_client()
    sign_in(client, "assessor2")
    assert client.get(f"/evidence/{split.shared_evidence}").status_code == 200
    page = client.get(f"/evidence/{split.shared_evidence}/edit")
    assert page.status_code == 200
    before = snapshot(app)
    token = csrf_token(client, f"/evidence/{split.shared_evidence}/edit")
    refused = client.post(
        f"/evidence/{split.shared_evidence}/edit",
        data={"csrf_token": token, "version": "1", "observed_on": "2026-11-02", "method": "direct_observation",
              "context": "off_the_job", "narrative": "Case conference.", f"v-{split.csc_enrolment}-1.3": "satisfied"},
    )  # fmt: skip
    assert refused.status_code == 409
    assert "also counts toward units you do not assess" in refused.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_coordinator_cannot_enrol_another_coordinators_trainee_and_so_reaches_nothing_of_theirs(app, split):
    """Leak 2: a coordinator running no cohort of T's created a cohort, enrolled T and read T's evidence."""
    client = app.test_client()
    sign_in(client, "coordinator2")
    token = csrf_token(client, "/cohorts")
    made = client.post("/cohorts", data={"csrf_token": token, "name": "Coordinator two's intake"})
    assert made.status_code == 302
    cohort_path = made.headers["Location"]
    enrol_page = client.get(f"{cohort_path}/enrol").get_data(as_text=True)
    assert f'value="{split.trainee_id}"' not in enrol_page  # not offered
    before = snapshot(app)
    with app.extensions["database"].sessions() as session:
        nz = session.scalar(sa.select(Enrolment.unit_version_id).where(Enrolment.id == split.nz_enrolment))
    refused = client.post(
        f"{cohort_path}/enrol",
        data={"csrf_token": token, "trainee": split.trainee_id, "unit_version": nz, "assessors": [1],
              "start_date": "2026-11-01"},
    )  # fmt: skip
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)  # not offered
    assert snapshot(app) == before
    for url in (f"/evidence/{split.evidence}", f"/attachments/{split.attachment}", f"/enrolments/{split.nz_enrolment}"):
        assert client.get(url).status_code == 404, url
    book = download_as(client, "evidence")
    assert "housing" not in str([row for ws in book.worksheets for row in ws.iter_rows(values_only=True)])


def test_enrolling_another_coordinators_trainee_is_refused_by_the_operation_too(app, db):
    w = build_world(db, app.extensions["catalogue"])
    other = make_user(db, "coordinator2", Role.COORDINATOR)
    cohort = create_cohort(db, other, "Elsewhere", [other])
    with pytest.raises(NotAllowed):
        enrol(db, other, w.trainee, w.nz, [w.assessor], TODAY, cohort)
    # A trainee enrolled nowhere yet is theirs to enrol.
    newcomer = make_user(db, "newcomer", Role.TRAINEE)
    assert enrol(db, other, newcomer, w.nz, [w.assessor], TODAY, cohort).cohort_id == cohort.id


def test_only_an_administrator_backdates_an_enrolment_past_its_units_deletion(app, db):
    w = build_world(db, app.extensions["catalogue"])
    cohort = create_cohort(db, w.coordinator, "Carry-over", [w.coordinator])
    newcomer = make_user(db, "newcomer", Role.TRAINEE)
    before_deletion = datetime.date(2020, 6, 1)
    with pytest.raises(InvalidInput) as caught:
        enrol(db, w.coordinator, newcomer, w.csc, [w.assessor], before_deletion, cohort)
    assert "only an administrator" in caught.value.problems["unit"]
    assert enrol(db, w.admin, newcomer, w.csc, [w.assessor], before_deletion, cohort).start_date == before_deletion
