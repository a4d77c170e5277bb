"""Pages that show the unit standards loaded into the database, and an administrator's change to a unit's status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for

from assessor.core import database as db
from assessor.core.access import PUBLIC, allow, me
from assessor.core.forms import show_problems
from assessor.domain.errors import InvalidInput, NotFound
from assessor.domain.vocabulary import Role
from assessor.models import UnitVersion
from assessor.standards.forms import StatusForm
from assessor.standards.operations import set_status
from assessor.standards.queries import latest_units, loaded_version, status_history, unit_of, usages, versions_of

bp = Blueprint("standards", __name__, url_prefix="/standards", template_folder="templates")


# Unit standards are published documents: anyone may read them.
@bp.get("/")
@allow(PUBLIC)
def list_units() -> str:
    """The latest loaded version of every unit, with its status now."""
    session = db.session()
    latest = latest_units(session)
    status = usages(session, (version for version, _ in latest))
    return render_template("standards/list.html", units=[(unit, status[v.id]) for v, unit in latest])


@bp.get("/<unit_id>/v<int:version>")
@allow(PUBLIC)
def show_unit(unit_id: str, version: int) -> str:
    """One version of a unit in full, with its status now and how it came to be."""
    return _page(_version(unit_id, version), StatusForm())


@bp.post("/<unit_id>/v<int:version>/status")
@allow(Role.ADMIN)
def change_status(unit_id: str, version: int) -> Any:
    """Change the version's status, audited, leaving its text and hash as they were."""
    loaded = _version(unit_id, version)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            set_status(db.session(), me(), loaded, form.usage())
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems)
        else:
            flash(f"{loaded.key} is now {form.status.data}.", "success")
            return redirect(url_for("standards.show_unit", unit_id=unit_id, version=version))
    return _page(loaded, form), 400


def _version(unit_id: str, version: int) -> UnitVersion:
    loaded = loaded_version(db.session(), unit_id, version)
    if loaded is None:
        raise NotFound("unit version")
    return loaded


def _page(loaded: UnitVersion, form: StatusForm) -> str:
    session = db.session()
    versions = versions_of(session, loaded.unit_id)
    usage = usages(session, versions)
    return render_template(
        "standards/show.html",
        unit=unit_of(loaded),
        usage=usage[loaded.id],
        versions=[(v, usage[v.id]) for v in versions],
        history=status_history(session, loaded),
        form=form,
    )
