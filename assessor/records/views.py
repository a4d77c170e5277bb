"""Sign-off, completion records, revocation and the public check of a verification code."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from assessor.accounts.operations import confirm_password
from assessor.core import audit_confirm
from assessor.core import database as db
from assessor.core.access import PUBLIC, SIGNED_IN, Permissions, allow, enrolment_for, me, record_for
from assessor.core.forms import show_problems
from assessor.core.labels import obstacle
from assessor.credentials.forms import PresentCredentialForm, TakeCredentialForm
from assessor.domain.errors import InvalidInput, NotFound, NotReady
from assessor.domain.vocabulary import Role
from assessor.models import CompletionRecord, Enrolment, SampleReview
from assessor.progress.queries import sign_off_obstacles
from assessor.records.forms import RevokeForm, SignOffForm
from assessor.records.operations import revoke, sign_off
from assessor.records.printing import NoPdf, record_context, record_pdf
from assessor.standards.queries import unit_of

bp = Blueprint("records", __name__, template_folder="templates")
NOT_CACHED = {"Cache-Control": "no-store"}


@bp.get("/enrolments/<int:enrolment_id>/sign-off", endpoint="sign_off")
@allow(Role.ASSESSOR)
def sign_off_form(enrolment_id: int) -> str:
    """The sign-off form, or every reason sign-off is not yet possible."""
    enrolment = _assessed(enrolment_id)
    form = SignOffForm(signed_on=datetime.date.today())
    return _page(enrolment, form, [obstacle(o) for o in sign_off_obstacles(db.session(), enrolment)])


@bp.post("/enrolments/<int:enrolment_id>/sign-off")
@allow(Role.ASSESSOR)
def sign_off_post(enrolment_id: int) -> Any:
    """Sign off: the declaration confirmed and the assessor's password re-entered."""
    enrolment = _assessed(enrolment_id)
    form = SignOffForm()
    if not form.validate_on_submit():
        return _page(enrolment, form, []), 400
    address = request.remote_addr or "unknown"
    refusal = confirm_password(db.session(), me(), form.password.data, address, form.code.data)
    if refusal is not None:  # a wrong password is kept (the view returns normally): it counts toward the throttle
        getattr(form, refusal.field).errors = [refusal.message]
        return _page(enrolment, form, []), 429 if refusal.throttled else 400
    try:
        record = sign_off(db.session(), me(), enrolment, form.declaration(), form.signed_on.data)
    except NotReady as exc:
        db.keep_nothing()
        return _page(enrolment, form, [obstacle(o) for o in exc.obstacles]), 409
    except InvalidInput as exc:
        db.keep_nothing()
        show_problems(form, exc.problems)
        return _page(enrolment, form, []), 400
    if isinstance(record, SampleReview):
        flash("Signed off. The record is issued when a quality assurer countersigns it.", "success")
        return redirect(url_for("progress.enrolment", enrolment_id=enrolment.id))
    flash("Signed off. The completion record is below.", "success")
    return redirect(url_for("records.record", record_id=record.id))


@bp.get("/records/<int:record_id>")
@allow(SIGNED_IN)
def record(record_id: int) -> str:
    """A completion record, printable, with its frozen snapshot of the evidence."""
    item = record_for(db.session(), me(), record_id)
    can_revoke = item.revocation is None and Permissions(me()).manage_enrolment(item.enrolment)
    can_take_credential = item.revocation is None and Permissions(me()).take_credential(item.enrolment)
    return render_template(
        "records/record.html",
        record=item,
        snapshot=item.snapshot,
        evidence={e["id"]: e for e in item.snapshot.get("evidence", [])},
        form=RevokeForm() if can_revoke else None,
        credential_form=TakeCredentialForm() if can_take_credential else None,
        **record_context(item, unit_of(item.enrolment.unit_version)),
    )


@bp.get("/records/<int:record_id>/pdf")
@allow(SIGNED_IN)
def record_pdf_download(record_id: int) -> Response:
    """The completion record as a PDF, for whoever may see it."""
    item = record_for(db.session(), me(), record_id)
    try:
        pdf = record_pdf(item, unit_of(item.enrolment.unit_version))
    except NoPdf:
        flash("This server cannot make PDFs (it lacks the Pango library): print the page instead.", "error")
        return redirect(url_for("records.record", record_id=item.id))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="completion-record-{item.id}.pdf"'
    return response


@bp.post("/records/<int:record_id>/revoke", endpoint="revoke")
@allow(Role.ADMIN, Role.COORDINATOR)
def revoke_post(record_id: int) -> Any:
    """Revoke a completion record, with the reason recorded."""
    session = db.session()
    item = record_for(session, me(), record_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    else:
        try:
            revoke(session, me(), item, form.reason.data)
        except InvalidInput as exc:
            db.keep_nothing()
            flash(str(exc), "error")
        else:
            flash("The completion record is revoked.", "success")
    return redirect(url_for("records.record", record_id=item.id))


@bp.get("/verify")
@allow(PUBLIC)
def verify_form() -> Response | tuple[str, int, dict[str, str]]:
    """Enter a verification code from a completion record."""
    code = (request.args.get("code") or "").strip()
    if code and len(code) <= 64:
        return redirect(url_for("records.verify", code=code))
    form = PresentCredentialForm()
    return render_template("records/verify.html", found=None, code=None, credential_form=form), 200, NOT_CACHED


@bp.get("/verify/<code>")
@allow(PUBLIC)
def verify(code: str) -> tuple[str, int, dict[str, str]]:
    """Whether a code belongs to a genuine, unrevoked completion record: name, unit, result and date only, and only
    when the audit trail vouches for the record as it is stored (signed with the audit key); otherwise it cannot be
    confirmed, and nothing of it is shown."""
    found = None
    if len(code) <= 64:
        found = db.session().scalar(sa.select(CompletionRecord).where(CompletionRecord.verification_code == code))
    confirmed = audit_confirm.confirm(db.session(), found) if found is not None else None
    status = 404 if confirmed is None else 409 if confirmed.verdict == "unconfirmed" else 200
    # Never from a cache: a revocation must show at once, and the code is as good as a password to the record.
    page = render_template(
        "records/verify.html", confirmed=confirmed, code=code, credential_form=PresentCredentialForm()
    )
    return page, status, NOT_CACHED


def _assessed(enrolment_id: int) -> Enrolment:
    """An enrolment the signed-in assessor assesses; as not found to anyone else."""
    enrolment = enrolment_for(db.session(), me(), enrolment_id)
    if not Permissions(me()).assess(enrolment):
        raise NotFound("enrolment")
    return enrolment


def _page(enrolment: Enrolment, form: SignOffForm, obstacles: list[str]) -> str:
    unit = unit_of(enrolment.unit_version)
    return render_template("records/sign_off.html", enrolment=enrolment, unit=unit, form=form, obstacles=obstacles)
