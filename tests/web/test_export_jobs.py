"""Exports as jobs: asked for with a POST, written by the worker with progress, kept for whoever asked alone, gone
when they expire; wrong requests change nothing; and a worker killed mid-export leaves one file, audited once."""

from __future__ import annotations

import datetime
import io
import signal
import time

import openpyxl
import pytest
import sqlalchemy as sa

from assessor.demo.generate import generate
from assessor.demo.sample import create_demo
from assessor.domain.vocabulary import JobStatus
from assessor.models import AuditEvent, Job, utcnow
from assessor.standards.operations import register_units
from assessor.transfer.exporting import export_folder, remove_expired_exports
from tests.records.factories import PASSWORD, build_cohort, build_world
from tests.server import working
from tests.web.conftest import sign_in
from tests.web.test_exports_download import export


@pytest.fixture
def cohort(app) -> int:
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        return build_cohort(session, world, 6)[0].cohort_id


def signed_in_as(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    assert sign_in(client, username, password).status_code == 302
    return client


def only_job(app) -> Job:
    with app.extensions["database"].read_sessions() as session:
        return session.scalars(sa.select(Job)).one()


def test_an_export_reports_its_progress_and_is_for_whoever_asked_alone(app, cohort):
    coordinator = signed_in_as(app, "coordinator")
    asked = export(coordinator, "progress", cohort=cohort)
    job = only_job(app)
    assert asked.headers["Location"] == f"/jobs/{job.id}"
    assert (job.status, job.done, job.total, job.result["rows"]) == (JobStatus.DONE, 6, 6, 6)
    page = coordinator.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "6 rows written" in page and f'href="/exports/{job.id}/file"' in page
    assert "Progress summary" in coordinator.get("/exports").get_data(as_text=True)  # among their recent exports

    admin = signed_in_as(app, "admin")
    assert "Download" not in admin.get(f"/jobs/{job.id}").get_data(as_text=True)  # sees the job, not the file
    assert fetched(admin, f"/exports/{job.id}/file") == 404
    assert "Progress summary" not in admin.get("/exports").get_data(as_text=True)
    assert fetched(coordinator, f"/exports/{job.id}/file") == 200


def fetched(client, url: str) -> int:
    """The status of a download, its file closed."""
    response = client.get(url)
    response.close()
    return response.status_code


@pytest.mark.parametrize(
    ("filters", "said"),
    [
        ({"start": "2026-13-01"}, "Give the date as year-month-day"),
        ({"start": "2026-11-30", "end": "2026-11-01"}, "The end of the period cannot be before its start."),
    ],
)
def test_a_wrong_request_says_why_and_queues_nothing(app, cohort, filters, said):
    coordinator = signed_in_as(app, "coordinator")
    refused = export(coordinator, "evidence", cohort=cohort, **filters)
    assert refused.status_code == 400 and said in refused.get_data(as_text=True)
    assert export(coordinator, "everything", cohort=cohort).status_code == 404
    with app.extensions["database"].read_sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_an_expired_export_is_gone_in_words_and_its_file_removed(app, cohort):
    coordinator = signed_in_as(app, "coordinator")
    kept_id, expired_id = (
        int(export(coordinator, kind, cohort=cohort).headers["Location"].rsplit("/", 1)[1])
        for kind in ("progress", "matrix")
    )
    a_day_ago = utcnow() - datetime.timedelta(hours=25)
    with app.extensions["database"].sessions.begin() as session:  # as if a day went by
        job = session.get_one(Job, expired_id)
        job.finished_at = a_day_ago
        job.result = {**job.result, "expires": (a_day_ago + datetime.timedelta(hours=24)).isoformat()}
    gone = coordinator.get(f"/exports/{expired_id}/file")
    assert gone.status_code == 410 and "This export is no longer kept. Ask for it again." in gone.get_data(as_text=True)
    with app.app_context():
        folder = export_folder()
        (folder / "99.xlsx.part").write_bytes(b"left by a worker that stopped")
        remove_expired_exports()
        assert sorted(p.name for p in folder.iterdir()) == [f"{kept_id}.xlsx"]
    assert fetched(coordinator, f"/exports/{kept_id}/file") == 200


def test_a_worker_killed_mid_export_leaves_one_file_audited_once(make_app, database_url, tmp_path):
    app = make_app(JOB_QUEUE="")
    database = app.extensions["database"]
    with database.sessions.begin() as session:
        register_units(session, app.extensions["catalogue"])
        create_demo(session, "demo password 1")
    generate(database.sessions, 250, "demo password 1", seed=3)
    admin = signed_in_as(app, "admin", "demo password 1")  # every cohort: about 5,000 pieces of evidence
    asked = export(admin, "evidence")
    job_id = int(asked.headers["Location"].rsplit("/", 1)[1])
    settings = {
        "AUDIT_CHECKPOINT_DIR": app.config["AUDIT_CHECKPOINT_DIR"],
        "EXPORT_DIR": str(export_folder_of(app)),
        "JOB_LEASE_SECONDS": "3",
    }
    with working(database_url, tmp_path / "worker", **settings) as worker:
        job = wait(app, job_id, lambda j: j.status == JobStatus.RUNNING and j.done > 0)
        assert job.done < job.total  # killed half-way
        worker.stop(sig=signal.SIGKILL)
    assert only_job(app).status == JobStatus.RUNNING
    with working(database_url, tmp_path / "worker", **settings):
        done = wait(app, job_id, lambda j: j.status == JobStatus.DONE, seconds=120)
    assert done.attempts == 2 and done.done == done.total == done.result["rows"] > 4000
    with database.read_sessions() as session:
        made = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.make")).all()
    assert [e.entity_id for e in made] == [str(job_id)]
    files = sorted(p.name for p in export_folder_of(app).iterdir())
    assert files == [f"{job_id}.xlsx"]
    response = admin.get(f"/exports/{job_id}/file")
    data = response.get_data()
    response.close()
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    assert sum(1 for _ in book["Evidence register"].iter_rows()) == done.result["rows"] + 1
    book.close()


def export_folder_of(app):
    with app.app_context():
        return export_folder()


def wait(app, job_id: int, until, seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.extensions["database"].read_sessions() as session:
            job = session.get_one(Job, job_id)
        if until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there: {job.status}, {job.done} of {job.total}, {job.error}")
