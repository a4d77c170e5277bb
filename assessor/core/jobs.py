"""Work that outlasts a request: jobs kept in the database, done by `assessor worker`, carried there by huey.

The `job` row is the truth. Asking for a job adds its row in the caller's transaction; only once that commits is its
id handed to the queue, so a request that keeps nothing asks for nothing. A worker *claims* the job (a short
transaction that makes it running, with a lease), does the work in transactions of its own, and finishes it in the
same transaction as the work's last writes, provided the job is still its own: each job takes effect once.

huey forgets a task as soon as a worker takes it. So a job whose worker was killed keeps its row, running, until its
lease lapses (progress renews it); then the worker's sweep (when it starts, and every minute) sends it again and the
next claim takes it over. A job whose handler raised is tried again after a delay that doubles each time, up to
`JOB_ATTEMPTS` attempts; then it is failed, with the error, for an administrator to see and send again. A job the
access policy or the input refuses (an OperationError) fails at once, with its message: trying again cannot help.

The queue: on SQLite, a file of its own beside the database (huey's SqliteHuey: no server); on PostgreSQL, tables
in a schema of their own in the same database (PostgresHuey), shared by every application server and worker, and
left out of backups (the `job` table is enough to send every unfinished job again). `JOB_QUEUE = "immediate"` runs
each job in the process that asks for it, as soon as its transaction commits (for tests).
"""

from __future__ import annotations

import datetime
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask
from huey import Huey, MemoryHuey, PostgresHuey, SqliteHuey, crontab

from assessor.domain.errors import OperationError
from assessor.domain.vocabulary import JobStatus
from assessor.models import Job, User, utcnow
from assessor.models.columns import as_utc

log = logging.getLogger(__name__)

TO_SEND = "assessor.jobs_to_send"  # session.info: ids of jobs added in this transaction, sent once it commits
QUEUE_SCHEMA = "assessor_queue"  # on PostgreSQL, huey's tables live in a schema of their own, out of backups
ERROR_CHARS = 20_000  # of a traceback kept on the job
PROGRESS_EVERY = 1.0  # seconds between progress writes
SWEEP_BATCH = 1000
GRACE = datetime.timedelta(minutes=1)  # a queued job's lease: sent again if no worker took it by then

Finish = Callable[[so.Session], dict[str, Any] | None]


@dataclass
class Work:
    """A claimed job, as its handler sees it. The handler reads in transactions of its own, reports `progress`, and
    returns how to finish: a function of the transaction that marks the job done, for the job's last writes."""

    id: int
    kind: str
    params: dict[str, Any]
    owner_id: int | None
    attempt: int
    queue: Queue
    _written: float = field(default=0.0, repr=False)

    def progress(self, done: int, total: int | None = None) -> None:
        """How far the work is (`done` of `total` units); renews the lease. Written at most once a second."""
        now = time.monotonic()
        if now - self._written < PROGRESS_EVERY and done != total:
            return
        self._written = now
        with self.queue.sessions.begin() as session:
            session.execute(
                sa.update(Job)
                .where(*self.queue.ours(self))
                .values(done=done, total=total, lease_until=utcnow() + self.queue.lease)
            )

    def step(self, session: so.Session, done: int | None = None, total: int | None = None) -> bool:
        """In the caller's transaction, before its writes: the lease renewed and, given `done`, how far the work is.
        False when the job is no longer this attempt's (its lease lapsed and another worker took it over): the caller
        must then write nothing. On PostgreSQL the job's row stays locked until the transaction ends, so no other
        worker takes the job over in the middle of it."""
        values: dict[str, Any] = {"lease_until": utcnow() + self.queue.lease}
        if done is not None:
            self._written = time.monotonic()
            values |= {"done": done, "total": total}
        renewed = session.execute(sa.update(Job).where(*self.queue.ours(self)).values(**values))
        return bool(renewed.rowcount)  # type: ignore[attr-defined]


Handler = Callable[[Work], Finish]


@dataclass(frozen=True)
class Kind:
    """A kind of job: what people call it, and the function that does it."""

    title: str
    handler: Handler


KINDS: dict[str, Kind] = {}


def handles(kind: str, title: str) -> Callable[[Handler], Handler]:
    """Register the handler of one kind of job, and its name in words."""

    def register(handler: Handler) -> Handler:
        KINDS[kind] = Kind(title, handler)
        return handler

    return register


HOURLY: list[Callable[[], None]] = []


