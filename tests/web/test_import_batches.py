"""Imports written in batches: each a transaction of its own, between which an assessor saves evidence; seen by nobody
until the import is done; removed, saying so, when the import fails part-way; carried on, never written twice, when
its worker is killed or presumed dead; and asked for once however often it is confirmed or delivered."""

from __future__ import annotations

import io
import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from assessor.core.access import visible_enrolments
from assessor.core.jobs import queue_of
from assessor.domain.vocabulary import JobStatus, Role, TokenPurpose, Verdict
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.models import AccountToken, AuditEvent, Cohort, Enrolment, Job, User, utcnow
from assessor.transfer import importing, reports
from tests.records.factories import TODAY, make_user, observation
from tests.server import working
from tests.web.conftest import build_web_world, csrf_token, sign_in
from tests.web.test_import import counts

BATCH = 2
ROWS = 7  # four batches: 2, 2, 2 and 1
HEADER = "username,name,email,cohort,unit,version,start_date,assessors\n"


@pytest.fixture
def app(make_app, monkeypatch):
    """Jobs wait in the queue until a test runs them; imports write two rows a transaction."""
    two_rows_a_batch(monkeypatch)
    app = make_app(JOB_QUEUE="")
    yield app
    queue_of(app).huey.flush()


def two_rows_a_batch(monkeypatch) -> None:
    """Batches of two rows, however slowly a busy machine writes them."""
    monkeypatch.setattr(importing, "BATCH_ROWS", BATCH)
    monkeypatch.setattr(importing, "BATCH_SECONDS", 3600)


def intake(rows: int = ROWS, emails: int = 2) -> bytes:
    """A file of new trainees `new.0000`..., each enrolled in the NZQA unit in a new cohort; the first `emails` of
    them with an e-mail address."""
    lines = [
        f"new.{n:04d},New Trainee {n},{f'new{n}@example.org' if n < emails else ''},Intake 2027,us_case_mgmt,1,"
        "2026-09-01,assessor\n"
        for n in range(rows)
    ]
    return (HEADER + "".join(lines)).encode()


def run(app, job_id: int) -> None:
    """Do a job, as a worker would."""
    with app.app_context():
        queue_of(app).run(job_id)


def job_of(app, job_id: int) -> Job:
    with app.extensions["database"].read_sessions() as session:
        return session.get_one(Job, job_id)


def ask_import(app, client, data: bytes) -> tuple[int, int]:
    """Upload a file, have it checked, confirm it: the ids of the check and of the import, queued."""
    asked = client.post(
        "/import",
        data={"csrf_token": csrf_token(client, "/import"), "file": (io.BytesIO(data), "intake.csv")},
        content_type="multipart/form-data",
    )
    check = int(asked.headers["Location"].rsplit("/", 1)[1])
    run(app, check)
    assert "Importing it will create" in client.get(f"/jobs/{check}").get_data(as_text=True)
    confirmed = confirm(client, check)
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    return check, int(confirmed.headers["Location"].rsplit("/", 1)[1])


def confirm(client, check: int):
    return client.post("/import/confirm", data={"csrf_token": csrf_token(client, "/import"), "job": check})


def pending(app) -> tuple[int, int, int]:
    """Accounts, cohorts and enrolments an import is still writing, counted without the ORM (which hides them)."""
    with app.extensions["database"].engine.connect() as connection:
        return tuple(  # type: ignore[return-value]
            connection.scalar(
                sa.select(sa.func.count()).select_from(table).where(table.c.pending_import_id.is_not(None))
            )
            for table in (User.__table__, Cohort.__table__, Enrolment.__table__)
        )


def seen(app) -> tuple[int, int, int]:
    """The file's trainees, cohort and enrolments as the application finds them."""
    with app.extensions["database"].read_sessions() as session:
        return (
            session.scalar(sa.select(sa.func.count()).where(User.username.like("new.%"))),
            session.scalar(sa.select(sa.func.count()).where(Cohort.name == "Intake 2027")),
            session.scalar(
                sa.select(sa.func.count()).select_from(Enrolment).join(User).where(User.username.like("new.%"))
            ),
        )


def events(app, *actions: str) -> list[AuditEvent]:
    with app.extensions["database"].read_sessions() as session:
        return list(
            session.scalars(sa.select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.seq))
        )


def audit_intact(app) -> bool:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code == 0 and "audit trail intact" in result.output


