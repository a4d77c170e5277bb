"""Spreadsheets in and out: importing trainees and enrolments, and the four exports."""

from __future__ import annotations

import datetime
import secrets
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField

from assessor import catalogue, db, imports, reports
from assessor import operations as ops
from assessor.access import allow, me, visible_enrolments
from assessor.exports import write_workbook
from assessor.models import Cohort, Enrolment, UnitVersion, User
from assessor.views.cohorts import MANAGERS, visible_cohorts

bp = Blueprint("transfer", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(FlaskForm):
    file = FileField("Spreadsheet (.xlsx) or CSV (UTF-8)")


class ConfirmForm(FlaskForm):
    token = HiddenField()


@bp.get("/import")
@allow(*MANAGERS)
def import_form() -> str:
    """Upload a file of trainees and enrolments to preview."""
    return render_template("transfer/import.html", form=ImportForm(), plan=None, token=None, refused=None)


@bp.post("/import")
@allow(*MANAGERS)
def import_preview() -> Any:
    """Read and check every row; show what would be created, or every problem by row and column."""
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        return render_template("transfer/import.html", form=form, plan=None, token=None, refused="Choose a file to import."), 400
    data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
    if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
        return render_template("transfer/import.html", form=form, plan=None, token=None, refused="The file is too large to import."), 400
    try:
        plan = check_file(db.session(), me(), data, upload.filename)
    except imports.ImportRefused as exc:
        return render_template("transfer/import.html", form=form, plan=None, token=None, refused=exc.message), 400
    token = None
    if plan.ok:
        token = secrets.token_hex(16)
        folder = _pending_folder()
        (folder / f"{token}{Path(upload.filename).suffix.lower()}").write_bytes(data)
    if not plan.ok:
        return render_template("transfer/import.html", form=ImportForm(), plan=plan, token=None, refused=None), 400
    return render_template("transfer/import.html", form=ConfirmForm(token=token), plan=plan, token=token, refused=None)


@bp.post("/import/confirm")
@allow(*MANAGERS)
def import_confirm() -> Any:
    """Import the previewed file: checked again, then all rows or none."""
    form = ConfirmForm()
    token = form.token.data or ""
    matches = [p for p in _pending_folder().glob(f"{token}.*")] if form.validate_on_submit() and token.isalnum() and len(token) == 32 else []
    if not matches:
        flash("That preview has expired: upload the file again.", "error")
        return redirect(url_for("transfer.import_form"))
    path = matches[0]
    session = db.session()
    try:
        plan = check_file(session, me(), path.read_bytes(), path.name)
        cohorts, trainees, enrolments = ops.apply_import(session, me(), plan)
    except (imports.ImportRefused, ops.InvalidInput):
        return render_template("transfer/import.html", form=ImportForm(), plan=None, token=None, refused="The file no longer checks out: upload it again to see why."), 409
    finally:
        path.unlink(missing_ok=True)
    flash(f"Imported: {trainees} new trainees, {enrolments} new enrolments, {cohorts} new cohorts.", "success")
    return redirect(url_for("cohorts.cohorts"))


def check_file(session: so.Session, actor: User, data: bytes, filename: str) -> Any:
    """Read a file and check it against what the database holds; cohorts run by others are problems too."""
    rows = imports.read_table(data, filename)
    plan = imports.check(rows, known_data(session, actor))
    mine = {_folded(name) for name in _usable_cohorts(session, actor)}
    others = {_folded(name) for name in session.scalars(sa.select(Cohort.name))} - mine
    foreign = [
        imports.Problem(row["_row"], "cohort", f"The cohort {row.get('cohort')!r} is run by another coordinator.")
        for row in rows
        if _folded(str(row.get("cohort") or "")) in others
    ]
    if foreign:
        plan = replace(plan, problems=tuple(sorted((*plan.problems, *foreign), key=lambda p: p.row)))
    return plan


def known_data(session: so.Session, actor: User) -> imports.Known:
    """What the database already holds, as the import checks need it."""
    users = {u.username: (u.role.value, u.display_name, u.email, u.active) for u in session.scalars(sa.select(User))}
    units: dict[str, list[UnitVersion]] = {}
    for version in session.scalars(sa.select(UnitVersion).order_by(UnitVersion.version)):
        units.setdefault(version.unit_id, []).append(version)
    known_units = []
    for unit_id, versions in units.items():
        parsed = {v.version: ops.unit_of(v) for v in versions}
        known_units.append(
            imports.KnownUnit(
                unit_id, versions[-1].code, tuple(parsed), lambda version, start, parsed=parsed: parsed[version].usage.accepts_enrolment_starting(start)
            )
        )
    enrolments = frozenset(
        (row.username, row.unit_id, row.version)
        for row in session.execute(
            sa.select(User.username, UnitVersion.unit_id, UnitVersion.version)
            .join(Enrolment, Enrolment.trainee_id == User.id)
            .join(UnitVersion, UnitVersion.id == Enrolment.unit_version_id)
        )
    )
    return imports.Known(users, known_units, frozenset(_usable_cohorts(session, actor)), enrolments)


@bp.get("/exports")
@allow(*MANAGERS)
def exports() -> str:
    """Choose an export, a cohort, a unit and a date range."""
    cohorts = db.session().scalars(visible_cohorts(me()).order_by(Cohort.name)).all()
    return render_template("transfer/exports.html", kinds=reports.KINDS, cohorts=cohorts, units=catalogue().latest(), selected=request.args.get("cohort", type=int))


@bp.get("/exports/<kind>.xlsx")
@allow(*MANAGERS)
def export(kind: str) -> Response:
    """The export as a download, streamed; the audit trail notes who exported what."""
    if kind not in reports.KINDS:
        abort(404)
    filters = _filters(request.args)
    described = {k: v for k, v in request.args.items() if k in ("cohort", "unit", "start", "end")}
    # The audit event gets its own short write transaction, so the export itself never holds the write lock.
    with db.database().sessions.begin() as writer:
        ops.record_export(writer, writer.get(User, me().id), kind, described)
    # Written to a temporary file rather than memory, so a large export keeps memory flat.
    spool = tempfile.TemporaryFile()
    write_workbook(reports.sheets(db.session(), kind, filters), spool)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(64 * 1024):
                yield chunk

    name = f"{kind}-{datetime.date.today().isoformat()}.xlsx"
    return Response(chunks(), mimetype=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _filters(args: Any) -> reports.Filters:
    def date(name: str) -> datetime.date | None:
        try:
            return datetime.date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None

    cohort = args.get("cohort", type=int)
    if cohort is not None and db.session().scalar(visible_cohorts(me()).where(Cohort.id == cohort)) is None:
        abort(404)
    return reports.Filters(visible_enrolments(me()).with_only_columns(Enrolment.id), cohort, args.get("unit") or None, date("start"), date("end"))


def _folded(name: str) -> str:
    """A cohort name as the import compares it: case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _usable_cohorts(session: so.Session, user: User) -> list[str]:
    return list(session.scalars(visible_cohorts(user).with_only_columns(Cohort.name)))


def _pending_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder
