"""Pages that show the unit standards loaded into the database, and an administrator's change to a unit's status."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField

from assessor.core import database as db
from assessor.core.access import PUBLIC, allow, me
from assessor.core.forms import show_problems
from assessor.domain.errors import InvalidInput, NotFound, StandardChanged
from assessor.domain.standards import StandardsError
from assessor.domain.standards.units import MAX_FILE_BYTES
from assessor.domain.vocabulary import Role
from assessor.models import UnitVersion
from assessor.standards.forms import StatusForm
from assessor.standards.operations import load_uploaded, preview_unit, set_status
from assessor.standards.queries import latest_units, loaded_version, status_history, unit_of, usages, versions_of
from assessor.transfer.importing import pending_folder

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


class UploadForm(FlaskForm):
    file = FileField("Unit standard file (YAML)")


class ConfirmForm(FlaskForm):
    upload = HiddenField()


@bp.get("/load")
@allow(Role.ADMIN)
def load_form() -> str:
    """Upload a unit file to check it and see what it would add."""
    return render_template("standards/load.html", form=UploadForm())


@bp.post("/load")
@allow(Role.ADMIN)
def load_check() -> Any:
    """Check the file with the loader the standards folder uses: every problem with its line, or a preview of what
    loading it adds, kept for the confirmation. Nothing is loaded yet."""
    form = UploadForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        form.file.errors = ["Choose a unit standard file."]
        return render_template("standards/load.html", form=form), 400
    text = upload.read(MAX_FILE_BYTES + 1)
    upload.close()  # a large upload is spooled to a temporary file: closed now, not left to the garbage collector
    name = Path(upload.filename.replace("\\", "/")).name
    if len(text) > MAX_FILE_BYTES:
        form.file.errors = [f"{name} is larger than {MAX_FILE_BYTES:,} bytes."]
        return render_template("standards/load.html", form=form), 400
    try:
        found = preview_unit(db.session(), me(), text, name)
    except StandardsError as exc:
        return render_template("standards/load.html", form=form, problems=exc.problems, name=name), 400
    digest = hashlib.sha256(text).hexdigest()
    if not (found.already or found.changed):
        _kept(digest).write_bytes(text)
    return render_template(
        "standards/load.html", form=form, preview=found, name=name, confirm=ConfirmForm(upload=digest)
    )


@bp.post("/load/confirm")
@allow(Role.ADMIN)
def load_confirm() -> Any:
    """Load the checked file (checked again), audited; a confirmation sent twice loads it once."""
    form = ConfirmForm()
    digest = form.upload.data or ""
    kept = _kept(digest) if form.validate_on_submit() and re.fullmatch(r"[0-9a-f]{64}", digest) else None
    if kept is None or not kept.is_file():
        flash("That upload is no longer kept (it was loaded, or a day has passed): upload the file again.", "error")
        return redirect(url_for("standards.load_form"))
    try:
        loaded = load_uploaded(db.session(), me(), kept.read_bytes(), kept.name)
    except (StandardsError, StandardChanged) as exc:
        db.keep_nothing()
        flash(f"Nothing was loaded: {exc}", "error")
        return redirect(url_for("standards.load_form"))
    kept.unlink(missing_ok=True)
    flash(f"{loaded.key} is loaded: every page shows it now.", "success")
    return redirect(url_for("standards.show_unit", unit_id=loaded.unit_id, version=loaded.version))


def _kept(digest: str) -> Path:
    """Where a checked unit file waits for its confirmation (beside uploaded imports, removed with them after a day)."""
    return pending_folder() / f"unit-{digest}.yaml"


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
