"""Imports as jobs: the uploaded file waits in the instance folder; the worker checks it (the preview) and, once the
person who uploaded it confirms, checks it again and carries it out, all rows or none.

A file that cannot be read as a table, or that no longer checks out when it is carried out, is an answer, not a
failure: the job is done and its result says why nothing was imported.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy.orm as so
from flask import current_app

from assessor.core.access import actor, require
from assessor.core.database import database
from assessor.core.jobs import Finish, Work, enqueue, every_hour, handles
from assessor.domain import policy
from assessor.domain.errors import InvalidInput, NotFound
from assessor.models import Job, User
from assessor.transfer import imports
from assessor.transfer.operations import apply_import
from assessor.transfer.queries import check_file

CHECK = "import.check"
APPLY = "import.apply"
ONLY_STAFF = "Only administrators and coordinators import."
NO_LONGER = "The file no longer checks out: upload it again to see why. Nothing was imported."
PENDING_HOURS = 24  # an uploaded file waits this long for its confirmation


def pending_folder() -> Path:
    """Where uploaded import files wait for their check and their confirmation."""
    folder = Path(current_app.config.get("IMPORT_DIR") or Path(current_app.instance_path) / "imports")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _pending(token: str, filename: str) -> Path:
    if not (len(token) == 32 and token.isalnum()):
        raise NotFound("import")
    return pending_folder() / f"{token}{PurePosixPath(filename.replace(chr(92), '/')).suffix.lower()}"


def ask_to_check(session: so.Session, user: User, data: bytes, filename: str) -> Job:
    """Keep an uploaded file and queue its check."""
    require(policy.may_run_cohorts(actor(user)), ONLY_STAFF)
    token = secrets.token_hex(16)
    _pending(token, filename).write_bytes(data)
    return enqueue(session, user, CHECK, {"token": token, "filename": filename})


def ask_to_apply(session: so.Session, user: User, checked: Job) -> Job:
    """Queue the import of a file whose check this user asked for, and that checked out."""
    require(policy.may_take_job_result(actor(user), checked.owner_id), ONLY_STAFF)
    result = checked.result or {}
    if checked.kind != CHECK or not result.get("plan") or result["plan"]["problems"]:
        raise InvalidInput({"file": "Only a file that checked out can be imported."})
    if not _pending(str(checked.params["token"]), str(checked.params["filename"])).is_file():
        raise InvalidInput({"file": "That preview has expired: upload the file again."})
    return enqueue(session, user, APPLY, dict(checked.params))


def _owner(session: so.Session, work: Work) -> User:
    owner = session.get(User, work.owner_id) if work.owner_id is not None else None
    require(owner is not None and policy.may_run_cohorts(actor(owner)), ONLY_STAFF)
    assert owner is not None
    return owner


@handles(CHECK, "Check of an import file")
def check_import(work: Work) -> Finish:
    """Read and check every row: the preview."""
    path = _pending(str(work.params["token"]), str(work.params["filename"]))
    with database().read_sessions() as session:
        try:
            plan = check_file(session, _owner(session, work), path.read_bytes(), path.name)
        except imports.ImportRefused as refused:
            path.unlink(missing_ok=True)
            answer = {"refused": refused.message}
            return lambda _session: answer
    if not plan.ok:
        path.unlink(missing_ok=True)
    return lambda _session: {"plan": described(plan)}


@handles(APPLY, "Import of trainees and enrolments")
def apply_import_job(work: Work) -> Finish:
    """Check the file again and import it, in the transaction that finishes the job: all rows or none."""
    path = _pending(str(work.params["token"]), str(work.params["filename"]))

    def finish(session: so.Session) -> dict[str, Any]:
        if not path.is_file():
            return {"refused": "That preview has expired: upload the file again. Nothing was imported."}
        owner = _owner(session, work)
        try:
            plan = check_file(session, owner, path.read_bytes(), path.name)
            with session.begin_nested():
                cohorts, trainees, enrolments = apply_import(session, owner, plan)
        except (imports.ImportRefused, InvalidInput):
            return {"refused": NO_LONGER}
        finally:
            path.unlink(missing_ok=True)  # imported, or to be uploaded again: either way done with
        return {"cohorts": cohorts, "trainees": trainees, "enrolments": enrolments}

    return finish


@every_hour
def remove_stale_imports() -> None:
    """Remove uploaded files whose import was never confirmed, a day on."""
    stale = time.time() - PENDING_HOURS * 3600
    for path in pending_folder().iterdir():
        if path.is_file() and path.stat().st_mtime < stale:
            path.unlink(missing_ok=True)


def described(plan: imports.Plan) -> dict[str, Any]:
    """A plan as the job keeps it, for the preview page."""
    return {
        "trainees": len(plan.new_trainees),
        "cohorts": len(plan.new_cohorts),
        "enrolments": [
            {**asdict(e), "start_date": e.start_date.isoformat(), "assessors": list(e.assessors)}
            for e in plan.new_enrolments
        ],
        "unchanged": plan.unchanged,
        "problems": [asdict(p) for p in plan.problems],
    }
