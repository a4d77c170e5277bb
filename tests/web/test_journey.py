"""The assessor's whole journey through the test client: record, judge, sign off, print, verify, revoke."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from assessor.models import Enrolment, Evidence
from assessor.standards.queries import targets_of
from tests.records.factories import PASSWORD, TODAY
from tests.web.conftest import PDF, csrf_token, sign_in


def test_assessor_records_judges_signs_off_and_the_record_is_verified_then_revoked(app, client, world):
    assert sign_in(client, "assessor").status_code == 302
    home = client.get("/enrolments").get_data(as_text=True)
    assert "My trainees" in home and "Trainee" in home

    # One observation, with an attachment, mapped to criteria in both seed units.
    form_page = client.get(f"/trainees/{world.trainee_id}/evidence/new")
    assert form_page.status_code == 200
    page = form_page.get_data(as_text=True)
    assert "CSCOFM023 Establish offender management practices" in page
    with app.extensions["database"].sessions() as session:
        csc = session.get(Enrolment, world.open_enrolment)
        targets = list(targets_of(csc.unit_version))
    # The NZQA enrolment is signed off, so it is not in the checklist; map into CSCOFM023 fully.
    data = {
        "csrf_token": csrf_token(client, f"/trainees/{world.trainee_id}/evidence/new"),
        "observed_on": TODAY.isoformat(),
        "method": "direct_observation",
        "context": "workplace",
        "location": "Regional office",
        "narrative": "Observed the trainee lead the design of the case management system with the team leaders.",
        "attachments": (io.BytesIO(PDF), "plan.pdf"),
    }
    for target in targets:
        data[f"v-{world.open_enrolment}-{target}"] = "satisfied"
    data[f"c-{world.open_enrolment}-1.1"] = "Clear needs analysis."
    response = client.post(f"/trainees/{world.trainee_id}/evidence/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    evidence_url = response.headers["Location"]
    evidence_page = client.get(evidence_url).get_data(as_text=True)
    assert "plan.pdf" in evidence_page and "Clear needs analysis." in evidence_page
    attachment_link = re.search(r'href="(/attachments/\d+)">plan.pdf', evidence_page).group(1)
    download = client.get(attachment_link)
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    download.close()

    # The enrolment is ready; sign off with the declaration and the password.
    enrolment_page = client.get(f"/enrolments/{world.open_enrolment}").get_data(as_text=True)
    assert "Nothing is missing" in enrolment_page
    sign_off_url = f"/enrolments/{world.open_enrolment}/sign-off"
    token = csrf_token(client, sign_off_url)
    wrong = client.post(
        sign_off_url,
        data={
            "csrf_token": token,
            "signed_on": TODAY.isoformat(),
            "valid": "y",
            "sufficient": "y",
            "authentic": "y",
            "current": "y",
            "password": "not my password",
        },
    )
    assert wrong.status_code == 400 and "That is not your password." in wrong.get_data(as_text=True)
    signed = client.post(
        sign_off_url,
        data={
            "csrf_token": token,
            "signed_on": TODAY.isoformat(),
            "valid": "y",
            "sufficient": "y",
            "authentic": "y",
            "current": "y",
            "password": PASSWORD,
        },
    )
    assert signed.status_code == 302
    record_url = signed.headers["Location"]
    record_page = client.get(record_url).get_data(as_text=True)
    assert "Competent" in record_page and "Establish offender management practices" in record_page
    code = re.search(r"<code>([A-Za-z0-9_-]{24,})</code>", record_page).group(1)
    assert 'class="printable"' in record_page  # print stylesheet hides navigation on this page

    # Anyone can verify the code: name, unit, result and date only.
    public = app.test_client()
    verified = public.get(f"/verify/{code}")
    text = verified.get_data(as_text=True)
    assert verified.status_code == 200 and "Genuine." in text and "Competent" in text
    assert "Observed the trainee" not in text

    # A coordinator revokes it with a reason; the code then says so.
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    token = csrf_token(coordinator, record_url)
    revoked = coordinator.post(
        f"{record_url}/revoke", data={"csrf_token": token, "reason": "Assessed against the wrong version."}
    )
    assert revoked.status_code == 302
    assert "Assessed against the wrong version." in coordinator.get(record_url).get_data(as_text=True)
    after = public.get(f"/verify/{code}").get_data(as_text=True)
    assert "Revoked." in after and "Genuine." not in after


def test_a_refused_evidence_form_keeps_what_was_typed(client, world):
    sign_in(client, "assessor")
    url = f"/trainees/{world.trainee_id}/evidence/new"
    data = {
        "csrf_token": csrf_token(client, url),
        "observed_on": "",
        "method": "direct_observation",
        "context": "workplace",
        "narrative": "Typed with care on a tablet.",
        f"v-{world.open_enrolment}-1.4": "not_yet",
        f"c-{world.open_enrolment}-1.4": "Needs another try.",
    }
    response = client.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter the date it was observed." in page
    assert "Typed with care on a tablet." in page
    assert f'name="v-{world.open_enrolment}-1.4" value="not_yet" checked' in page
    assert 'value="Needs another try."' in page


def test_stale_edit_in_the_browser_is_refused_with_a_message(app, client, world):
    sign_in(client, "assessor")
    url = f"/evidence/{world.open_evidence}/edit"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    token = csrf_token(client, url)
    base = {
        "csrf_token": token,
        "version": version,
        "observed_on": TODAY.isoformat(),
        "method": "direct_observation",
        "context": "workplace",
        f"v-{world.open_enrolment}-1.1": "satisfied",
    }
    first = client.post(url, data={**base, "narrative": "First correction."})
    assert first.status_code == 302
    second = client.post(url, data={**base, "narrative": "Second, based on the old version."})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Someone else saved this evidence while you were working on it" in page
    assert "First correction." in page and "Second, based on the old version." in page  # theirs beside yours
    with app.extensions["database"].sessions() as session:
        assert session.get(Evidence, world.open_evidence).narrative == "First correction."


def test_signed_off_evidence_cannot_be_edited(client, world, app):
    with app.extensions["database"].sessions() as session:
        locked = session.scalar(
            sa.select(Evidence.id).where(Evidence.trainee_id == world.trainee_id).order_by(Evidence.id)
        )
    sign_in(client, "assessor")
    assert client.get(f"/evidence/{locked}/edit").status_code == 404
    assert "Edit evidence" not in client.get(f"/evidence/{locked}").get_data(as_text=True)


def test_sign_off_page_lists_the_reasons_when_not_ready(client, world):
    sign_in(client, "assessor")
    page = client.get(f"/enrolments/{world.open_enrolment}/sign-off").get_data(as_text=True)
    assert "cannot be signed off yet" in page
    assert "Criterion 1.2 is not yet met." in page
    assert "Evidence item KE16.1 is not yet covered." in page


def test_mapping_matrix_shows_each_judgement(client, world):
    sign_in(client, "assessor")
    page = client.get(f"/enrolments/{world.open_enrolment}/matrix").get_data(as_text=True)
    assert f'href="/evidence/{world.open_evidence}">#{world.open_evidence}' in page
    assert "Satisfied" in page and "KE17.8" in page


def test_a_completed_or_withdrawn_unit_says_so_and_lists_nothing_missing(app, signed_in, world):
    trainee = signed_in("trainee")
    completed = trainee.get(f"/enrolments/{world.completed_enrolment}").get_data(as_text=True)
    assert "Completion record:" in completed
    assert "Still missing" not in completed and "not open for sign-off" not in completed
    coordinator = signed_in("coordinator")
    page = f"/enrolments/{world.open_enrolment}"
    assert "Still missing" in coordinator.get(page).get_data(as_text=True)
    withdrawn = coordinator.post(
        f"{page}/withdraw", data={"csrf_token": csrf_token(coordinator, page), "reason": "Left the employer."}
    )
    assert withdrawn.status_code == 302
    shown = trainee.get(page).get_data(as_text=True)
    assert "Withdrawn from this unit" in shown and "Still missing" not in shown


def test_evidence_history_is_told_in_words_to_the_trainee_and_the_assessor(app, signed_in, world):
    assessor = signed_in("assessor")
    url = f"/evidence/{world.open_evidence}"
    edit = f"{url}/edit"
    page = assessor.get(edit).get_data(as_text=True)
    data = {name: value for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    data |= {
        "csrf_token": csrf_token(assessor, edit),
        "method": "direct_observation",
        "context": "workplace",
        "narrative": "Interviewed a client about housing and income support.",
        f"v-{world.open_enrolment}-1.1": "not_yet",
        f"c-{world.open_enrolment}-1.1": "Missed asking about income support",
    }
    assert assessor.post(edit, data=data).status_code == 302
    for viewer in (assessor, signed_in("trainee")):
        history = viewer.get(url).get_data(as_text=True).split('id="history"')[1]
        assert "Assessor recorded it." in history
        assert "Assessor attached notes.pdf." in history and "Assessor attached more.pdf." in history
        assert "Assessor mapped it to 1.1 of CSCOFM023, judged Satisfied." in history
        assert "Assessor changed the account of what was observed." in history
        assert "Assessor judged 1.1 of CSCOFM023 Not yet satisfied: Missed asking about income support." in history
        assert "mapping.add" not in history and "stored_name" not in history and "sha256" not in history


def test_the_evidence_form_shows_where_each_target_stands_and_keeps_the_satisfied_out_of_sight(signed_in, world):
    assessor = signed_in("assessor")
    page = assessor.get(f"/trainees/{world.trainee_id}/evidence/new").get_data(as_text=True)
    # CSCOFM023 1.1 is satisfied by the world's observation; every other target is still to show.
    target = re.search(
        r'<fieldset class="checklist-target( met)?">\s*<legend><span class="ref">1.1</span>(.*?)</legend>', page, re.S
    )
    assert target and target.group(1) == " met" and 'class="status status-satisfied"' in target.group(2)
    assert page.count('class="checklist-target met"') == 1
    assert '<label for="show-met" class="show-met-label">Show the 1 already satisfied</label>' in page
    assert page.count('class="status status-not_started"') > 10
    assert '<script src="/static/evidence-form.js" defer></script>' in page
    edit = assessor.get(f"/evidence/{world.open_evidence}/edit").get_data(as_text=True)
    assert 'class="checklist-target met"' not in edit  # what this evidence maps stays in sight


def test_a_trainees_home_shows_their_units_as_cards_without_staff_filters(signed_in, world):
    page = signed_in("trainee").get("/enrolments").get_data(as_text=True)
    assert 'aria-label="Filter enrolments"' not in page
    assert page.count('<li class="card">') == 2 and '<ul class="unit-cards">' in page
    assert 'aria-label="Filter enrolments"' in signed_in("assessor").get("/enrolments").get_data(as_text=True)
