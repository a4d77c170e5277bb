"""Bad uploads are refused with a message and nothing is stored: no file, no evidence, no audit event."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor.evidence.held import unhold
from assessor.models import Attachment, AuditEvent, Evidence, User
from tests.records.factories import TODAY
from tests.web.conftest import PDF, csrf_token, sign_in


@pytest.fixture
def upload(app, client, world):
    sign_in(client, "assessor")
    url = f"/trainees/{world.trainee_id}/evidence/new"
    engine = app.extensions["database"].engine
    upload_dir = Path(app.config["UPLOAD_DIR"])

    def counts():
        with engine.connect() as connection:
            return tuple(
                connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (Evidence, Attachment, AuditEvent)
            )

    before = counts(), sorted(upload_dir.iterdir())

    def post(filename: str, data: bytes):
        form = {
            "csrf_token": csrf_token(client, url),
            "observed_on": TODAY.isoformat(),
            "method": "work_product",
            "context": "workplace",
            "narrative": "Case plan written by the trainee.",
            "attachments": (io.BytesIO(data), filename),
        }
        response = client.post(url, data=form, content_type="multipart/form-data")
        return response, (counts(), sorted(upload_dir.iterdir())) == before

    return post


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("big.pdf", b"%PDF-1.4\n" + b"0" * 2048, "big.pdf is larger than"),
        (
            "setup.pdf",
            b"MZ\x90\x00" + b"\x00" * 64,
            "setup.pdf is not a PDF file: its content does not match its name.",
        ),
        (
            "page.pdf",
            b"<!doctype html><script>alert(1)</script>",
            "page.pdf is not a PDF file: its content does not match its name.",
        ),
        ("empty.pdf", b"", "empty.pdf is empty."),
        ("run.exe", b"MZ\x90\x00", "run.exe"),
    ],
    ids=["over-the-limit", "executable-named-pdf", "html-named-pdf", "empty", "exe"],
)
def test_bad_uploads_are_refused_and_store_nothing(app, upload, filename, data, message):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    response, unchanged = upload(filename, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert unchanged


def test_a_path_in_the_filename_is_stripped_and_the_file_kept_inside_the_upload_folder(app, upload):
    response, unchanged = upload("../../etc/notes.pdf", PDF)
    assert response.status_code == 302 and not unchanged
    with app.extensions["database"].sessions() as session:
        attachment = session.scalars(sa.select(Attachment).order_by(Attachment.id.desc())).first()
    assert attachment.original_name == "notes.pdf"
    stored = Path(app.config["UPLOAD_DIR"]) / attachment.stored_name
    assert stored.read_bytes() == PDF and stored.parent == Path(app.config["UPLOAD_DIR"])


def test_a_request_over_the_total_limit_is_refused(app, upload):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response, unchanged = upload("big.pdf", b"%PDF-1.4\n" + b"0" * 4096)
    assert response.status_code == 413
    assert "Nothing was saved" in response.get_data(as_text=True)
    assert unchanged


def test_the_evidence_form_hints_the_allowed_types_and_offers_the_camera_for_a_photo(signed_in, world):
    page = signed_in("assessor").get(f"/trainees/{world.trainee_id}/evidence/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*accept="\.pdf, \.png, \.jpg[^"]*"[^>]*name="attachments"', page)
    assert re.search(r'<input type="file" id="photo" name="attachments" accept="image/\*" capture="environment"', page)


def test_a_refused_form_keeps_its_attachment_for_the_next_try_and_only_for_its_author(app, signed_in, world):
    client = signed_in("assessor")
    url = f"/trainees/{world.trainee_id}/evidence/new"
    data = {
        "csrf_token": csrf_token(client, url),
        "observed_on": TODAY.isoformat(),
        "method": "direct_observation",
        "context": "workplace",
        "narrative": "",  # forgotten: refused by the form
        "attachments": [(io.BytesIO(PDF), "whiteboard.pdf")],
    }
    refused = client.post(url, data=data, content_type="multipart/form-data")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Kept from your last try, attached when you save: <strong>whiteboard.pdf</strong>" in page
    token = re.search(r'name="held" value="([^"]+)"', page).group(1)

    def send(client, **extra):
        form = {**data, "narrative": "Observed the review meeting.", "held": token, "attachments": [], **extra}
        form["csrf_token"] = csrf_token(client, url)
        return client.post(url, data=form, content_type="multipart/form-data")

    forged = send(client, held=token[:-4] + "AAAA")
    assert forged.status_code == 302  # saved, without a file it cannot vouch for
    assert "whiteboard.pdf" not in client.get(forged.headers["Location"]).get_data(as_text=True)
    with app.test_request_context():
        assert unhold(token, world.trainee_id) == []  # someone else's token names nothing for them
        assert [a.original_name for a in unhold(token, assessor_id(app))] == ["whiteboard.pdf"]
    kept = send(client)
    assert kept.status_code == 302
    assert "whiteboard.pdf" in client.get(kept.headers["Location"]).get_data(as_text=True)
    dropped = send(client, drop_held="1")
    assert dropped.status_code == 302
    assert "whiteboard.pdf" not in client.get(dropped.headers["Location"]).get_data(as_text=True)


def assessor_id(app) -> int:
    with app.extensions["database"].sessions() as session:
        return session.scalars(sa.select(User.id).where(User.username == "assessor")).one()


def recorded(app) -> tuple[int, list[str]]:
    """How many evidence.record events there are, and the stored names of every attachment."""
    with app.extensions["database"].engine.connect() as connection:
        events = sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "evidence.record")
        return connection.scalar(events), connection.execute(sa.select(Attachment.stored_name)).scalars().all()


def submission_of(client, url: str) -> str:
    found = re.search(r'name="submission" type="hidden" value="([0-9a-f]{32})"', client.get(url).get_data(as_text=True))
    assert found is not None
    return found[1]


def test_the_form_sent_twice_records_the_evidence_once_and_keeps_one_copy_of_its_file(app, signed_in, world):
    client = signed_in("assessor")
    url = f"/trainees/{world.trainee_id}/evidence/new"
    token = submission_of(client, url)
    events, files = recorded(app)

    def send():
        form = {
            "csrf_token": csrf_token(client, url),
            "submission": token,
            "observed_on": TODAY.isoformat(),
            "method": "work_product",
            "context": "workplace",
            "narrative": "Case plan written by the trainee.",
            "attachments": [(io.BytesIO(PDF), "plan.pdf")],
        }
        return client.post(url, data=form, content_type="multipart/form-data")

    first, second = send(), send()  # a double click
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.extensions["database"].sessions() as session:
        evidence = session.scalars(sa.select(Evidence).where(Evidence.submission == token)).one()
        assert [a.original_name for a in evidence.attachments] == ["plan.pdf"]
    assert first.headers["Location"].endswith(f"/evidence/{evidence.id}")
    events_after, files_after = recorded(app)
    assert events_after == events + 1 and len(files_after) == len(files) + 1
    assert sorted(p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()) == sorted(files_after)


def test_a_token_from_someone_elses_form_or_a_made_up_one_is_refused_and_records_nothing(app, signed_in, world):
    assessor = signed_in("assessor")
    url = f"/trainees/{world.trainee_id}/evidence/new"
    token = submission_of(assessor, url)
    sent = assessor.post(
        url,
        data={
            "csrf_token": csrf_token(assessor, url),
            "submission": token,
            "observed_on": TODAY.isoformat(),
            "method": "direct_observation",
            "context": "workplace",
            "narrative": "Observed the review meeting.",
        },
    )
    assert sent.status_code == 302
    before = recorded(app)
    trainee, own = signed_in("trainee"), "/my/evidence/new"
    for submission, message in (
        (token, "This form was sent from someone else&#39;s page: open it again."),
        ("not-a-token", "This form is out of date: open it again."),
    ):
        form = {
            "csrf_token": csrf_token(trainee, own),
            "submission": submission,
            "observed_on": TODAY.isoformat(),
            "method": "work_product",
            "context": "workplace",
            "narrative": "My case plan.",
        }
        refused = trainee.post(own, data=form)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert recorded(app) == before
