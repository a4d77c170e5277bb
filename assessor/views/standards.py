"""Pages that show the unit standards in the catalogue."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from assessor import catalogue

bp = Blueprint("standards", __name__, url_prefix="/standards")


def index() -> Response:
    """The home page: for now, the catalogue of units."""
    return redirect(url_for("standards.list_units"))


@bp.get("/")
def list_units() -> str:
    """Every unit in the catalogue, latest version first."""
    return render_template("standards/list.html", units=catalogue().latest())


@bp.get("/<unit_id>/v<int:version>")
def show_unit(unit_id: str, version: int) -> str:
    """One version of a unit in full."""
    unit = catalogue().find(unit_id, version)
    if unit is None or unit.id != unit_id:
        abort(404)
    return render_template("standards/show.html", unit=unit, versions=catalogue().versions(unit.id))
