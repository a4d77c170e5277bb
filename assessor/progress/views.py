"""Where enrolments stand: each role's starting list, an enrolment's criteria with their evidence, and its matrix."""

from __future__ import annotations

import datetime

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from assessor.carry_over.queries import moved_from
from assessor.cohorts.forms import enrolment_forms
from assessor.core import database as db
from assessor.core.access import PUBLIC, SIGNED_IN, Permissions, allow, enrolment_for, me
from assessor.core.labels import obstacle
from assessor.core.paging import Cursor
from assessor.core.revalidation import revalidated
from assessor.credits.forms import CreditForm, WithdrawCreditForm
from assessor.credits.queries import credits_for
from assessor.domain.errors import OperationError
from assessor.domain.vocabulary import EnrolmentStatus, Role
from assessor.progress.queries import (
    SORTS,
    enrolment_summaries,
    judged_evidence,
    matrix_of,
    prerequisites_held,
    progress_of,
    sign_off_obstacles,
    verified_minutes,
)
from assessor.quality.forms import AnswerForm
from assessor.quality.queries import reviews_of_enrolment
from assessor.standards.queries import latest_units, unit_of
from assessor.todo.queries import to_do

bp = Blueprint("progress", __name__, template_folder="templates")


@allow(PUBLIC)
def index() -> Response:
    """Signed-in users go to their enrolments; others to the sign-in page."""
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.sign_in"))
    if current_user.role == Role.QUALITY_ASSURER:
        return redirect(url_for("quality.dashboard"))
    return redirect(url_for("progress.enrolments"))


@bp.get("/enrolments")
@allow(SIGNED_IN)
@revalidated
def enrolments() -> str:
    """The enrolments the user may see: an assessor's trainees, a trainee's own units, a coordinator's cohorts."""
    filters = {key: request.args.get(key, "") for key in ("search", "status", "unit_id")}
    sort = request.args.get("sort", "trainee")
    sort = sort if sort in SORTS else "trainee"
    try:
        cursor = Cursor.parse(request.args["at"], SORTS[sort]) if request.args.get("at") else None
    except ValueError:
        raise OperationError(
            "That link to a page of the list is not one this site made; start again from the list."
        ) from None
    page = enrolment_summaries(
        db.session(), me(), sort=sort, cursor=cursor, per_page=current_app.config["ENROLMENTS_PER_PAGE"], **filters
    )
    may = Permissions(me())
    waiting = to_do(db.session(), me(), datetime.date.today(), current_app.config["STALE_AFTER_DAYS"])
    return render_template(
        "progress/enrolments.html",
        todo=waiting,
        personal=me().role == Role.TRAINEE,  # a trainee's own units: cards, without the staff's filters
        recordable={s.enrolment_id for s in page.rows if s.status.is_open and may.assess(s.facts)},
        page=page,
        keys=SORTS[sort],
        summaries=page.rows,
        filters=filters,
        sort=sort,
        statuses=list(EnrolmentStatus),
        units=[unit for _, unit in latest_units(db.session())],
    )


@bp.get("/enrolments/<int:enrolment_id>")
@allow(SIGNED_IN)
@revalidated
def enrolment(enrolment_id: int) -> str:
    """The unit's structure with each criterion's status, the evidence behind it, the gaps and sign-off readiness."""
    session = db.session()
    enrolment = enrolment_for(session, me(), enrolment_id)
    progress, mappings = judged_evidence(session, enrolment)
    may = Permissions(me())
    managed = enrolment.status.is_open and may.manage_enrolment(enrolment)
    held = prerequisites_held(session, enrolment.trainee_id, unit_of(enrolment.unit_version))
    return render_template(
        "progress/enrolment.html",
        manage=enrolment_forms(enrolment) if managed else None,
        assessing=enrolment.status.is_open and may.assess(enrolment),  # asked once, not for each criterion
        enrolment=enrolment,
        unit=unit_of(enrolment.unit_version),
        progress=progress,
        mappings=mappings,
        obstacles=[obstacle(o) for o in sign_off_obstacles(session, enrolment, progress, held)]
        if enrolment.status.is_open
        else [],
        reviews=reviews_of_enrolment(session, enrolment.id) if may.see_reviews(enrolment) else [],
        answer_form=AnswerForm(),
        prerequisites=held,
        carried_from=moved_from(session, enrolment),
        verified_minutes=verified_minutes(session, enrolment),
        credits=credits_for(session, enrolment.trainee_id, unit_of(enrolment.unit_version)),
        credit_forms=(CreditForm(), WithdrawCreditForm()) if may.record_credit(enrolment) else None,
    )


@bp.get("/enrolments/<int:enrolment_id>/matrix")
@allow(SIGNED_IN)
@revalidated
def matrix(enrolment_id: int) -> str:
    """Criteria and items against every piece of evidence mapped to the enrolment."""
    session = db.session()
    enrolment = enrolment_for(session, me(), enrolment_id)
    return render_template(
        "progress/matrix.html",
        enrolment=enrolment,
        unit=unit_of(enrolment.unit_version),
        matrix=matrix_of(session, enrolment),
        progress=progress_of(session, enrolment),
    )
