"""The coordinator's work: cohorts, their dashboards, people, enrolments and assessor assignment."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import (
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from assessor import db
from assessor import operations as ops
from assessor.access import allow, me
from assessor.labels import ENROLMENT_STATUS, ROLE
from assessor.models import Cohort, Enrolment, Role, UnitVersion, User, cohort_coordinator
from assessor.queries import cohort_overview

bp = Blueprint("cohorts", __name__)
MANAGERS = (Role.ADMIN, Role.COORDINATOR)


class CohortForm(FlaskForm):
    name = StringField("Cohort name", validators=[InputRequired(), Length(max=200)])


class PersonForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=64)])
    display_name = StringField("Full name", validators=[InputRequired(), Length(max=200)])
    email = EmailField("Email", validators=[Optional(), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice(Role.TRAINEE.value, "Trainee"), SelectChoice(Role.ASSESSOR.value, "Assessor")])
    password = PasswordField("First password", validators=[InputRequired()], description="At least 12 characters; give it to the person in person.")


class EnrolForm(FlaskForm):
    trainee = SelectField("Trainee", coerce=int)
    unit_version = SelectField("Unit", coerce=int)
    assessors = SelectMultipleField("Assessors", coerce=int)
    start_date = DateField("Start date", validators=[InputRequired()])


class AssignForm(FlaskForm):
    assessors = SelectMultipleField("Assessors", coerce=int)


class WithdrawForm(FlaskForm):
    reason = TextAreaField("Reason for withdrawing", validators=[InputRequired(message="Say why the trainee is withdrawn."), Length(max=2000)])


@bp.get("/cohorts")
@allow(*MANAGERS)
def cohorts() -> str:
    """The cohorts the user runs, with enrolment counts."""
    session = db.session()
    found = session.scalars(visible_cohorts(me()).order_by(Cohort.name)).all()
    counts = dict(
        session.execute(
            sa.select(Enrolment.cohort_id, sa.func.count(Enrolment.id)).where(Enrolment.cohort_id.in_([c.id for c in found])).group_by(Enrolment.cohort_id)
        ).all()
    ) if found else {}
    return render_template("cohorts/list.html", cohorts=found, counts=counts, form=CohortForm())


@bp.post("/cohorts")
@allow(*MANAGERS)
def create_cohort() -> Any:
    """Create a cohort; a coordinator who creates it runs it."""
    session = db.session()
    form = CohortForm()
    if form.validate_on_submit():
        try:
            cohort = ops.create_cohort(session, me(), form.name.data, [me()] if me().role == Role.COORDINATOR else [])
        except ops.InvalidInput as exc:
            form.name.errors = list(exc.problems.values())
        else:
            flash(f"Cohort {cohort.name} created.", "success")
            return redirect(url_for("cohorts.dashboard", cohort_id=cohort.id))
    found = session.scalars(visible_cohorts(me()).order_by(Cohort.name)).all()
    return render_template("cohorts/list.html", cohorts=found, counts={}, form=form), 400


@bp.get("/cohorts/<int:cohort_id>")
@allow(*MANAGERS)
def dashboard(cohort_id: int) -> str:
    """Counts per status and a heat map of trainees × components, with enrolments gone quiet flagged."""
    session = db.session()
    cohort = _cohort_or_404(cohort_id)
    stale_days = current_app.config["STALE_AFTER_DAYS"]
    counts, units = cohort_overview(session, cohort.id, stale_days, datetime.date.today())
    # Built once and completed with each id: url_for for each of a thousand rows costs a tenth of the page.
    enrolment_path = url_for("assessing.enrolment", enrolment_id=0).removesuffix("0")
    return render_template(
        "cohorts/dashboard.html", cohort=cohort, counts=counts, units=units, statuses=ENROLMENT_STATUS, stale_days=stale_days, enrolment_path=enrolment_path
    )


@bp.get("/cohorts/<int:cohort_id>/enrol")
@allow(*MANAGERS)
def enrol(cohort_id: int) -> str:
    """The form to enrol a trainee of this cohort in a unit version."""
    cohort = _cohort_or_404(cohort_id)
    form = _enrol_form(EnrolForm(start_date=datetime.date.today()))
    return render_template("cohorts/enrol.html", cohort=cohort, form=form)


@bp.post("/cohorts/<int:cohort_id>/enrol")
@allow(*MANAGERS)
def enrol_post(cohort_id: int) -> Any:
    """Enrol the trainee; refused with the reason for a deleted unit or a duplicate."""
    session = db.session()
    cohort = _cohort_or_404(cohort_id)
    form = _enrol_form(EnrolForm())
    if form.validate_on_submit():
        trainee = session.get(User, form.trainee.data)
        version = session.get(UnitVersion, form.unit_version.data)
        assessors = session.scalars(sa.select(User).where(User.id.in_(form.assessors.data))).all()
        try:
            enrolment = ops.enrol(session, me(), trainee, version, assessors, form.start_date.data, cohort)
        except ops.InvalidInput as exc:
            _field_errors(form, {"unit": "unit_version"}, exc.problems)
        else:
            flash(f"{trainee.display_name} is enrolled in {version.title}.", "success")
            return redirect(url_for("assessing.enrolment", enrolment_id=enrolment.id))
    return render_template("cohorts/enrol.html", cohort=cohort, form=form), 400


@bp.post("/enrolments/<int:enrolment_id>/assessors")
@allow(*MANAGERS)
def assign(enrolment_id: int) -> Response:
    """Assign or reassign the enrolment's assessors."""
    session = db.session()
    enrolment = _managed_enrolment_or_404(enrolment_id)
    form = AssignForm()
    form.assessors.choices = _assessor_choices()
    if form.validate_on_submit():
        assessors = session.scalars(sa.select(User).where(User.id.in_(form.assessors.data))).all()
        try:
            ops.assign_assessors(session, me(), enrolment, assessors)
        except ops.OperationError as exc:
            flash(str(exc), "error")
        else:
            flash("Assessors updated.", "success")
    else:
        flash("Choose at least one assessor.", "error")
    return redirect(url_for("assessing.enrolment", enrolment_id=enrolment.id))