def every_hour(chore: Callable[[], None]) -> Callable[[], None]:
    """Register a chore the worker does every hour, in the app's context (removing expired files, say)."""
    HOURLY.append(chore)
    return chore


def title_of(kind: str) -> str:
    """A kind of job in words."""
    return KINDS[kind].title if kind in KINDS else kind


def enqueue(session: so.Session, owner: User | None, kind: str, params: dict[str, Any]) -> Job:
    """Ask for a job in the caller's transaction; it is sent to the worker once that transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"no handler for jobs of kind {kind!r}")
    job = Job(kind=kind, params=params, owner_id=owner.id if owner else None, lease_until=utcnow() + GRACE)
    session.add(job)
    session.flush()
    session.info.setdefault(TO_SEND, []).append(job.id)
    return job


class Queue:
    """The app's job queue: huey for transport and the worker, the `job` table for the truth."""

    def __init__(self, app: Flask, huey: Huey, sessions: so.sessionmaker[so.Session]):
        self.app = app
        self.huey = huey
        self.sessions = sessions
        self.lease = datetime.timedelta(seconds=int(app.config["JOB_LEASE_SECONDS"]))
        self.attempts = int(app.config["JOB_ATTEMPTS"])
        self.retry_delay = float(app.config["JOB_RETRY_SECONDS"])
        self._task = huey.task(name="run_job")(self._run)
        huey.periodic_task(crontab(), name="sweep")(self.sweep)
        self._sweep_later = huey.task(name="sweep_later")(self.sweep)
        huey.on_startup(name="sweep_on_start")(self.sweep_on_start)
        huey.periodic_task(crontab(minute="7"), name="hourly")(self.hourly)

    # --- sending ---------------------------------------------------------------------------------

    def send(self, job_id: int, delay: float = 0) -> None:
        """Hand a job's id to the queue (after `delay` seconds)."""
        if delay:
            self._task.schedule((job_id,), delay=delay)
        else:
            self._task(job_id)

    def sweep(self) -> None:
        """Send again every job whose lease lapsed and that the queue no longer holds: a worker killed while running
        it, or a process that stopped between its commit and sending it."""
        held = {task.args[0] for task in (*self.huey.pending(), *self.huey.scheduled()) if task.args}
        now = utcnow()
        with self.sessions.begin() as session:
            lapsed = session.scalars(
                sa.select(Job.id)
                .where(Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)), Job.lease_until < now)
                .order_by(Job.id)
                .limit(SWEEP_BATCH)
            ).all()
            again = [job_id for job_id in lapsed if job_id not in held]
            if again:
                queued = (Job.id.in_(again), Job.status == JobStatus.QUEUED)
                session.execute(sa.update(Job).where(*queued).values(lease_until=now + GRACE))
        for job_id in again:
            log.warning("job %s: its lease lapsed; sent again", job_id)
            self.send(job_id)

    def sweep_on_start(self) -> None:
        """Sweep now, and again as soon as the lease of a job still running lapses: a worker restarted after a crash
        takes up what it was doing without waiting for the next minute's sweep."""
        self.sweep()
        with self.sessions() as session:
            soonest = session.scalar(sa.select(sa.func.min(Job.lease_until)).where(Job.status == JobStatus.RUNNING))
        if soonest is not None:
            self._sweep_later.schedule(delay=max(0.0, (as_utc(soonest) - utcnow()).total_seconds()) + 1)

    def hourly(self) -> None:
        """The chores features registered with `every_hour`."""
        with self.app.app_context():
            for chore in HOURLY:
                try:
                    chore()
                except Exception:  # noqa: BLE001 - one chore failing must not stop the others
                    log.exception("hourly chore %s failed", chore.__name__)

    # --- running ---------------------------------------------------------------------------------

    def _run(self, job_id: int) -> None:
        with self.app.app_context():
            self.run(job_id)

    def run(self, job_id: int) -> None:
        """Claim a job and do it; a job that is done, failed or another worker's is left alone."""
        work = self.claim(job_id)
        if work is None:
            return
        try:
            finish = KINDS[work.kind].handler(work)
            with self.sessions.begin() as session:
                mine = session.scalar(sa.select(Job).where(*self.ours(work)).with_for_update())
                if mine is None:
                    log.warning("job %s: taken over by another worker; this attempt's result is dropped", job_id)
                    return
                mine.result = finish(session)
                mine.status = JobStatus.DONE
                mine.finished_at = utcnow()
                mine.lease_until = None
                mine.error = None
                if mine.total is not None:
                    mine.done = mine.total
        except OperationError as refused:
            self._failed(work, str(refused), again=False)
        except Exception:  # noqa: BLE001 - any failure of a job is recorded on it, and tried again
            self._failed(work, traceback.format_exc()[-ERROR_CHARS:])

    def claim(self, job_id: int) -> Work | None:
        """Make a job running with a lease, if it is queued or its running worker's lease lapsed."""
        now = utcnow()
        with self.sessions.begin() as session:
            job = session.scalar(sa.select(Job).where(Job.id == job_id).with_for_update())
            if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
                return None
            if job.status == JobStatus.RUNNING:
                if job.lease_until is not None and as_utc(job.lease_until) > now:
                    return None  # its worker is alive
                if job.attempts >= self.attempts:
                    job.status = JobStatus.FAILED
                    job.error = f"The worker stopped (it was killed or lost) during each of {job.attempts} attempts."
                    job.finished_at, job.lease_until = now, None
                    return None
            job.status = JobStatus.RUNNING
            job.attempts += 1
            job.lease_until = now + self.lease
            job.started_at = job.started_at or now
            return Work(job.id, job.kind, dict(job.params), job.owner_id, job.attempts, self)

    def ours(self, work: Work) -> tuple[sa.ColumnElement[bool], ...]:
        """The job, still running this attempt (not taken over since by another worker)."""
        return (Job.id == work.id, Job.status == JobStatus.RUNNING, Job.attempts == work.attempt)

    def _failed(self, work: Work, error: str, again: bool = True) -> None:
        again = again and work.attempt < self.attempts
        delay = self.retry_delay * 2 ** (work.attempt - 1)
        log.error("job %s (%s) failed, attempt %s of %s:\n%s", work.id, work.kind, work.attempt, self.attempts, error)
        now = utcnow()
        values: dict[str, Any] = {"error": error}
        if again:
            values |= {"status": JobStatus.QUEUED, "lease_until": now + datetime.timedelta(seconds=delay) + GRACE}
        else:
            values |= {"status": JobStatus.FAILED, "lease_until": None, "finished_at": now}
        with self.sessions.begin() as session:
            changed = session.execute(sa.update(Job).where(*self.ours(work)).values(**values)).rowcount  # type: ignore[attr-defined]
        if again and changed:
            self.send(work.id, delay=delay)

    def send_again(self, session: so.Session, job: Job) -> None:
        """An administrator sends a failed job again, with its attempts counted afresh."""
        job.status = JobStatus.QUEUED
        job.attempts = 0
        job.lease_until = utcnow() + GRACE
        job.finished_at = None
        session.flush()
        session.info.setdefault(TO_SEND, []).append(job.id)