@contextmanager
def after_each_commit(app, do: Callable[[], None]) -> Iterator[None]:
    """Call `do` after each commit of the application's write sessions (not after those `do` makes itself)."""
    sessions = app.extensions["database"].sessions
    busy: list[bool] = []

    def spy(_session) -> None:
        if busy:
            return
        busy.append(True)
        try:
            with app.app_context():  # a context of its own: requests made in it do not share the worker's
                do()
        finally:
            busy.clear()

    sa.event.listen(sessions, "after_commit", spy)
    try:
        yield
    finally:
        sa.event.remove(sessions, "after_commit", spy)


def test_an_import_is_written_in_batches_between_which_an_assessor_saves_evidence_and_nobody_sees_it_until_done(
    app, signed_in, world
):
    coordinator, assessor = signed_in("coordinator"), signed_in("assessor")
    _check, job_id = ask_import(app, coordinator, intake())
    looked: list[tuple[tuple[int, int, int], tuple[int, int, int], bool, bool, bool]] = []
    exported: list[int] = []  # the file's trainees in each export, read as the coordinator's exports read

    def look() -> None:
        """Between two transactions of the import: what is written, what anyone sees, and a piece of evidence saved."""
        cohorts = coordinator.get("/cohorts").get_data(as_text=True)
        listed = coordinator.get("/enrolments?q=new").get_data(as_text=True)
        with app.extensions["database"].sessions.begin() as session:
            record_evidence(
                session,
                session.scalars(sa.select(User).where(User.username == "assessor")).one(),
                session.get_one(User, world.trainee_id),
                observation("Saved while the import was under way.", observed_on=TODAY),
                [MappingInput(world.open_enrolment, "1.1", Verdict.SATISFIED)],
                today=TODAY,
            )
        page_of_one = assessor.get(f"/enrolments/{newest_enrolment(app)}").status_code
        looked.append((pending(app), seen(app), "Intake 2027" in cohorts, "New Trainee" in listed, page_of_one == 200))
        exported.append(exported_trainees(app))

    with after_each_commit(app, look):
        run(app, job_id)

    done = job_of(app, job_id)
    assert (done.status, done.done, done.total) == (JobStatus.DONE, ROWS, ROWS)
    assert done.result == {"cohorts": 1, "trainees": ROWS, "enrolments": ROWS, "invited": 2}
    under_way = [look for look in looked if look[0] != (0, 0, 0)]
    # Each batch committed on its own: 2, 4, 6, then all 7 rows written, and at each point nobody saw any of them.
    assert [written for written, *_ in under_way] == [(2, 1, 2), (4, 1, 4), (6, 1, 6), (7, 1, 7)]
    assert all(tuple(rest) == ((0, 0, 0), False, False, False) for _, *rest in under_way)
    assert looked[-1] == ((0, 0, 0), (ROWS, 1, ROWS), True, True, True)  # the transaction that finished it
    # Each export reads plain rows past the ORM: they leave the import's rows out all the same.
    assert [n for n, look in zip(exported, looked, strict=True) if look[0] != (0, 0, 0)] == [0, 0, 0, 0]
    assert exported[-1] == 2 * ROWS  # a row each in the progress summary and the matrix; no evidence or records yet
    assert seen(app) == (ROWS, 1, ROWS) and pending(app) == (0, 0, 0)

    # The evidence saved between the batches sits between the import's own events in the one chain.
    begun, finished = (e.seq for e in events(app, "import.begin", "import"))
    saved = [e.seq for e in events(app, "evidence.record")]
    assert sum(begun < seq < finished for seq in saved) >= 3
    page = coordinator.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"Imported: {ROWS} new trainees, {ROWS} new enrolments, 1 new cohorts." in page
    (invite,) = [j for j in all_jobs(app) if j.kind == importing.INVITE]
    run(app, invite.id)
    assert invitations(app) == {"new.0000": 1, "new.0001": 1}
    assert audit_intact(app)


def exported_trainees(app) -> int:
    """How many rows of the coordinator's four exports name one of the file's trainees."""
    with app.extensions["database"].read_sessions() as session:
        coordinator = session.scalars(sa.select(User).where(User.username == "coordinator")).one()
        filters = reports.Filters(visible_enrolments(coordinator).with_only_columns(Enrolment.id))
        return sum(
            any(str(cell).startswith("new.") for cell in row)
            for kind in ("progress", "matrix", "evidence", "completions")
            for sheet in reports.sheets(session, kind, filters)
            for row in sheet.rows
        )


