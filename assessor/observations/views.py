"""Group observations: choose the group, judge each trainee in one matrix, and read the observation back."""

from __future__ import annotations

import datetime
import functools
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from assessor.core import database as db
from assessor.core.access import SIGNED_IN, allow, group_for, me, visible_mappings
from assessor.core.forms import show_problems
from assessor.core.urls import record_id
from assessor.domain import limits
from assessor.domain.errors import InvalidInput, NotFound, OperationError
from assessor.domain.vocabulary import Context, Method, Role
from assessor.evidence.attachments import copy_stored
from assessor.evidence.held import hold, unhold
from assessor.evidence.operations import AttachmentInput
from assessor.evidence.views import store_attachments
from assessor.models import Cohort, UnitVersion
from assessor.observations.forms import VERDICTS, GroupForm, Matrix
from assessor.observations.operations import record_group_observation
from assessor.observations.queries import Roster, group_choices, roster

bp = Blueprint("observations", __name__, template_folder="templates")


@bp.get("/observations/group")
@allow(Role.ASSESSOR)
def choose() -> str:
    """The groups the assessor can observe: their trainees in each unit, cohort by cohort."""
    return render_template("observations/choose.html", choices=group_choices(db.session(), me()))


@bp.get("/observations/group/new")
@allow(Role.ASSESSOR)
def new() -> Any:
    """The group observation form, with the trainees and targets in the address ticked to start with; without a unit,
    the choice of group."""
    if "unit" not in request.args:
        return redirect(url_for("observations.choose"))
    version, cohort, group = _group()
    today, method, context = datetime.date.today(), Method.DIRECT_OBSERVATION.value, Context.WORKPLACE.value
    form = GroupForm(observed_on=today, method=method, context=context, submission=secrets.token_hex(16))
    return _page(form, version, cohort, group, Matrix.read(group, request.args))


@bp.post("/observations/group/new")
@allow(Role.ASSESSOR)
def new_post() -> Any:
    """Record the group observation, or show the form again with every problem and nothing saved but the files."""
    if "unit" not in request.args:
        return redirect(url_for("observations.choose"))
    session = db.session()
    version, cohort, group = _group()
    form = GroupForm()
    matrix = Matrix.read(group, request.form)
    held = [] if request.form.get("drop_held") else unhold(request.form.get("held", ""), me().id)
    new_files = store_attachments(form, len(held))
    attachments = held + (new_files or [])

    def again(status: int = 400, problems: dict[int, str] | None = None) -> tuple[str, int]:
        db.keep_nothing()
        return _page(form, version, cohort, group, matrix, attachments, problems), status

    if new_files is None or not form.validate_on_submit():
        return again()
    copy = functools.partial(copy_stored, Path(current_app.config["UPLOAD_DIR"]))
    try:
        saved = record_group_observation(
            session,
            me(),
            version,
            form.activity.data,
            form.evidence_input(),
            matrix.parts(group, form.rate_as.data),
            form.submission.data or "",
            attachments,
            copy,
            cohort,
        )
    except InvalidInput as exc:
        parts = {k: v for k, v in exc.problems.items() if k.startswith("part-")}
        show_problems(form, {k: v for k, v in exc.problems.items() if k not in parts})
        return again(problems={int(k.removeprefix("part-")): v for k, v in parts.items()})
    except OperationError as exc:
        form.form_errors.append(str(exc))
        return again(409)
    flash(f"Group observation #{saved.id} recorded for {len(saved.parts)} trainees.", "success")
    return redirect(url_for("observations.group", group_id=saved.id))


@bp.get("/observations/group/<int:group_id>")
@allow(SIGNED_IN)
def group(group_id: int) -> str:
    """A group observation: the activity, its shared account, and the parts of it the viewer may see."""
    found, parts = group_for(db.session(), me(), group_id)
    return render_template(
        "observations/group.html",
        group=found,
        parts=[(part, visible_mappings(me(), part)) for part in parts],
        account=next((part for part in parts if part.erased_on is None), None),
    )


# --- helpers ------------------------------------------------------------------------------------


def _group() -> tuple[UnitVersion, Cohort | None, Roster]:
    """The unit version and cohort named in the address, and the assessor's trainees in them; NotFound when the
    assessor has none there."""
    session = db.session()
    version = session.get(UnitVersion, request.args.get("unit", type=record_id) or 0)
    cohort_id = request.args.get("cohort", type=record_id)
    cohort = session.get(Cohort, cohort_id) if cohort_id else None
    if version is None or (cohort_id and cohort is None):
        raise NotFound("group")
    found = roster(session, me(), version, cohort)
    if not found.rows:
        raise NotFound("group")
    return version, cohort, found


def _page(
    form: GroupForm,
    version: UnitVersion,
    cohort: Cohort | None,
    group: Roster,
    matrix: Matrix,
    held: list[AttachmentInput] | None = None,
    problems: dict[int, str] | None = None,
) -> str:
    return render_template(
        "observations/form.html",
        form=form,
        version=version,
        cohort=cohort,
        group=group,
        matrix=matrix,
        verdicts=VERDICTS,
        problems=problems or {},
        comment_limit=limits.COMMENT,
        held=held or [],
        held_token=hold(held or [], me().id),
    )
