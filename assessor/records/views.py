"""Sign-off, completion records, revocation and the public check of a verification code."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, PasswordField, TextAreaField
from wtforms.validators import InputRequired, Length

from assessor import access, db
from assessor import operations as ops
from assessor.access import PUBLIC, SIGNED_IN, allow, me
from assessor.labels import CONTEXT, METHOD, obstacle
from assessor.models import CompletionRecord, Enrolment, Role
from assessor.views.auth import password_confirmed

bp = Blueprint("records", __name__)


class SignOffForm(FlaskForm):
    signed_on = DateField("Date of sign-off", validators=[InputRequired()])
    valid = BooleanField("The evidence is valid: it shows the criteria and items it is mapped to")
    sufficient = BooleanField("The evidence is sufficient: it covers every criterion and item, on enough occasions")
    authentic = BooleanField("The evidence is authentic: it is the trainee's own work and performance")
    current = BooleanField("The evidence is current: it shows what the trainee can do now")
    password = PasswordField("Your password, to confirm that you are signing", validators=[InputRequired()], render_kw={"autocomplete": "current-password"})


class RevokeForm(FlaskForm):
    reason = TextAreaField("Reason for revoking", validators=[InputRequired(message="Say why the record is revoked."), Length(max=2000)])


@bp.get("/enrolments/<int:enrolment_id>/sign-off")
@allow(Role.ASSESSOR)
def sign_off(enrolment_id: int) -> str:
    """The sign-off form, or every reason sign-off is not yet possible."""
    session = db.session()
    enrolment = _assigned_enrolment_or_404(enrolment_id)
    form = SignOffForm(signed_on=datetime.date.today())
    return _sign_off_page(enrolment, form, [obstacle(o) for o in ops.sign_off_obstacles(session, enrolment)])


@bp.post("/enrolments/<int:enrolment_id>/sign-off")
@allow(Role.ASSESSOR)
def sign_off_post(enrolment_id: int) -> Any:
    """Sign off: the declaration confirmed and the assessor's password re-entered."""
    session = db.session()
    enrolment = _assigned_enrolment_or_404(enrolment_id)
    form = SignOffForm()
    if not form.validate_on_submit():
        return _sign_off_page(enrolment, form, []), 400
    if not password_confirmed(form.password.data):
        form.password.errors = ["That is not your password."]
        return _sign_off_page(enrolment, form, []), 400
    if form.signed_on.data > datetime.date.today():
        form.signed_on.errors = ["The date of sign-off cannot be in the future."]
        return _sign_off_page(enrolment, form, []), 400
    declaration = ops.Declaration(form.valid.data, form.sufficient.data, form.authentic.data, form.current.data)
    try:
        record = ops.sign_off(session, me(), enrolment, declaration, form.signed_on.data)
    except ops.NotReady as exc:
        return _sign_off_page(enrolment, form, [obstacle(o) for o in exc.obstacles]), 409
    except ops.InvalidInput as exc:
        form.form_errors.extend(exc.problems.values())
        return _sign_off_page(enrolment, form, []), 400
    flash("Signed off. The completion record is below.", "success")
    return redirect(url_for("records.record", record_id=record.id))


@bp.get("/records/<int:record_id>")
@allow(SIGNED_IN)
def record(record_id: int) -> str:
    """A completion record, printable, with its frozen snapshot of the evidence."""
    item = access.record_or_404(db.session(), me(), record_id)
    can_revoke = item.revocation is None and current_user.role in (Role.ADMIN, Role.COORDINATOR)
    return render_template(
        "records/record.html",
        record=item,
        snapshot=item.snapshot,
        evidence={e["id"]: e for e in item.snapshot.get("evidence", [])},
        form=RevokeForm() if can_revoke else None,
        labels={"method": {m.value: label for m, label in METHOD.items()}, "context": {c.value: label for c, label in CONTEXT.items()}},
    )


@bp.post("/records/<int:record_id>/revoke")
@allow(Role.ADMIN, Role.COORDINATOR)
def revoke(record_id: int) -> Any:
    """Revoke a completion record, with the reason recorded."""
    session = db.session()
    item = access.record_or_404(session, me(), record_id)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            ops.revoke(session, me(), item, form.reason.data)
        except ops.InvalidInput as exc:
            flash(str(exc), "error")
            return redirect(url_for("records.record", record_id=item.id))
        flash("The completion record is revoked.", "success")
        return redirect(url_for("records.record", record_id=item.id))
    flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("records.record", record_id=item.id))


@bp.get("/verify")
@allow(PUBLIC)
def verify_form() -> Response | str:
    """Enter a verification code from a completion record."""
    code = (request.args.get("code") or "").strip()
    if code and len(code) <= 64:
        return redirect(url_for("records.verify", code=code))
    return render_template("records/verify.html", found=None, code=None)


@bp.get("/verify/<code>")
@allow(PUBLIC)
def verify(code: str) -> tuple[str, int]:
    """Whether a code belongs to a genuine, unrevoked completion record: name, unit, result and date only."""
    found = None
    if len(code) <= 64:
        found = db.session().scalar(sa.select(CompletionRecord).where(CompletionRecord.verification_code == code))
    return render_template("records/verify.html", found=found, code=code), 200 if found else 404


def _assigned_enrolment_or_404(enrolment_id: int) -> Enrolment:
    enrolment = access.enrolment_or_404(db.session(), me(), enrolment_id)
    if not any(a.id == current_user.id for a in enrolment.assessors):
        abort(404)
    return enrolment


def _sign_off_page(enrolment: Enrolment, form: SignOffForm, obstacles: list[str]) -> str:
    unit = ops.unit_of(enrolment.unit_version)
    return render_template("records/sign_off.html", enrolment=enrolment, unit=unit, form=form, obstacles=obstacles)
