"""Spreadsheet exports as jobs: asked for on the web, written by the worker with progress, taken by whoever asked.

Each is an .xlsx workbook, or CSV (one .csv file, or a .zip of them when the export has several sheets) for exports
larger than a spreadsheet program opens whole, or for other programs.

The file is written under a temporary name and moved into place before the job is finished, in the same transaction
as its audit event: a worker killed half-way leaves no event, and its successor writes the file again. It is kept
`EXPORT_KEEP_HOURS` for its owner alone; the worker removes it after that.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from assessor.core import audit
from assessor.core.access import actor, cohort_for, require, visible_enrolments
from assessor.core.database import database
from assessor.core.jobs import Finish, Work, enqueue, every_hour, handles
from assessor.domain import policy
from assessor.domain.errors import InvalidInput, NotFound
from assessor.domain.vocabulary import JobStatus
from assessor.models import Enrolment, Job, User, utcnow
from assessor.transfer import reports
from assessor.transfer.csvfiles import write_csv
from assessor.transfer.workbook import write_workbook

EXPORT = "export"
ONLY_STAFF = "Only administrators and coordinators export."
FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class ExportRequest:
    """What to export: a kind and the filters, as the job keeps them."""

    kind: str
    cohort: int | None = None
    unit: str | None = None
    start: str | None = None  # ISO dates
    end: str | None = None
    format: str = "xlsx"  # or "csv"

    def described(self) -> dict[str, Any]:
        """The filters given, and the format, for the audit trail."""
        return {name: value for name, value in asdict(self).items() if value is not None and name != "kind"}

    def filters(self, session: so.Session, owner: User) -> reports.Filters:
        """The filters as the export reads them, within what the owner may see now."""
        if self.cohort is not None:
            cohort_for(session, owner, self.cohort)
        enrolments = visible_enrolments(owner).with_only_columns(Enrolment.id)
        start, end = (datetime.date.fromisoformat(d) if d else None for d in (self.start, self.end))
        return reports.Filters(enrolments, self.cohort, self.unit, start, end)


def ask_for_export(session: so.Session, user: User, wanted: ExportRequest) -> Job:
    """Check what is asked for and queue the export; NotFound for a cohort the user does not run."""
    require(policy.may_run_cohorts(actor(user)), ONLY_STAFF)
    if wanted.kind not in reports.KINDS:
        raise NotFound("export")
    problems = {}
    dates = {}
    for name in ("start", "end"):
        text = getattr(wanted, name)
        try:
            dates[name] = datetime.date.fromisoformat(text) if text else None
        except ValueError:
            problems[name] = "Give the date as year-month-day, for example 2026-11-30."
    if wanted.format not in FORMATS:
        problems["format"] = "Choose an Excel workbook (.xlsx) or CSV."
    if not problems and dates["start"] and dates["end"] and dates["start"] > dates["end"]:
        problems["end"] = "The end of the period cannot be before its start."
    if problems:
        raise InvalidInput(problems)
    wanted.filters(session, user)  # the cohort must be one the user runs
    return enqueue(session, user, EXPORT, asdict(wanted))


def export_folder() -> Path:
    """Where finished exports wait for their owners, readable by the app's user only."""
    folder = Path(current_app.config.get("EXPORT_DIR") or Path(current_app.instance_path) / "exports")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _kept() -> datetime.timedelta:
    return datetime.timedelta(hours=int(current_app.config["EXPORT_KEEP_HOURS"]))


def file_of(job: Job) -> Path | None:
    """A finished export's file, while it is kept; None once it has expired."""
    if job.kind != EXPORT or job.status != JobStatus.DONE or job.result is None:
        return None
    path = export_folder() / str(job.result["file"])
    expires = datetime.datetime.fromisoformat(str(job.result["expires"]))
    return path if expires > utcnow() and path.is_file() else None


@handles(EXPORT, "Spreadsheet export")
def write_export(work: Work) -> Finish:
    """Write the workbook, reporting rows written of rows; finish with its audit event."""
    wanted = ExportRequest(**work.params)
    folder = export_folder()
    with database().read_sessions() as session:
        owner = session.get(User, work.owner_id) if work.owner_id is not None else None
        require(owner is not None and policy.may_run_cohorts(actor(owner)), ONLY_STAFF)
        assert owner is not None
        filters = wanted.filters(session, owner)
        total = reports.row_count(session, wanted.kind, filters)
        work.progress(0, total)
        sheets = reports.sheets(session, wanted.kind, filters)
        suffix = reports.csv_suffix(wanted.kind) if wanted.format == "csv" else "xlsx"
        name = f"{work.id}.{suffix}"
        part = folder / f"{name}.part"
        on_row = lambda done: work.progress(done, total)  # noqa: E731
        if wanted.format == "csv":
            rows = write_csv(sheets, part, on_row, archive=suffix == "zip")
        else:
            rows = write_workbook(sheets, part, on_row)
    os.replace(part, folder / name)

    def finish(session: so.Session) -> dict[str, Any]:
        owner = session.get_one(User, work.owner_id)
        after = {"kind": wanted.kind, **wanted.described(), "rows": rows}
        audit.record(session, owner, "export.make", "job", work.id, None, after)
        now = utcnow()
        download = f"{wanted.kind}-{now.date().isoformat()}.{suffix}"
        expires = (now + _kept()).isoformat(timespec="seconds")
        return {"file": name, "name": download, "rows": rows, "expires": expires}

    return finish


def record_download(session: so.Session, user: User, job: Job) -> None:
    """Note in the audit trail that the owner took the file."""
    require(policy.may_take_job_result(actor(user), job.owner_id), "An export is for whoever asked for it alone.")
    audit.record(session, user, "export.download", "job", job.id, None, {"kind": job.params.get("kind")})


@every_hour
def remove_expired_exports() -> None:
    """Remove the files of exports past their time, and any left half-written by a worker that stopped."""
    keep = _kept()
    folder = export_folder()
    with database().read_sessions() as session:
        live = {
            str(result["file"])
            for result in session.scalars(
                sa.select(Job.result).where(
                    Job.kind == EXPORT, Job.status == JobStatus.DONE, Job.finished_at > utcnow() - keep
                )
            )
            if result
        }
        running = {
            str(job_id)
            for job_id in session.scalars(
                sa.select(Job.id).where(Job.kind == EXPORT, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
            )
        }
    for path in folder.iterdir():
        being_written = path.name.endswith(".part") and path.name.partition(".")[0] in running
        if path.is_file() and path.name not in live and not being_written:
            path.unlink(missing_ok=True)
