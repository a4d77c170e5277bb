"""The coordinator's work: cohorts, their dashboards, people, enrolments and assessor assignment."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from assessor.accounts.operations import create_user, invite, print_invitation
from assessor.accounts.views import code_slip
from assessor.cohorts.forms import AssignForm, CohortForm, EnrolForm, PersonForm, WithdrawForm, assessor_choices
from assessor.cohorts.operations import assign_assessors, create_cohort, enrol, withdraw
from assessor.cohorts.queries import cohort_overview, cohort_page
from assessor.core import database as db
from assessor.core.access import Permissions, allow, cohort_for, enrolment_for, me
from assessor.core.forms import show_problems
from assessor.core.labels import label
from assessor.core.revalidation import revalidated
from assessor.domain import limits
from assessor.domain.errors import InvalidInput, NotFound, OperationError
from assessor.domain.vocabulary import RUNS_COHORTS, EnrolmentStatus, Role
from assessor.models import Enrolment, UnitVersion, User

bp = Blueprint("cohorts", __name__, template_folder="templates")


@bp.get("/cohorts")
@allow(*RUNS_COHORTS)
def cohorts() -> str:
    """The cohorts the user runs, with enrolment counts."""
    return _list_page(CohortForm())


@bp.post("/cohorts", endpoint="create_cohort")
@allow(*RUNS_COHORTS)
def create_cohort_post() -> Any:
    """Create a cohort; a coordinator who creates it runs it."""
    form = CohortForm()
    if form.validate_on_submit():
        try:
            cohort = create_cohort(db.session(), me(), form.name.data, [me()] if me().role == Role.COORDINATOR else [])
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems)
        else:
            flash(f"Cohort {cohort.name} created.", "success")
            return redirect(url_for("cohorts.dashboard", cohort_id=cohort.id))
    return _list_page(form), 400


@bp.get("/cohorts/<int:cohort_id>")
@allow(*RUNS_COHORTS)
@revalidated
def dashboard(cohort_id: int) -> str:
    """Counts per status and a heat map of trainees × components, with enrolments gone quiet flagged."""
    session = db.session()
    cohort = cohort_for(session, me(), cohort_id)
    stale_days = current_app.config["STALE_AFTER_DAYS"]
    overview = cohort_overview(
        session,
        cohort.id,
        stale_days,
        datetime.date.today(),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["HEAT_MAP_ROWS_PER_PAGE"],
    )
    # Built once and completed with each id: url_for for each of hundreds of rows costs a tenth of the page.
    enrolment_path = url_for("progress.enrolment", enrolment_id=0).removesuffix("0")
    return render_template(
        "cohorts/dashboard.html",
        cohort=cohort,
        overview=overview,
        statuses=list(EnrolmentStatus),
        stale_days=stale_days,
        enrolment_path=enrolment_path,
    )


@bp.get("/cohorts/<int:cohort_id>/enrol", endpoint="enrol")
@allow(*RUNS_COHORTS)
def enrol_form(cohort_id: int) -> str:
    """The form to enrol a trainee of this cohort in a unit version."""
    cohort = cohort_for(db.session(), me(), cohort_id)
    form = EnrolForm(start_date=datetime.date.today()).with_choices(cohort)
    return render_template("cohorts/enrol.html", cohort=cohort, form=form)


@bp.post("/cohorts/<int:cohort_id>/enrol")
@allow(*RUNS_COHORTS)
def enrol_post(cohort_id: int) -> Any:
    """Enrol the trainee; refused with the reason for a deleted unit, a duplicate or another coordinator's trainee."""
    session = db.session()
    cohort = cohort_for(session, me(), cohort_id)
    form = EnrolForm().with_choices(cohort)
    if form.validate_on_submit():
        trainee = session.get(User, form.trainee.data)
        version = session.get(UnitVersion, form.unit_version.data)
        assessors = session.scalars(sa.select(User).where(User.id.in_(form.assessors.data))).all()
        if trainee is None or version is None:
            raise NotFound("trainee or unit version")
        try:
            enrolment = enrol(session, me(), trainee, version, assessors, form.start_date.data, cohort)
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems, {"unit": "unit_version"})
        else:
            flash(f"{trainee.display_name} is enrolled in {version.title}.", "success")
            return redirect(url_for("progress.enrolment", enrolment_id=enrolment.id))
    return render_template("cohorts/enrol.html", cohort=cohort, form=form), 400


@bp.post("/enrolments/<int:enrolment_id>/assessors")
@allow(*RUNS_COHORTS)
def assign(enrolment_id: int) -> Response:
    """Assign or reassign the enrolment's assessors."""
    session = db.session()
    enrolment = _managed(enrolment_id)
    form = AssignForm()
    form.assessors.choices = assessor_choices()
    if form.validate_on_submit():
        assessors = session.scalars(sa.select(User).where(User.id.in_(form.assessors.data))).all()
        try:
            assign_assessors(session, me(), enrolment, assessors)
        except OperationError as exc:
            db.keep_nothing()
            flash(str(exc), "error")
        else:
            flash("Assessors updated.", "success")
    else:
        flash("Choose at least one assessor.", "error")
    return redirect(url_for("progress.enrolment", enrolment_id=enrolment.id))


@bp.post("/enrolments/<int:enrolment_id>/withdraw", endpoint="withdraw")
@allow(*RUNS_COHORTS)
def withdraw_post(enrolment_id: int) -> Response:
    """Withdraw the trainee from the unit, with the reason recorded."""
    enrolment = _managed(enrolment_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            withdraw(db.session(), me(), enrolment, form.reason.data)
        except OperationError as exc:
            db.keep_nothing()
            flash(str(exc), "error")
        else:
            flash("The trainee is withdrawn from this unit.", "success")
    else:
        flash("Say why the trainee is withdrawn.", "error")
    return redirect(url_for("progress.enrolment", enrolment_id=enrolment.id))


@bp.get("/people/new")
@allow(*RUNS_COHORTS)
def new_person() -> str:
    """The form to create an account: trainees and assessors, and for administrators any role."""
    return render_template("cohorts/person.html", form=PersonForm().with_choices())


@bp.post("/people/new")
@allow(*RUNS_COHORTS)
def new_person_post() -> Any:
    """Create the account without a password, and invite its owner to set one: by e-mail, or with a code printed
    here to hand over."""
    form = PersonForm().with_choices()
    if form.validate_on_submit():
        session_db = db.session()
        try:
            user = create_user(
                session_db,
                me(),
                form.username.data,
                form.display_name.data,
                Role(form.role.data),
                None,
                form.email.data or None,
            )
            if not user.email:
                return code_slip(user, print_invitation(session_db, me(), user))
            invite(session_db, me(), user)
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems)
        else:
            flash(
                f"{label(user.role)} account {user.username} created; an invitation to set a password is on its way "
                f"to {user.email}.",
                "success",
            )
            return redirect(url_for("cohorts.new_person"))
    return render_template("cohorts/person.html", form=form), 400


def _list_page(form: CohortForm) -> str:
    after = request.args.get("after", "")[: limits.NAME] or None
    page = cohort_page(db.session(), me(), after, current_app.config["COHORTS_PER_PAGE"])
    return render_template("cohorts/list.html", page=page, paged=after is not None, form=form)


def _managed(enrolment_id: int) -> Enrolment:
    """An enrolment the user manages; as not found to anyone else."""
    enrolment = enrolment_for(db.session(), me(), enrolment_id)
    if not Permissions(me()).manage_enrolment(enrolment):
        raise NotFound("enrolment")
    return enrolment
