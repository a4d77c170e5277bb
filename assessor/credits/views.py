"""Credits for prerequisites, recorded and withdrawn from the page of an enrolment whose unit requires them."""

from __future__ import annotations

import datetime

from flask import Blueprint, abort, flash, redirect, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from assessor.core import database as db
from assessor.core.access import Permissions, allow, enrolment_for, me
from assessor.credits.forms import CreditForm, WithdrawCreditForm
from assessor.credits.operations import record_credit, withdraw_credit
from assessor.domain.errors import OperationError
from assessor.domain.vocabulary import RUNS_COHORTS
from assessor.models import Credit, Enrolment
from assessor.progress.queries import not_held, prerequisites_held
from assessor.standards.queries import unit_of

bp = Blueprint("credits", __name__)


@bp.post("/enrolments/<int:enrolment_id>/credits")
@allow(*RUNS_COHORTS)
def record(enrolment_id: int) -> Response:
    """Record a credit for one of the unit's prerequisites the trainee does not hold yet."""
    session = db.session()
    enrolment = _recordable(enrolment_id)
    form = CreditForm()
    missing = not_held(prerequisites_held(session, enrolment.trainee_id, unit_of(enrolment.unit_version)))
    form.unit.choices = missing
    if not form.validate_on_submit():
        _flash_errors(form)
    else:
        try:
            credit = record_credit(
                session,
                me(),
                enrolment.trainee,
                form.unit.data,
                form.awarded_on.data,
                form.source.data,
                datetime.date.today(),
            )
        except OperationError as exc:
            db.keep_nothing()
            flash(str(exc), "error")
        else:
            flash(f"Credit for {credit.unit} recorded.", "success")
    return redirect(url_for("progress.enrolment", enrolment_id=enrolment.id, _anchor="prerequisites"), code=303)


@bp.post("/enrolments/<int:enrolment_id>/credits/withdraw")
@allow(*RUNS_COHORTS)
def withdraw(enrolment_id: int) -> Response:
    """Withdraw one of the trainee's credits recorded in error, with why."""
    session = db.session()
    enrolment = _recordable(enrolment_id)
    form = WithdrawCreditForm()
    credit = session.get(Credit, form.credit.data or 0)
    if credit is None or credit.trainee_id != enrolment.trainee_id:
        abort(400)
    if not form.validate_on_submit():
        _flash_errors(form)
    else:
        try:
            withdraw_credit(session, me(), credit, form.reason.data)
        except OperationError as exc:
            db.keep_nothing()
            flash(str(exc), "error")
        else:
            flash(f"Credit for {credit.unit} withdrawn.", "success")
    return redirect(url_for("progress.enrolment", enrolment_id=enrolment.id, _anchor="prerequisites"), code=303)


def _flash_errors(form: FlaskForm) -> None:
    """A refused form's problems, said on the enrolment page it goes back to."""
    flash(" ".join(e for errors in form.errors.values() for e in errors), "error")


def _recordable(enrolment_id: int) -> Enrolment:
    """An enrolment whose trainee's credits the user records; as not found to anyone else."""
    enrolment = enrolment_for(db.session(), me(), enrolment_id)
    if not Permissions(me()).record_credit(enrolment):
        abort(404)
    return enrolment