def newest_enrolment(app) -> int:
    with app.extensions["database"].engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.max(Enrolment.__table__.c.id)))


def all_jobs(app) -> list[Job]:
    with app.extensions["database"].read_sessions() as session:
        return list(session.scalars(sa.select(Job).order_by(Job.id)))


def invitations(app) -> Counter[str]:
    with app.extensions["database"].read_sessions() as session:
        return Counter(
            session.scalars(
                sa.select(User.username)
                .join(AccountToken, AccountToken.user_id == User.id)
                .where(AccountToken.purpose == TokenPurpose.INVITATION)
            )
        )


def created_by_the_import(app) -> dict[str, list[int]]:
    """The ids of the records the import's create events name (made by the coordinator, once it began), by kind, each
    once per event."""
    kinds = {"user.create": "accounts", "cohort.create": "cohorts", "enrolment.create": "enrolments"}
    found: dict[str, list[int]] = {kind: [] for kind in kinds.values()}
    begun = events(app, "import.begin")[0].seq
    for event in events(app, *kinds):
        if event.seq > begun and event.actor == "coordinator":
            found[kinds[event.action]].append(int(event.entity_id))
    return found


def undone(app) -> dict[str, list[int]]:
    """The ids of the records the import.undo events say were removed, by kind."""
    found: dict[str, list[int]] = {"accounts": [], "cohorts": [], "enrolments": []}
    for event in events(app, "import.undo"):
        for kind, ids in json.loads(event.after).items():
            found[kind] += ids
    return found


def test_an_import_that_no_longer_holds_in_a_later_batch_leaves_nothing_and_says_what_it_removed(app, signed_in, world):
    coordinator = signed_in("coordinator")
    _check, job_id = ask_import(app, coordinator, intake())
    before = counts(app)[:3]

    def take_a_username() -> None:
        """After the second batch, someone creates an account with the username the last batch is to create."""
        if pending(app)[2] == 4 and not seen_taken:
            with app.extensions["database"].sessions.begin() as session:
                make_user(session, f"new.{ROWS - 1:04d}", Role.TRAINEE)
            seen_taken.append(True)

    seen_taken: list[bool] = []
    with after_each_commit(app, take_a_username):
        run(app, job_id)

    done = job_of(app, job_id)
    assert done.status == JobStatus.DONE and done.result == {"refused": importing.NO_LONGER}
    assert importing.NO_LONGER in coordinator.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert pending(app) == (0, 0, 0) and seen(app) == (1, 0, 0)  # the one account made meanwhile, nothing else
    users, enrolments, cohorts = counts(app)[:3]
    assert (users, enrolments, cohorts) == (before[0] + 1, before[1], before[2])
    created = created_by_the_import(app)
    assert len(created["enrolments"]) == len(created["accounts"]) == 6 and len(created["cohorts"]) == 1
    assert {kind: sorted(ids) for kind, ids in undone(app).items()} == created
    assert not [j for j in all_jobs(app) if j.kind == importing.INVITE]  # nobody is invited to an import undone
    assert audit_intact(app)
    assert confirm(coordinator, _check).status_code == 409  # the file is gone: it is uploaded again to see why


@pytest.fixture
def world_app_factory(make_app, monkeypatch):
    """An app of the given settings, its jobs waiting to be run by the test, with the web world and the coordinator
    signed in."""
    made = []

    def make(**settings):
        two_rows_a_batch(monkeypatch)
        app = make_app(JOB_QUEUE="", **settings)
        made.append(app)
        build_web_world(app)
        client = app.test_client()
        assert sign_in(client, "coordinator").status_code == 302
        return app, client

    yield make
    for app in made:
        queue_of(app).huey.flush()


class Crash(Exception):
    """What stops the worker in the middle of the third batch of each attempt."""


