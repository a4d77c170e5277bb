"""Spreadsheets in and out: importing trainees and enrolments, and the four exports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, send_file, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField

from assessor.core import database as db
from assessor.core.access import allow, me, own_job_for, visible_cohorts
from assessor.core.urls import record_id
from assessor.domain.errors import Erased, InvalidInput, NotFound
from assessor.domain.vocabulary import RUNS_COHORTS, JobStatus
from assessor.models import Cohort, User
from assessor.standards.queries import latest_units
from assessor.transfer import reports
from assessor.transfer.exporting import EXPORT, ExportRequest, ask_for_export, file_of, record_download
from assessor.transfer.importing import ask_to_apply, ask_to_check
from assessor.transfer.queries import recent_exports

bp = Blueprint("transfer", __name__, template_folder="templates")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMETYPES = {".xlsx": XLSX, ".csv": "text/csv; charset=utf-8", ".zip": "application/zip"}


class ImportForm(FlaskForm):
    file = FileField("Spreadsheet (.xlsx) or CSV (UTF-8)")


class ConfirmForm(FlaskForm):
    job = HiddenField()


@bp.get("/import")
@allow(*RUNS_COHORTS)
def import_form() -> str:
    """Upload a file of trainees and enrolments to preview."""
    return _import_page(ImportForm())


@bp.post("/import")
@allow(*RUNS_COHORTS)
def import_preview() -> Any:
    """Keep the file and ask the worker to check every row; its page shows what would be created, or every
    problem by row and column."""
    form = ImportForm()
    upload = request.files.get("file")
    if not form.validate_on_submit() or upload is None or not upload.filename:
        return _import_page(form, refused="Choose a file to import."), 400
    data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
    if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
        return _import_page(form, refused="The file is too large to import."), 400
    job = ask_to_check(db.session(), me(), data, upload.filename)
    return redirect(url_for("jobs.job", job_id=job.id))


@bp.post("/import/confirm")
@allow(*RUNS_COHORTS)
def import_confirm() -> Any:
    """Import a file whose check came out clean: the worker checks it again, then creates all rows or none."""
    form = ConfirmForm()
    try:
        checked = record_id(form.job.data or "") if form.validate_on_submit() else None
    except ValueError:
        checked = None
    if checked is None:
        return _import_page(ImportForm(), refused="That preview has expired: upload the file again."), 400
    job = own_job_for(db.session(), me(), checked)
    try:
        applying = ask_to_apply(db.session(), me(), job)
    except InvalidInput as exc:
        db.keep_nothing()
        return _import_page(ImportForm(), refused=" ".join(exc.problems.values())), 409
    return redirect(url_for("jobs.job", job_id=applying.id))


@bp.get("/exports")
@allow(*RUNS_COHORTS)
def exports() -> str:
    """Choose an export, a cohort, a unit and a date range; the user's recent exports."""
    return _exports_page()


@bp.post("/exports/<kind>", endpoint="export")
@allow(*RUNS_COHORTS)
def export_post(kind: str) -> Any:
    """Ask the worker for an export; its page shows how far it is, then offers the file."""
    values = request.values
    wanted = ExportRequest(
        kind,
        values.get("cohort", type=record_id),
        values.get("unit") or None,
        values.get("start") or None,
        values.get("end") or None,
        values.get("format") or "xlsx",
    )
    try:
        job = ask_for_export(db.session(), me(), wanted)
    except InvalidInput as exc:
        db.keep_nothing()
        return _exports_page(exc.problems), 400
    return redirect(url_for("jobs.job", job_id=job.id))


@bp.get("/exports/<int:job_id>/file", endpoint="download")
@allow(*RUNS_COHORTS)
def download(job_id: int) -> Response:
    """A finished export's file, to whoever asked for it alone; the audit trail notes that they took it."""
    job = own_job_for(db.session(), me(), job_id)
    path = file_of(job)
    if path is None:
        if job.status == JobStatus.DONE and job.kind == EXPORT:
            raise Erased("This export is no longer kept. Ask for it again.")
        raise NotFound("export")
    with db.side_transaction() as writer:
        record_download(writer, writer.get_one(User, me().id), job)
    assert job.result is not None
    mimetype = MIMETYPES[path.suffix]
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=str(job.result["name"]), max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def _exports_page(problems: dict[str, str] | None = None) -> str:
    session = db.session()
    return render_template(
        "transfer/exports.html",
        kinds=reports.KINDS,
        cohorts=session.scalars(visible_cohorts(me()).order_by(Cohort.name)).all(),
        units=[unit for _, unit in latest_units(db.session())],
        selected=request.values.get("cohort", type=record_id),
        recent=recent_exports(session, me()),
        problems=problems or {},
    )


def _import_page(form: FlaskForm, refused: str | None = None) -> str:
    return render_template("transfer/import.html", form=form, refused=refused)