def make_huey(app: Flask, database_url: str) -> Huey:
    """The queue's storage for this app: see the module's docstring."""
    setting = str(app.config.get("JOB_QUEUE") or "")
    if setting == "immediate":
        return MemoryHuey("assessor", immediate=True, results=False)
    url = sa.make_url(setting or database_url)
    if url.get_backend_name() == "postgresql":
        import psycopg

        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
        return PostgresHuey("assessor", results=False, dsn=dsn, options=f"-c search_path={QUEUE_SCHEMA}")
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ValueError(f"JOB_QUEUE: a SQLite file, a PostgreSQL database or 'immediate', not {url}")
    path = Path(url.database)
    if not setting:  # beside the database: never the database itself, which huey would lock
        path = path.with_name(f"{path.stem}-queue.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("assessor", results=False, filename=str(path))


def init_app(app: Flask, sessions: so.sessionmaker[so.Session], database_url: str) -> Queue:
    """Give the app its queue, and send each job once the transaction that asked for it commits."""
    queue = Queue(app, make_huey(app, database_url), sessions)
    app.extensions["jobs"] = queue

    def send_committed(session: so.Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint released: the jobs go once the whole transaction commits
        for job_id in session.info.pop(TO_SEND, []):
            queue.send(job_id)

    def forget(session: so.Session, _previous: Any) -> None:
        session.info.pop(TO_SEND, None)

    sa.event.listen(sessions, "after_commit", send_committed)
    sa.event.listen(sessions, "after_soft_rollback", forget)
    return queue


def queue_of(app: Flask) -> Queue:
    """The app's queue."""
    queue: Queue = app.extensions["jobs"]
    return queue