def test_an_import_that_fails_for_good_removes_what_it_wrote_and_each_attempt_carries_on_from_the_last(
    monkeypatch, world_app_factory
):
    app, coordinator = world_app_factory(JOB_ATTEMPTS=2)
    _check, job_id = ask_import(app, coordinator, intake())
    before = counts(app)[:3]
    write = importing.import_rows
    calls: list[int] = []

    def crash_on_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) % 3 == 0:
            raise Crash("the disk is full")
        return write(*args, **kwargs)

    monkeypatch.setattr(importing, "import_rows", crash_on_the_third_batch)
    run(app, job_id)
    again = job_of(app, job_id)
    assert (again.status, again.attempts) == (JobStatus.QUEUED, 1) and "the disk is full" in again.error
    assert pending(app) == (4, 1, 4) and seen(app) == (0, 0, 0)  # kept for the next attempt, seen by nobody
    run(app, job_id)  # as the scheduled attempt would: it carries on from the rows written, then fails for good
    failed = job_of(app, job_id)
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 2)
    assert pending(app) == (0, 0, 0) and counts(app)[:3] == before
    created = created_by_the_import(app)
    assert len(created["enrolments"]) == 4 and len(set(created["enrolments"])) == 4  # none written twice
    assert {kind: sorted(ids) for kind, ids in undone(app).items()} == {
        kind: sorted(ids) for kind, ids in created.items()
    }
    assert [json.loads(e.after)["attempt"] for e in events(app, "import.begin")] == [1, 2]
    assert not events(app, "import")
    assert audit_intact(app)


class Killed(BaseException):
    """A worker stopped dead: no handler of the job's runs, nothing is cleaned up."""


def test_what_a_worker_killed_in_the_last_attempt_left_is_removed_by_the_hourly_chore_and_not_before(
    monkeypatch, world_app_factory
):
    app, coordinator = world_app_factory(JOB_ATTEMPTS=1)
    _check, job_id = ask_import(app, coordinator, intake())
    before = counts(app)[:3]
    write = importing.import_rows
    calls: list[int] = []

    def killed_in_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Killed
        return write(*args, **kwargs)

    monkeypatch.setattr(importing, "import_rows", killed_in_the_third_batch)
    with pytest.raises(Killed):
        run(app, job_id)
    with app.app_context():
        importing.undo_abandoned_imports()  # the import is still running, as far as anyone knows: left alone
    assert job_of(app, job_id).status == JobStatus.RUNNING and pending(app) == (4, 1, 4)
    with app.extensions["database"].sessions.begin() as session:
        session.execute(sa.update(Job).where(Job.id == job_id).values(lease_until=utcnow()))
    run(app, job_id)  # sent again once its lease lapsed: its one attempt is spent, so it fails without running
    failed = job_of(app, job_id)
    assert failed.status == JobStatus.FAILED and "killed or lost" in failed.error
    assert pending(app) == (4, 1, 4) and seen(app) == (0, 0, 0)
    with app.app_context():
        importing.undo_abandoned_imports()
    assert pending(app) == (0, 0, 0) and counts(app)[:3] == before
    assert {kind: sorted(ids) for kind, ids in undone(app).items()} == created_by_the_import(app)
    assert audit_intact(app)


def test_an_import_confirmed_twice_and_delivered_twice_is_imported_once(app, signed_in, world):
    coordinator = signed_in("coordinator")
    check, job_id = ask_import(app, coordinator, intake())
    twice = confirm(coordinator, check)  # a second click while the import waits for the worker
    assert twice.status_code == 302 and twice.headers["Location"] == f"/jobs/{job_id}"
    assert [j.id for j in all_jobs(app) if j.kind == importing.APPLY] == [job_id]
    run(app, job_id)
    run(app, job_id)  # the queue hands the worker the same job again
    done = job_of(app, job_id)
    assert (done.status, done.attempts) == (JobStatus.DONE, 1) and seen(app) == (ROWS, 1, ROWS)
    assert len(events(app, "import")) == 1 and len(created_by_the_import(app)["accounts"]) == ROWS
    assert confirm(coordinator, check).status_code == 409  # done: the file is gone
    asked = coordinator.post(
        "/import",
        data={"csrf_token": csrf_token(coordinator, "/import"), "file": (io.BytesIO(intake()), "intake.csv")},
        content_type="multipart/form-data",
    )
    again = int(asked.headers["Location"].rsplit("/", 1)[1])
    run(app, again)
    assert f"{ROWS} rows are imported already" in coordinator.get(f"/jobs/{again}").get_data(as_text=True)


