"""The home page: each role's starting point."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from assessor import catalogue, db
from assessor.access import PUBLIC, SIGNED_IN, allow, me
from assessor.labels import ENROLMENT_STATUS
from assessor.models import Role
from assessor.queries import SORTS, enrolment_summaries

bp = Blueprint("home", __name__)
HOME_LABEL = {Role.ASSESSOR: "My trainees", Role.TRAINEE: "My units"}


@bp.app_context_processor
def page_words() -> dict[str, object]:
    """Words every page may need: the name of the user's home list and enrolment statuses."""
    role = current_user.role if current_user.is_authenticated else None
    return {"home_label": HOME_LABEL.get(role, "Enrolments"), "enrolment_status": ENROLMENT_STATUS}


@allow(PUBLIC)
def index() -> Response:
    """Signed-in users go to their enrolments; others to the sign-in page."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    return redirect(url_for("home.enrolments"))


@bp.get("/enrolments")
@allow(SIGNED_IN)
def enrolments() -> str:
    """The enrolments the user may see: an assessor's trainees, a trainee's own units, a coordinator's cohorts."""
    filters = {key: request.args.get(key, "") for key in ("search", "status", "unit_id")}
    sort = request.args.get("sort", "trainee")
    sort = sort if sort in SORTS else "trainee"
    per_page = current_app.config["ENROLMENTS_PER_PAGE"]
    page = enrolment_summaries(db.session(), me(), sort=sort, page=request.args.get("page", 1, type=int), per_page=per_page, **filters)
    return render_template(
        "home/enrolments.html",
        page=page,
        summaries=page.summaries,
        filters=filters,
        sort=sort,
        sorts=SORTS,
        statuses=ENROLMENT_STATUS,
        units=catalogue().latest(),
    )
