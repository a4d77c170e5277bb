"""Spreadsheets in and out: importing trainees and enrolments, and the four exports."""

from __future__ import annotations

import datetime
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField

from assessor.core import database as db
from assessor.core.access import allow, cohort_for, me, visible_cohorts, visible_enrolments
from assessor.core.urls import record_id
from assessor.domain.errors import InvalidInput, NotFound
from assessor.domain.vocabulary import RUNS_COHORTS
from assessor.models import Cohort, Enrolment, User
from assessor.standards.queries import catalogue
from assessor.transfer import imports, reports
from assessor.transfer.operations import apply_import, record_export
from assessor.transfer.queries import check_file
from assessor.transfer.workbook import write_workbook

bp = Blueprint("transfer", __name__, template_folder="templates")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(FlaskForm):
    file = FileField("Spreadsheet (.xlsx) or CSV (UTF-8)")


class ConfirmForm(FlaskForm):
    token = HiddenField()


@bp.get("/import")
@allow(*RUNS_COHORTS)
def import_form() -> str:
    """Upload a file of trainees and enrolments to preview."""
    return _import_page(ImportForm())


@bp.post("/import")
@allow(*RUNS_COHORTS)
def import_preview() -> Any:
    """Read and check every row; show what would be created, or every problem by row and column."""
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        return _import_page(form, refused="Choose a file to import."), 400
    data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
    if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
        return _import_page(form, refused="The file is too large to import."), 400
    try:
        plan = check_file(db.session(), me(), data, upload.filename)
    except imports.ImportRefused as exc:
        return _import_page(form, refused=exc.message), 400
    if not plan.ok:
        return _import_page(ImportForm(), plan=plan), 400
    token = secrets.token_hex(16)
    (_pending_folder() / f"{token}{Path(upload.filename).suffix.lower()}").write_bytes(data)
    return _import_page(ConfirmForm(token=token), plan=plan, token=token)


@bp.post("/import/confirm")
@allow(*RUNS_COHORTS)
def import_confirm() -> Any:
    """Import the previewed file: checked again, then all rows or none."""
    form = ConfirmForm()
    token = form.token.data or ""
    valid = form.validate_on_submit() and token.isalnum() and len(token) == 32
    matches = list(_pending_folder().glob(f"{token}.*")) if valid else []
    if not matches:
        flash("That preview has expired: upload the file again.", "error")
        return redirect(url_for("transfer.import_form"))
    path = matches[0]
    session = db.session()
    try:
        plan = check_file(session, me(), path.read_bytes(), path.name)
        cohorts, trainees, enrolments = apply_import(session, me(), plan)
    except (imports.ImportRefused, InvalidInput):
        db.keep_nothing()
        return _import_page(ImportForm(), refused="The file no longer checks out: upload it again to see why."), 409
    finally:
        path.unlink(missing_ok=True)
    flash(f"Imported: {trainees} new trainees, {enrolments} new enrolments, {cohorts} new cohorts.", "success")
    return redirect(url_for("cohorts.cohorts"))


@bp.get("/exports")
@allow(*RUNS_COHORTS)
def exports() -> str:
    """Choose an export, a cohort, a unit and a date range."""
    cohorts = db.session().scalars(visible_cohorts(me()).order_by(Cohort.name)).all()
    return render_template(
        "transfer/exports.html",
        kinds=reports.KINDS,
        cohorts=cohorts,
        units=catalogue().latest(),
        selected=request.args.get("cohort", type=record_id),
    )


@bp.get("/exports/<kind>.xlsx")
@allow(*RUNS_COHORTS)
def export(kind: str) -> Response:
    """The export as a download, streamed; the audit trail notes who exported what."""
    if kind not in reports.KINDS:
        raise NotFound("export")
    filters = _filters(request.args)
    described = {k: v for k, v in request.args.items() if k in ("cohort", "unit", "start", "end")}
    with db.side_transaction() as writer:
        actor = writer.get(User, me().id)
        assert actor is not None  # signed in, so the account exists
        record_export(writer, actor, kind, described)
    # Written to a temporary file rather than memory, so a large export keeps memory flat.
    spool = tempfile.TemporaryFile()
    write_workbook(reports.sheets(db.session(), kind, filters), spool)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(64 * 1024):
                yield chunk

    name = f"{kind}-{datetime.date.today().isoformat()}.xlsx"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(chunks(), mimetype=XLSX, headers=headers)


def _import_page(
    form: FlaskForm, plan: imports.Plan | None = None, token: str | None = None, refused: str | None = None
) -> str:
    return render_template("transfer/import.html", form=form, plan=plan, token=token, refused=refused)


def _filters(args: MultiDict[str, str]) -> reports.Filters:
    def date(name: str) -> datetime.date | None:
        try:
            return datetime.date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None

    cohort = args.get("cohort", type=record_id)
    if cohort is not None:
        cohort_for(db.session(), me(), cohort)
    enrolments = visible_enrolments(me()).with_only_columns(Enrolment.id)
    return reports.Filters(enrolments, cohort, args.get("unit") or None, date("start"), date("end"))


def _pending_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder
