"""An enrolment's logbook: the hours its unit asks for, what is logged and what an assessor has verified."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for

from assessor.core import database as db
from assessor.core.access import SIGNED_IN, Permissions, allow, enrolment_for, me
from assessor.core.forms import show_problems
from assessor.domain.errors import InvalidInput, OperationError
from assessor.logbook.forms import LogForm, VerifyForm
from assessor.logbook.operations import log_hours, verify_hours
from assessor.models import Enrolment, LogbookEntry
from assessor.standards.queries import unit_of

bp = Blueprint("logbook", __name__, template_folder="templates")


@bp.get("/enrolments/<int:enrolment_id>/logbook")
@allow(SIGNED_IN)
def logbook(enrolment_id: int) -> str:
    """The logbook of an enrolment whose unit asks for hours."""
    enrolment = _with_logbook(enrolment_id)
    return _page(enrolment, LogForm(worked_on=datetime.date.today()).fresh())


@bp.post("/enrolments/<int:enrolment_id>/logbook")
@allow(SIGNED_IN)
def log(enrolment_id: int) -> Any:
    """Log a day's work; refused with its reasons, the form kept."""
    session = db.session()
    enrolment = _with_logbook(enrolment_id)
    form = LogForm()
    if form.validate_on_submit():
        minutes = int((form.hours.data * 60).to_integral_value(ROUND_HALF_UP))
        try:
            log_hours(
                session,
                me(),
                enrolment,
                form.worked_on.data,
                minutes,
                form.description.data,
                form.submission.data,
                datetime.date.today(),
            )
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems, {"minutes": "hours", "submission": "_none"})
            form.fresh()
        else:
            flash("Hours logged: an assessor verifies them before they count.", "success")
            return redirect(url_for("logbook.logbook", enrolment_id=enrolment.id))
    return _page(enrolment, form), 400


@bp.post("/enrolments/<int:enrolment_id>/logbook/verify")
@allow(SIGNED_IN)
def verify(enrolment_id: int) -> Any:
    """Verify one entry."""
    session = db.session()
    enrolment = _with_logbook(enrolment_id)
    form = VerifyForm()
    entry = session.get(LogbookEntry, form.entry.data or 0) if form.validate_on_submit() else None
    if entry is None or entry.enrolment_id != enrolment.id:
        abort(400)
    try:
        verify_hours(session, me(), enrolment, entry)
    except OperationError as exc:
        db.keep_nothing()
        flash(str(exc), "error")
    else:
        flash(f"Hours of {entry.worked_on.isoformat()} verified.", "success")
    return redirect(url_for("logbook.logbook", enrolment_id=enrolment.id), code=303)


def _with_logbook(enrolment_id: int) -> Enrolment:
    """An enrolment the user sees whose unit asks for logged hours; as not found otherwise."""
    enrolment = enrolment_for(db.session(), me(), enrolment_id)
    if unit_of(enrolment.unit_version).logbook is None:
        abort(404)
    return enrolment


def _page(enrolment: Enrolment, form: LogForm) -> str:
    session = db.session()
    entries = session.scalars(
        sa.select(LogbookEntry).where(LogbookEntry.enrolment_id == enrolment.id).order_by(LogbookEntry.worked_on)
    ).all()
    return render_template(
        "logbook/logbook.html",
        enrolment=enrolment,
        unit=unit_of(enrolment.unit_version),
        entries=entries,
        verified=sum(e.minutes for e in entries if e.verified_at),
        logged=sum(e.minutes for e in entries),
        form=form,
        verify_form=VerifyForm(),
        may_log=Permissions(me()).log_hours(enrolment),
        may_verify={e.id for e in entries if Permissions(me()).verify_hours(enrolment, e)},
    )
