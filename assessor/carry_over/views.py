"""Moving enrolments to a newer version of their unit: preview what carries, then confirm; one or a cohort's."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from assessor.carry_over.forms import MoveForm
from assessor.carry_over.operations import Move, cohort_fingerprint, move, move_cohort, preview, preview_cohort
from assessor.carry_over.queries import movable_versions, successors
from assessor.core import database as db
from assessor.core.access import Permissions, allow, cohort_for, enrolment_for, me
from assessor.domain.errors import ChangedMeanwhile, InvalidInput
from assessor.domain.vocabulary import RUNS_COHORTS
from assessor.models import Enrolment, UnitVersion
from assessor.standards.queries import unit_of

bp = Blueprint("carry_over", __name__, template_folder="templates")


@bp.get("/enrolments/<int:enrolment_id>/move")
@allow(*RUNS_COHORTS)
def enrolment(enrolment_id: int) -> str:
    """The newer versions the enrolment can move to, and a preview of what carries to the one chosen."""
    managed = _managed(enrolment_id)
    later = successors(db.session(), managed.unit_version)
    newer = _chosen(later, request.args.get("to", type=int))
    planned = preview(db.session(), me(), managed, newer) if newer else None
    form = MoveForm(to=newer.id, fingerprint=planned.fingerprint) if newer and planned else MoveForm()
    return render_template(
        "carry_over/enrolment.html",
        enrolment=managed,
        later=later,
        move=planned,
        form=form,
        earlier=unit_of(managed.unit_version),
        newer=unit_of(newer) if newer else None,
    )


@bp.post("/enrolments/<int:enrolment_id>/move")
@allow(*RUNS_COHORTS)
def enrolment_post(enrolment_id: int) -> Any:
    """Move the enrolment as previewed; refused, with the preview again, when it changed meanwhile."""
    session = db.session()
    managed = _managed(enrolment_id)
    later = successors(session, managed.unit_version)
    form = MoveForm()
    newer = _chosen(later, form.to.data) if form.validate_on_submit() else None
    if newer is None:
        abort(400)
    try:
        moved = move(session, me(), managed, newer, form.fingerprint.data)
    except (ChangedMeanwhile, InvalidInput) as exc:
        db.keep_nothing()
        flash(str(exc), "error")
        return redirect(url_for("carry_over.enrolment", enrolment_id=enrolment_id, to=newer.id), code=303)
    flash(f"Moved to {newer.title}, version {newer.version}: what carried is on this page.", "success")
    return redirect(url_for("progress.enrolment", enrolment_id=moved.id))


@bp.get("/cohorts/<int:cohort_id>/move")
@allow(*RUNS_COHORTS)
def cohort(cohort_id: int) -> str:
    """The unit versions the cohort has open enrolments in that a newer version has come for, and a preview of moving
    every such enrolment at once."""
    session = db.session()
    chosen = cohort_for(session, me(), cohort_id)
    versions = movable_versions(session, chosen)
    earlier_id, to_id = request.args.get("from", type=int), request.args.get("to", type=int)
    pair = next(((e, n) for e, _, later in versions for n in later if e.id == earlier_id and n.id == to_id), None)
    moves: list[Move] = preview_cohort(session, me(), chosen, *pair) if pair else []
    form = MoveForm(earlier=earlier_id, to=to_id, fingerprint=cohort_fingerprint(moves)) if pair else MoveForm()
    return render_template(
        "carry_over/cohort.html",
        cohort=chosen,
        versions=versions,
        pair=pair,
        moves=moves,
        form=form,
        earlier=unit_of(pair[0]) if pair else None,
        newer=unit_of(pair[1]) if pair else None,
    )


@bp.post("/cohorts/<int:cohort_id>/move")
@allow(*RUNS_COHORTS)
def cohort_post(cohort_id: int) -> Any:
    """Move every enrolment of the preview that can move, in one transaction."""
    session = db.session()
    chosen = cohort_for(session, me(), cohort_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    earlier, newer = session.get(UnitVersion, form.earlier.data or 0), session.get(UnitVersion, form.to.data)
    if earlier is None or newer is None or newer not in successors(session, earlier):
        abort(404)
    try:
        moved = move_cohort(session, me(), chosen, earlier, newer, form.fingerprint.data)
    except (ChangedMeanwhile, InvalidInput) as exc:
        db.keep_nothing()
        flash(str(exc), "error")
    else:
        flash(f"{len(moved)} enrolments moved to {newer.title}, version {newer.version}.", "success")
        return redirect(url_for("cohorts.dashboard", cohort_id=chosen.id))
    chosen_pair: dict[str, Any] = {"from": earlier.id, "to": newer.id}
    return redirect(url_for("carry_over.cohort", cohort_id=chosen.id, **chosen_pair), code=303)


def _managed(enrolment_id: int) -> Enrolment:
    """An enrolment the user manages; as not found to anyone else."""
    found = enrolment_for(db.session(), me(), enrolment_id)
    if not Permissions(me()).manage_enrolment(found):
        abort(404)
    return found


def _chosen(later: list[UnitVersion], wanted: int | None) -> UnitVersion | None:
    """The version asked for among those the enrolment can move to (the only one, when nothing was asked)."""
    if wanted is None:
        return later[0] if len(later) == 1 else None
    found = next((v for v in later if v.id == wanted), None)
    if found is None:
        abort(404)
    return found
