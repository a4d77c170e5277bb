"""Request and text limits: a body too large is a 413 page in words, a text too long a message beside its field, and
neither stores anything."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from assessor.accounts.operations import create_user
from assessor.cohorts.operations import create_cohort
from assessor.domain import limits
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import Role
from assessor.models import AuditEvent, Evidence
from tests.records.factories import build_world
from tests.web.conftest import PDF, WebWorld, csrf_token, sign_in

MB = 1024 * 1024


def stored(app) -> tuple[int, int]:
    with app.extensions["database"].engine.connect() as connection:
        return (
            connection.execute(sa.select(sa.func.count()).select_from(Evidence)).scalar_one(),
            connection.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one(),
        )


def evidence_form(token: str, narrative: str = "Observed.", **more: object) -> dict[str, object]:
    return {
        "csrf_token": token,
        "observed_on": "2026-11-02",
        "method": "direct_observation",
        "context": "workplace",
        "narrative": narrative,
        **more,
    }


def post_multipart(client, url: str, fields: dict[str, object]):
    """Post a multipart body built in memory (the test client would spool a large one to a file nobody closes)."""
    boundary, body = encode_multipart(MultiDict(fields))
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_the_body_limit_is_set_from_the_attachment_limits(make_app):
    app = make_app(ATTACHMENT_MAX_BYTES=MB, ATTACHMENTS_PER_EVIDENCE=2)
    assert app.config["MAX_CONTENT_LENGTH"] == 3 * MB


def test_a_body_over_the_limit_is_refused_before_it_is_read_with_a_page_in_words(make_app, world: WebWorld):
    app = make_app(ATTACHMENT_MAX_BYTES=MB, ATTACHMENTS_PER_EVIDENCE=1)
    client = app.test_client()
    sign_in(client, "assessor")
    token = csrf_token(client, f"/trainees/{world.trainee_id}/evidence/new")
    before = stored(app)
    response = post_multipart(
        client,
        f"/trainees/{world.trainee_id}/evidence/new",
        evidence_form(token, attachments=FileStorage(io.BytesIO(PDF + b"\0" * (3 * MB)), "big.pdf")),
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page and "2 MB in all" in page
    assert stored(app) == before


def test_a_form_without_files_is_refused_past_a_megabyte(app, signed_in, world: WebWorld):
    client = signed_in("trainee")
    token = csrf_token(client, "/my/evidence/new")
    before = stored(app)
    response = client.post("/my/evidence/new", data=evidence_form(token, narrative="x" * (30 * MB)))
    assert response.status_code == 413
    assert "1 MB in all" in response.get_data(as_text=True)
    assert stored(app) == before


def test_one_huge_text_box_in_a_form_with_files_is_refused_with_a_page_not_a_crash(app, signed_in, world: WebWorld):
    client = signed_in("assessor")
    token = csrf_token(client, f"/trainees/{world.trainee_id}/evidence/new")
    response = post_multipart(
        client, f"/trainees/{world.trainee_id}/evidence/new", evidence_form(token, narrative="x" * 600_000)
    )
    assert response.status_code == 413
    assert "for any one text box" in response.get_data(as_text=True)


def test_a_narrative_or_comment_too_long_is_refused_beside_its_field(app, signed_in, world: WebWorld):
    client = signed_in("assessor")
    url = f"/trainees/{world.trainee_id}/evidence/new"
    token = csrf_token(client, url)
    before = stored(app)
    long_narrative = client.post(url, data=evidence_form(token, narrative="n" * (limits.NARRATIVE + 1)))
    assert long_narrative.status_code == 400
    assert 'id="narrative-errors"><li>Use at most 20000 characters.' in long_narrative.get_data(as_text=True)
    target = f"{world.open_enrolment}-1.2"
    long_comment = client.post(
        url, data=evidence_form(token, **{f"v-{target}": "satisfied", f"c-{target}": "c" * (limits.COMMENT + 1)})
    )
    assert long_comment.status_code == 400
    page = long_comment.get_data(as_text=True)
    assert f'id="c-{target}-errors"><li>Use at most 2,000 characters in a comment.' in page
    assert stored(app) == before


@pytest.mark.parametrize(
    ("field", "make"),
    [
        (
            "display_name",
            lambda db, w: create_user(db, w.admin, "newcomer", "N" * 201, Role.TRAINEE, "a long password here"),
        ),
        ("username", lambda db, w: create_user(db, w.admin, "u" * 65, "New", Role.TRAINEE, "a long password here")),
        ("name", lambda db, w: create_cohort(db, w.admin, "C" * 201)),
    ],
)
def test_the_operations_refuse_text_over_its_limit_whatever_calls_them(app, db, field, make):
    w = build_world(db, app.extensions["catalogue"])
    with pytest.raises(InvalidInput) as caught:
        make(db, w)
    assert caught.value.problems[field].startswith("Use at most")
