"""Imports as jobs: the uploaded file waits in the instance folder; the worker checks it (the preview) and, once the
person who uploaded it confirms, checks it again and carries it out, all rows or none.

Carrying it out never holds the write lock for long: the rows are written in batches (BATCH_ROWS, or as many as
BATCH_SECONDS allow), each a transaction of its own, marked as the import's and seen by nobody else (`models.pending`)
until the short transaction that finishes the job makes them everyone's. A worker killed part-way leaves its rows to
the next attempt, which carries on from them; an import that no longer checks out, or that fails for good, removes
them. The invitations to the new trainees go out afterwards, in a job of their own.

A file that cannot be read as a table, or that no longer checks out when it is carried out, is an answer, not a
failure: the job is done and its result says why nothing was imported.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from assessor.core import audit
from assessor.core.access import actor, require
from assessor.core.database import database, is_sqlite
from assessor.core.jobs import Finish, Work, enqueue, every_hour, handles
from assessor.domain import policy
from assessor.domain.errors import InvalidInput, NotFound, OperationError
from assessor.domain.vocabulary import JobStatus
from assessor.models import Job, User, pending
from assessor.transfer import imports
from assessor.transfer.operations import ONLY_STAFF, finish_import, import_rows, invite_trainees, undo_import
from assessor.transfer.queries import check_file

log = logging.getLogger(__name__)

CHECK = "import.check"
APPLY = "import.apply"
INVITE = "import.invite"
IMPORT_BEGIN = "import.begin"
NO_LONGER = "The file no longer checks out: upload it again to see why. Nothing was imported."
EXPIRED = "That preview has expired: upload the file again. Nothing was imported."
PENDING_HOURS = 24  # an uploaded file waits this long for its confirmation
# A batch, one transaction, writes up to BATCH_ROWS rows, and stops after BATCH_SECONDS whatever the machine's speed,
# so that an assessor saving evidence meanwhile never waits long for the write lock.
BATCH_ROWS = 100
BATCH_SECONDS = 0.25
# SQLite hands the write lock to whoever asks first once it is free, and a writer kept waiting asks again only every
# 100 ms: without a pause longer than that between batches, the import would take the lock back nearly every time.
# PostgreSQL queues waiters in turn (the audit trail's lock among them), so there the next batch starts at once.
SQLITE_PAUSE = 0.2


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
    """Queue the import of a file whose check this user asked for, and that checked out; asked again while that
    import is queued or running (a second click), the same import."""
    require(policy.may_take_job_result(actor(user), checked.owner_id), ONLY_STAFF)
    result = checked.result or {}
    if checked.kind != CHECK or not result.get("plan") or result["plan"]["problems"]:
        raise InvalidInput({"file": "Only a file that checked out can be imported."})
    # The check's row, locked, makes two confirmations of one file take turns (on PostgreSQL; SQLite's writes do).
    session.execute(sa.select(Job.id).where(Job.id == checked.id).with_for_update())
    under_way = session.scalars(
        sa.select(Job).where(
            Job.kind == APPLY, Job.owner_id == checked.owner_id, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))
        )
    )
    for job in under_way:
        if job.params.get("token") == checked.params["token"]:
            return job
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


class _NotImported(Exception):
    """The import cannot be carried out; `message` says why, to the person who asked for it."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class _TakenOver(Exception):
    """Another worker took the job over (this one's lease lapsed): this attempt writes nothing more."""


@handles(APPLY, "Import of trainees and enrolments")
def apply_import_job(work: Work) -> Finish:
    """Check the file again, then write its rows in batches, each a short transaction of its own, so that others get
    the write lock between them. The rows are marked as this import's, and nobody else sees them until the
    transaction that finishes the job makes them everyone's: all rows or none, as far as anyone can tell. An attempt
    cut short leaves its rows for the next one, which carries on; an import that can no longer be carried out, or that
    failed for good, removes what it wrote."""
    path = _pending(str(work.params["token"]), str(work.params["filename"]))
    try:
        plan = _checked_again(work, path)
        _write(work, plan)
    except _TakenOver:
        return _dropped
    except (_NotImported, InvalidInput, sa.exc.IntegrityError) as refused:
        # Someone took a username or a cohort name, or enrolled a trainee, since the file was checked.
        message = refused.message if isinstance(refused, _NotImported) else NO_LONGER
        return _refused(work, path, message)
    except Exception as failed:
        if isinstance(failed, OperationError) or work.attempt >= work.queue.attempts:
            _undo(work)  # no attempt follows (a refusal by the access policy fails at once): leave nothing
        raise

    def finish(session: so.Session) -> dict[str, Any]:
        owner = _owner(session, work)
        counts = {
            "cohorts": len(plan.new_cohorts),
            "trainees": len(plan.new_trainees),
            "enrolments": len(plan.new_enrolments),
        }
        invited = finish_import(session, owner, counts, work.id)
        if invited:
            enqueue(session, owner, INVITE, {"trainees": invited})
        path.unlink(missing_ok=True)  # imported: done with
        return {**counts, "invited": len(invited)}

    return finish


