"""The request's commit point: kept when the view returns, nothing kept when it raises or refuses, and every refusal a
page in words with its own status."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import request

from assessor.core import database as db
from assessor.core.access import PUBLIC, allow
from assessor.core.audit import record
from assessor.domain.errors import ChangedMeanwhile, InvalidInput, Locked, NotAllowed, NotFound, OperationError
from assessor.evidence.held import forget_held_attachments
from assessor.models import Attachment, AuditEvent
from tests.web.conftest import PDF, WebWorld, csrf_token


def events(app) -> int:
    with app.extensions["database"].engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one()


@pytest.fixture
def unprotected(make_app):
    """An app without CSRF checks, with a route that writes an audit event and then does what it is told."""
    app = make_app(WTF_CSRF_ENABLED=False)

    @allow(PUBLIC)
    def write_then() -> str:
        record(db.session(), None, "test.write", "test", 1)
        match request.form["then"]:
            case "raise":
                raise InvalidInput({"field": "Refused after writing."})
            case "keep nothing":
                db.keep_nothing()
                return "shown again"
        return "kept"

    app.add_url_rule("/write-then", view_func=write_then, methods=["POST"])
    return app


@pytest.mark.parametrize(
    ("then", "status", "kept"),
    [("return", 200, 1), ("raise", 400, 0), ("keep nothing", 200, 0)],
)
def test_a_request_keeps_what_it_wrote_only_when_its_view_returns_normally(unprotected, then, status, kept):
    response = unprotected.test_client().post("/write-then", data={"then": then})
    assert response.status_code == status
    assert events(unprotected) == kept


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (NotFound("evidence"), 404, "not yours to see"),
        (NotAllowed("Only the trainee acknowledges."), 403, "Only the trainee acknowledges."),
        (InvalidInput({"reason": "Say why."}), 400, "Say why."),
        (ChangedMeanwhile("completion record"), 409, "changed by someone else meanwhile"),
        (Locked("It is signed off."), 409, "It is signed off."),
        (OperationError("Refused."), 400, "Refused."),
    ],
)
def test_every_refused_operation_is_a_page_in_words_with_its_status(make_app, error, status, words):
    app = make_app()

    @allow(PUBLIC)
    def refuse() -> str:
        raise error

    app.add_url_rule("/refuse", view_func=refuse)
    response = app.test_client().get("/refuse")
    assert response.status_code == status
    assert words in response.get_data(as_text=True)


def test_an_attachment_of_refused_evidence_is_held_for_the_next_try_and_removed_when_nobody_comes_back(
    app, signed_in, world: WebWorld
):
    client = signed_in("assessor")
    upload_dir = Path(app.config["UPLOAD_DIR"])
    before = set(upload_dir.iterdir())
    url = f"/trainees/{world.trainee_id}/evidence/new"
    data = {
        "csrf_token": csrf_token(client, url),
        "observed_on": "2999-01-01",  # passes the form, refused by the operation after the file is stored
        "method": "direct_observation",
        "context": "workplace",
        "narrative": "Observed the trainee.",
        "attachments": [(io.BytesIO(PDF), "notes.pdf")],
    }
    refused = client.post(url, data=data, content_type="multipart/form-data")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "cannot be in the future" in page and "Kept from your last try" in page
    (held,) = set(upload_dir.iterdir()) - before
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 3  # the world's, none new

    os.utime(held, (time.time() - 25 * 3600,) * 2)  # a day and an hour later, nobody came back for it
    with app.app_context():
        forget_held_attachments()
    assert set(upload_dir.iterdir()) == before  # the world's own attachments, recorded, are left alone
