"""Pages that show the unit standards in the catalogue."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from assessor.core.access import PUBLIC, allow
from assessor.standards.queries import catalogue

bp = Blueprint("standards", __name__, url_prefix="/standards", template_folder="templates")


# Unit standards are published documents: anyone may read them.
@bp.get("/")
@allow(PUBLIC)
def list_units() -> str:
    """Every unit in the catalogue, latest version first."""
    return render_template("standards/list.html", units=catalogue().latest())


@bp.get("/<unit_id>/v<int:version>")
@allow(PUBLIC)
def show_unit(unit_id: str, version: int) -> str:
    """One version of a unit in full."""
    unit = catalogue().find(unit_id, version)
    if unit is None or unit.id != unit_id:
        abort(404)
    return render_template("standards/show.html", unit=unit, versions=catalogue().versions(unit.id))
