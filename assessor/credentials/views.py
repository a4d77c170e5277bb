"""The issuer's public documents (profile and keys, status lists), the trainee's download of a record's credential,
and the public check of a presented credential."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from assessor.core import database as db
from assessor.core.access import PUBLIC, allow, me, record_for
from assessor.core.security import body_limit
from assessor.credentials.forms import PresentCredentialForm, TakeCredentialForm
from assessor.credentials.operations import (
    MAX_BYTES,
    check_presented,
    credential_of,
    downloaded,
    issuer_document,
    read_presented,
    status_list_credential,
    verification_method,
)
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import Role

bp = Blueprint("credentials", __name__, template_folder="templates")
NOT_CACHED = {"Cache-Control": "no-store"}
JSON_LD = "application/ld+json"
# A credential at its largest, in a form with its token, pasted or as a file (or both: only the file is read).
BODY_BYTES = 2 * MAX_BYTES + 16 * 1024


def _json(document: dict[str, Any], **headers: str) -> Response:
    response = Response(json.dumps(document, indent=2, ensure_ascii=False) + "\n", mimetype=JSON_LD)
    response.headers.update(headers)
    return response


@bp.get("/credentials/issuer")
@allow(PUBLIC)
def issuer() -> Response:
    """The issuer's Profile, which also lists its keys (current and retired) as assertion methods."""
    return _json(issuer_document())


@bp.get("/credentials/issuer/keys/<public_key>")
@allow(PUBLIC)
def key(public_key: str) -> Response:
    """One of the issuer's keys, as a Multikey verification method."""
    document = verification_method(public_key)
    if document is None:
        abort(404)
    return _json(document)


@bp.get("/credentials/status/<int:number>")
@allow(PUBLIC)
def status_list(number: int) -> Response:
    """A revocation status list as it stands now, signed; never from a cache, so that a revocation shows at once."""
    return _json(status_list_credential(db.session(), number), **NOT_CACHED)


@bp.post("/records/<int:record_id>/credential", endpoint="download")
@allow(Role.TRAINEE)
def download(record_id: int) -> Any:
    """The record's Open Badges credential as a file, issued the first time; for the trainee only."""
    session = db.session()
    item = record_for(session, me(), record_id)
    if not TakeCredentialForm().validate_on_submit():
        flash("The form expired: try again.", "error")
        return redirect(url_for("records.record", record_id=item.id))
    try:
        issued = credential_of(session, me(), item)
    except InvalidInput as exc:
        db.keep_nothing()
        flash(str(exc), "error")
        return redirect(url_for("records.record", record_id=item.id))
    response = Response(downloaded(session, me(), issued), mimetype=JSON_LD)
    response.headers["Content-Disposition"] = f'attachment; filename="credential-{item.id}.json"'
    response.headers.update(NOT_CACHED)
    return response


@bp.get("/verify/credential")
@allow(PUBLIC)
def present_form() -> tuple[str, int, dict[str, str]]:
    """Paste or upload a credential to check it."""
    return render_template("credentials/verify.html", form=PresentCredentialForm(), verdict=None), 200, NOT_CACHED


@bp.post("/verify/credential")
@allow(PUBLIC)
@body_limit(BODY_BYTES)
def present() -> tuple[str, int, dict[str, str]]:
    """Whether a presented credential is genuine, revoked, tampered with, or not one of ours."""
    form = PresentCredentialForm()
    if not form.validate_on_submit():
        return render_template("credentials/verify.html", form=form, verdict=None), 400, NOT_CACHED
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.read(MAX_BYTES + 1)
    else:
        data = (form.credential.data or "").encode()
    try:
        document = read_presented(data)
    except InvalidInput as exc:
        form.credential.errors = [str(exc.problems["credential"])]
        return render_template("credentials/verify.html", form=form, verdict=None), 400, NOT_CACHED
    verdict = check_presented(db.session(), document)
    status = 200 if verdict.verdict == "genuine" else 409 if verdict.verdict == "revoked" else 422
    return render_template("credentials/verify.html", form=form, verdict=verdict), status, NOT_CACHED