@bp.post("/enrolments/<int:enrolment_id>/withdraw")
@allow(*MANAGERS)
def withdraw(enrolment_id: int) -> Response:
    """Withdraw the trainee from the unit, with the reason recorded."""
    session = db.session()
    enrolment = _managed_enrolment_or_404(enrolment_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            ops.withdraw(session, me(), enrolment, form.reason.data)
        except ops.OperationError as exc:
            flash(str(exc), "error")
        else:
            flash("The trainee is withdrawn from this unit.", "success")
    else:
        flash("Say why the trainee is withdrawn.", "error")
    return redirect(url_for("assessing.enrolment", enrolment_id=enrolment.id))


@bp.get("/people/new")
@allow(*MANAGERS)
def new_person() -> str:
    """The form to create a trainee or assessor account."""
    return render_template("cohorts/person.html", form=PersonForm())


@bp.post("/people/new")
@allow(*MANAGERS)
def new_person_post() -> Any:
    """Create the account."""
    form = PersonForm()
    if form.validate_on_submit():
        try:
            user = ops.create_user(
                db.session(), me(), form.username.data, form.display_name.data, Role(form.role.data), form.password.data, form.email.data or None
            )
        except ops.InvalidInput as exc:
            _field_errors(form, {}, exc.problems)
        else:
            flash(f"{ROLE[user.role]} account {user.username} created.", "success")
            return redirect(url_for("cohorts.new_person"))
    return render_template("cohorts/person.html", form=form), 400


def enrolment_forms(enrolment: Enrolment) -> dict[str, FlaskForm]:
    """The assign and withdraw forms shown on an enrolment page to those who manage it."""
    assign_form = AssignForm(assessors=[a.id for a in enrolment.assessors])
    assign_form.assessors.choices = _assessor_choices()
    return {"assign": assign_form, "withdraw": WithdrawForm()}


def visible_cohorts(user: User) -> sa.Select[tuple[Cohort]]:
    """The cohorts a user runs: a coordinator's own, or every cohort for an admin."""
    query = sa.select(Cohort)
    if user.role == Role.COORDINATOR:
        query = query.join(cohort_coordinator).where(cohort_coordinator.c.user_id == user.id)
    return query


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = db.session().scalar(visible_cohorts(me()).where(Cohort.id == cohort_id))
    return cohort if cohort is not None else abort(404)


def _managed_enrolment_or_404(enrolment_id: int) -> Enrolment:
    enrolment = db.session().get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.cohort_id is None:
        abort(404)
    _cohort_or_404(enrolment.cohort_id)
    return enrolment


def _assessor_choices() -> list[SelectChoice]:
    assessors = db.session().scalars(sa.select(User).where(User.role == Role.ASSESSOR, User.active.is_(True)).order_by(User.display_name))
    return [SelectChoice(a.id, f"{a.display_name} ({a.username})") for a in assessors]


def _enrol_form(form: EnrolForm) -> EnrolForm:
    session = db.session()
    trainees = session.scalars(sa.select(User).where(User.role == Role.TRAINEE, User.active.is_(True)).order_by(User.display_name))
    form.trainee.choices = [SelectChoice(t.id, f"{t.display_name} ({t.username})") for t in trainees]
    versions = session.scalars(sa.select(UnitVersion).order_by(UnitVersion.title, UnitVersion.version))
    form.unit_version.choices = [SelectChoice(v.id, f"{v.code + ' ' if v.code else ''}{v.title} (version {v.version})") for v in versions]
    form.assessors.choices = _assessor_choices()
    return form


def _field_errors(form: FlaskForm, renames: dict[str, str], problems: dict[str, str]) -> None:
    for name, message in problems.items():
        field = getattr(form, renames.get(name, name), None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