def _checked_again(work: Work, path: Path) -> imports.Plan:
    """The file checked again against the database as everyone sees it (rows this import wrote in an attempt cut short
    are not seen, so the plan is the one those rows came from)."""
    if not path.is_file():
        raise _NotImported(EXPIRED)
    with database().read_sessions() as session:
        owner = _owner(session, work)
        try:
            plan = check_file(session, owner, path.read_bytes(), path.name)
        except imports.ImportRefused:
            raise _NotImported(NO_LONGER) from None
    if not plan.ok:
        raise _NotImported(NO_LONGER)
    return plan


def _write(work: Work, plan: imports.Plan) -> None:
    """The plan's rows, a batch to a transaction, each checking first that the job is still this attempt's."""
    rows = plan.new_enrolments
    done = batches = 0
    longest = 0.0  # a batch's transaction, from taking the write lock to letting it go
    while done < len(rows):
        with database().sessions.begin() as session:
            if not work.step(session, done, len(rows)):
                raise _TakenOver
            began = time.monotonic()
            owner = _owner(pending.sees(session, work.id), work)
            if done == 0:
                after = {"rows": len(rows), "attempt": work.attempt}
                audit.record(session, owner, IMPORT_BEGIN, "import", work.id, None, after)
            batch = rows[done : done + BATCH_ROWS]
            done += import_rows(session, owner, plan, batch, work.id, until=began + BATCH_SECONDS)
        longest = max(longest, time.monotonic() - began)
        batches += 1
        _let_others_write()
    if rows:
        log.info("import %s: %s rows written in %s transactions, the longest %.3f s", work.id, done, batches, longest)


def _let_others_write() -> None:
    if is_sqlite(database().engine):
        time.sleep(SQLITE_PAUSE)


def _undo(work: Work) -> None:
    """Remove what this import wrote, BATCH_ROWS to a transaction (nobody saw it, so removing it bit by bit shows
    nobody half an import either); removing is quick, so a count is bound enough."""
    while True:
        with database().sessions.begin() as session:
            if not work.step(session):
                raise _TakenOver
            if not undo_import(session, work.id, BATCH_ROWS):
                return


def _refused(work: Work, path: Path, message: str) -> Finish:
    """Undo what the import wrote, and finish with the reason nothing was imported."""
    try:
        _undo(work)
    except _TakenOver:
        return _dropped

    def finish(_session: so.Session) -> dict[str, Any]:
        path.unlink(missing_ok=True)  # to be uploaded again
        return {"refused": message}

    return finish


def _dropped(_session: so.Session) -> None:
    """The finish of an attempt whose job another worker took over: never called, as the job is no longer its own."""


@handles(INVITE, "Invitations to imported trainees")
def invite_imported_trainees(work: Work) -> Finish:
    """E-mail each new trainee of a finished import an invitation to set a password, a batch to a transaction; one
    invited already (by an attempt cut short, or by hand) is not invited again."""
    trainees = [int(i) for i in work.params["trainees"]]
    done = 0
    while done < len(trainees):
        with database().sessions.begin() as session:
            if not work.step(session, done, len(trainees)):
                return _dropped
            until = time.monotonic() + BATCH_SECONDS
            done += invite_trainees(session, _owner(session, work), trainees[done : done + BATCH_ROWS], until)
        _let_others_write()
    return lambda _session: {"trainees": len(trainees)}


@every_hour
def remove_stale_imports() -> None:
    """Remove uploaded files whose import was never confirmed, a day on."""
    stale = time.time() - PENDING_HOURS * 3600
    for path in pending_folder().iterdir():
        if path.is_file() and path.stat().st_mtime < stale:
            path.unlink(missing_ok=True)


@every_hour
def undo_abandoned_imports() -> None:
    """Remove the rows of imports that stopped for good before they were done: a job that failed (its last worker
    killed, say) or is gone. A failed import sent again meanwhile is left to carry on."""
    db = database()
    with db.read_sessions() as session:
        pending.sees(session)
        abandoned = {
            import_id
            for model in pending.MARKED
            for import_id in session.scalars(
                sa.select(model.pending_import_id).where(model.pending_import_id.is_not(None)).distinct()
            )
            if import_id is not None
        }
    for import_id in sorted(abandoned):
        while True:
            with db.sessions.begin() as session:
                job = session.scalar(sa.select(Job).where(Job.id == import_id).with_for_update())
                if job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
                    break
                if not undo_import(session, import_id, BATCH_ROWS):
                    break


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
