"""Jobs: sent only once their transaction commits, tried again with a growing delay, failed with their error for an
administrator to see and send again, taken over when their worker dies, and done by a real `assessor worker`."""

from __future__ import annotations

import datetime
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from assessor.core import jobs
from assessor.core.jobs import queue_of
from assessor.domain.vocabulary import JobStatus
from assessor.jobs.handlers import AUDIT_CHECK
from assessor.models import Job, utcnow
from assessor.models.columns import as_utc
from tests.records.factories import build_world
from tests.server import working
from tests.web.conftest import csrf_token, sign_in

KIND = "test.count"


@pytest.fixture
def counted(monkeypatch):
    """A kind of job that counts its attempts, reports progress, and fails while `fail` says so."""
    state = SimpleNamespace(attempts=[], fail=0)

    def handler(work: jobs.Work) -> jobs.Finish:
        state.attempts.append(work.attempt)
        work.progress(1, 2)
        if state.fail:
            state.fail -= 1
            raise RuntimeError("the printer is on fire")
        return lambda session: {"rows": 2, "params": work.params}

    monkeypatch.setitem(jobs.KINDS, KIND, jobs.Kind("Counting", handler))
    return state


def job(app, job_id: int) -> Job:
    with app.extensions["database"].read_sessions() as session:
        return session.get_one(Job, job_id)


def ask(app, **params) -> int:
    with app.extensions["database"].sessions.begin() as session:
        return jobs.enqueue(session, None, KIND, params).id


def test_a_job_is_sent_once_its_transaction_commits_and_never_when_it_rolls_back(app, counted):
    job_id = ask(app, cohort=3)
    done = job(app, job_id)
    assert (done.status, done.attempts, done.result, done.done, done.total) == (
        JobStatus.DONE,
        1,
        {"rows": 2, "params": {"cohort": 3}},
        2,
        2,
    )
    assert done.finished_at is not None and done.lease_until is None
    session = app.extensions["database"].sessions()
    jobs.enqueue(session, None, KIND, {})
    session.rollback()
    session.close()
    assert counted.attempts == [1]
    with app.extensions["database"].read_sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1
    with pytest.raises(ValueError, match="no handler for jobs of kind 'nothing'"):
        jobs.enqueue(app.extensions["database"].sessions(), None, "nothing", {})


def test_a_job_asked_for_within_a_savepoint_is_sent_once_the_whole_transaction_commits(app, counted):
    with app.extensions["database"].sessions.begin() as session:
        with session.begin_nested():
            job_id = jobs.enqueue(session, None, KIND, {}).id
        assert counted.attempts == []  # the savepoint is released, but nothing is committed yet
    assert counted.attempts == [1] and job(app, job_id).status == JobStatus.DONE


def test_a_failing_job_is_tried_again_later_then_failed_with_its_error_for_an_administrator(make_app, counted):
    app = make_app(JOB_ATTEMPTS=3, JOB_RETRY_SECONDS=10)
    with app.extensions["database"].sessions.begin() as session:
        build_world(session, app.extensions["catalogue"])
    counted.fail = 3
    before = utcnow()
    job_id = ask(app)
    waiting = job(app, job_id)
    assert (waiting.status, waiting.attempts) == (JobStatus.QUEUED, 1)
    assert "RuntimeError: the printer is on fire" in waiting.error
    # The next attempt is scheduled after the delay, and the job is not sent again by the sweep before then.
    assert [t.args for t in queue_of(app).huey.scheduled()] == [(job_id,)]
    assert as_utc(waiting.lease_until) > before + datetime.timedelta(seconds=10)
    queue_of(app).run(job_id)  # as the scheduled attempt would
    assert job(app, job_id).status == JobStatus.QUEUED
    assert [t.args for t in queue_of(app).huey.scheduled()] == [(job_id,), (job_id,)]  # 10 s, then 20 s
    queue_of(app).run(job_id)
    failed = job(app, job_id)
    assert (failed.status, failed.attempts, counted.attempts) == (JobStatus.FAILED, 3, [1, 2, 3])
    assert failed.finished_at is not None and "the printer is on fire" in failed.error

    admin = app.test_client()
    sign_in(admin, "admin")
    listing = admin.get("/jobs").get_data(as_text=True)
    assert "Counting" in listing and "Failed" in listing and "the printer is on fire" in listing
    assert "Send again" in admin.get(f"/jobs/{job_id}").get_data(as_text=True)
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    assert coordinator.get("/jobs").status_code == 404
    assert coordinator.get(f"/jobs/{job_id}").status_code == 404

    token = csrf_token(admin, "/jobs")
    response = admin.post(f"/jobs/{job_id}/again", data={"csrf_token": token})
    assert response.status_code == 302
    again = job(app, job_id)
    assert (again.status, again.attempts, again.error) == (JobStatus.DONE, 1, None)
    refused = admin.post(f"/jobs/{job_id}/again", data={"csrf_token": token})
    assert refused.status_code == 400 and "Only a failed job is sent again." in refused.get_data(as_text=True)