def test_an_import_taken_over_from_a_worker_presumed_dead_is_finished_by_the_new_one_alone(app, signed_in, world):
    coordinator = signed_in("coordinator")
    _check, job_id = ask_import(app, coordinator, intake())
    taken: list[bool] = []

    def take_over() -> None:
        """After the first batch the worker stalls past its lease; another takes the job over and finishes it."""
        if pending(app)[2] == 2 and not taken:
            taken.append(True)
            with app.extensions["database"].sessions.begin() as session:
                session.execute(sa.update(Job).where(Job.id == job_id).values(lease_until=utcnow()))
            run(app, job_id)

    with after_each_commit(app, take_over):
        run(app, job_id)  # the first worker carries on after the takeover: it must write nothing more

    done = job_of(app, job_id)
    assert taken and (done.status, done.attempts, done.done, done.total) == (JobStatus.DONE, 2, ROWS, ROWS)
    assert seen(app) == (ROWS, 1, ROWS) and pending(app) == (0, 0, 0)
    created = created_by_the_import(app)
    assert len(created["accounts"]) == len(set(created["accounts"])) == ROWS
    assert len(created["enrolments"]) == len(set(created["enrolments"])) == ROWS
    assert [json.loads(e.after)["attempt"] for e in events(app, "import.begin")] == [1, 2]
    assert len(events(app, "import")) == 1 and not events(app, "import.undo")
    assert audit_intact(app)


def test_a_worker_killed_mid_import_leaves_nothing_seen_and_the_next_finishes_it_once(make_app, database_url, tmp_path):
    """A real `assessor worker`, killed outright part-way through writing a file of 600 trainees."""
    app = make_app(JOB_QUEUE="")
    build_web_world(app)
    coordinator, assessor = app.test_client(), app.test_client()
    assert sign_in(coordinator, "coordinator").status_code == 302 and sign_in(assessor, "assessor").status_code == 302
    rows = 600
    settings = {
        "AUDIT_CHECKPOINT_DIR": app.config["AUDIT_CHECKPOINT_DIR"],
        "IMPORT_DIR": app.config["IMPORT_DIR"],
        "JOB_LEASE_SECONDS": "3",
    }
    asked = coordinator.post(
        "/import",
        data={"csrf_token": csrf_token(coordinator, "/import"), "file": (io.BytesIO(intake(rows, 3)), "big.csv")},
        content_type="multipart/form-data",
    )
    check = int(asked.headers["Location"].rsplit("/", 1)[1])
    with working(database_url, tmp_path / "worker", **settings) as worker:
        wait(app, check, lambda j: j.status == JobStatus.DONE)
        job_id = int(confirm(coordinator, check).headers["Location"].rsplit("/", 1)[1])
        running = wait(app, job_id, lambda j: j.status == JobStatus.RUNNING and j.done > 0)
        worker.stop(sig=signal.SIGKILL)
    assert running.done < running.total == rows  # killed part-way
    stopped = job_of(app, job_id)
    assert stopped.status == JobStatus.RUNNING and 0 < pending(app)[2] < rows
    assert seen(app) == (0, 0, 0)
    assert "Intake 2027" not in coordinator.get("/cohorts").get_data(as_text=True)
    assert "New Trainee" not in coordinator.get("/enrolments?q=new").get_data(as_text=True)
    assert assessor.get(f"/enrolments/{newest_enrolment(app)}").status_code == 404
    assert audit_intact(app)

    with working(database_url, tmp_path / "worker", **settings):
        done = wait(app, job_id, lambda j: j.status == JobStatus.DONE, seconds=240)
        (invite,) = [j for j in all_jobs(app) if j.kind == importing.INVITE]
        wait(app, invite.id, lambda j: j.status == JobStatus.DONE)
    assert done.attempts == 2 and done.result["trainees"] == rows
    assert seen(app) == (rows, 1, rows) and pending(app) == (0, 0, 0)
    created = created_by_the_import(app)
    assert len(created["accounts"]) == len(set(created["accounts"])) == rows
    assert len(created["enrolments"]) == len(set(created["enrolments"])) == rows
    assert len(events(app, "import")) == 1 and not events(app, "import.undo")
    assert invitations(app) == {"new.0000": 1, "new.0001": 1, "new.0002": 1}
    assert audit_intact(app)
    assert "Intake 2027" in coordinator.get("/cohorts").get_data(as_text=True)


def wait(app, job_id: int, until: Callable[[Job], bool], seconds: float = 120) -> Job:
    """The job once `until` holds of it (a wait, however long a busy machine takes, not a measure of speed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = job_of(app, job_id)
        if until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there: {job.status}, {job.done} of {job.total}, {job.error}")