def unsent(app) -> int:
    """A queued job's row, as if the process that asked for it stopped before sending it."""
    with app.extensions["database"].sessions.begin() as session:
        row = Job(kind=KIND, params={}, lease_until=utcnow())
        session.add(row)
        session.flush()
        return row.id


def lapse(app, job_id: int) -> None:
    """Let a job's lease run out."""
    with app.extensions["database"].sessions.begin() as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(lease_until=utcnow()))


def test_a_job_whose_worker_died_is_taken_over_once_its_lease_lapses_and_takes_effect_once(app, counted):
    queue = queue_of(app)
    job_id = unsent(app)
    first = queue.claim(job_id)  # a worker takes it ... and is killed
    assert first is not None and first.attempt == 1
    assert queue.claim(job_id) is None  # its lease still runs: nobody else takes it
    queue.sweep()
    assert job(app, job_id).status == JobStatus.RUNNING and counted.attempts == []
    lapse(app, job_id)
    queue.sweep()  # the lease lapsed: sent again, and (immediate here) done
    done = job(app, job_id)
    assert (done.status, done.attempts, counted.attempts) == (JobStatus.DONE, 2, [2])
    first.progress(0, 9)  # the dead attempt, were it to come back, changes nothing
    assert (job(app, job_id).done, job(app, job_id).total) == (2, 2)


def test_a_job_whose_worker_dies_during_every_attempt_fails_saying_so(make_app, counted):
    app = make_app(JOB_ATTEMPTS=2)
    queue = queue_of(app)
    job_id = unsent(app)
    for _ in range(2):
        assert queue.claim(job_id) is not None
        lapse(app, job_id)
    queue.sweep()
    failed = job(app, job_id)
    assert failed.status == JobStatus.FAILED and counted.attempts == []
    assert failed.error == "The worker stopped (it was killed or lost) during each of 2 attempts."


def wait_for(app, job_id: int, status: JobStatus, seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = job(app, job_id)
        if found.status == status:
            return found
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} is {job(app, job_id).status}, not {status}")


def test_a_real_worker_does_the_job_and_after_a_crash_takes_up_what_it_left(make_app, database_url, tmp_path):
    """`assessor worker` on the real queue (SQLite's file beside the database, or PostgreSQL's schema)."""
    app = make_app(JOB_QUEUE="")
    with app.extensions["database"].sessions.begin() as session:
        build_world(session, app.extensions["catalogue"])
    admin = app.test_client()
    sign_in(admin, "admin")
    response = admin.post("/jobs/audit-check", data={"csrf_token": csrf_token(admin, "/jobs")})
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert job(app, job_id).status == JobStatus.QUEUED  # nothing runs it in this process
    settings = {"AUDIT_CHECKPOINT_DIR": app.config["AUDIT_CHECKPOINT_DIR"], "JOB_LEASE_SECONDS": "2"}
    with working(database_url, tmp_path / "worker", **settings) as worker:
        done = wait_for(app, job_id, JobStatus.DONE)
        assert done.result["intact"] is True and done.result["events"] > 10
        page = admin.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert "The audit trail is intact" in page
        worker.stop(sig=9)
    # As a worker killed mid-job leaves it: running, with a lease about to lapse, gone from the queue.
    with app.extensions["database"].sessions.begin() as session:
        row = Job(kind=AUDIT_CHECK, params={}, status=JobStatus.RUNNING, attempts=1, lease_until=utcnow())
        session.add(row)
        session.flush()
        orphan = row.id
    with working(database_url, tmp_path / "worker", **settings):
        taken_over = wait_for(app, orphan, JobStatus.DONE)
    assert taken_over.attempts == 2 and taken_over.result["intact"] is True
