"""An import of 1,000 new trainees through the web completes while assessors record evidence, without a lock error:
a real server, a real worker, real HTTP, on SQLite or PostgreSQL."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid

import sqlalchemy as sa

from assessor.domain.vocabulary import JobStatus
from assessor.models import AuditEvent, Enrolment, Job, User
from tests.records.factories import PASSWORD
from tests.scale.conftest import Seeded
from tests.scale.test_writers import (
    TRANSPORT_ERRORS,
    Ack,
    Unexpected,
    Writer,
    assert_audit_verifies,
    assert_clean_log,
    assert_kept,
    form_fields,
)
from tests.server import app_on, running, working

TRAINEES = 1000
ASSESSORS = 3  # clients recording evidence at once


class Assessor(Writer):
    """A writer that only records new evidence, and notes how long each save took to be answered."""

    waits: list[float]

    def post(self, path: str, form: dict[str, str], ack: Ack) -> None:
        began = time.monotonic()
        super().post(path, form, ack)
        self.waits.append(time.monotonic() - began)

    def record_until(self, stop: threading.Event) -> None:
        """Sign in, then record evidence until told to stop."""
        self.waits = []
        try:
            self.sign_in()
            while not stop.is_set():
                try:
                    self.record()
                except Unexpected as exc:
                    self.unexpected.append(str(exc))
        except TRANSPORT_ERRORS as exc:
            self.transport_error = exc
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread, which raises it
            self.error = exc


class Coordinator(Writer):
    """A browser-like client signed in as the coordinator, uploading a file and following its jobs."""

    def sign_in(self) -> None:
        fields = self.form("/sign-in", "/sign-in")
        reply = self.request("/sign-in", {**fields, "username": "coordinator", "password": PASSWORD})
        if reply.status != 302:
            raise Unexpected(f"sign-in: {reply.status} {reply.body[:1000]}")

    def upload(self, name: str, data: bytes) -> str:
        """Post the file as the import form would (multipart); the job page it is sent to."""
        fields = self.form("/import", "/import")
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            self.base_url + "/import", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                status, location = response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            with error:
                status, location = error.code, error.headers.get("Location", "")
        if status != 302 or "/jobs/" not in location:
            raise Unexpected(f"upload: {status} {location}")
        return "/jobs/" + location.rsplit("/jobs/", 1)[1]

    def wait_for(self, path: str, *words: str, seconds: float = 600) -> tuple[str, list[str]]:
        """The page at `path` once it shows one of `words` (a wait for a busy machine, not a measure of speed), and the
        pages it showed before."""
        deadline = time.monotonic() + seconds
        before: list[str] = []
        while time.monotonic() < deadline:
            reply = self.request(path)
            if reply.status != 200:
                raise Unexpected(f"GET {path}: {reply.status} {reply.body[:1000]}")
            if any(w in reply.body for w in words):
                return reply.body, before
            before.append(reply.body)
            time.sleep(0.5)
        raise AssertionError(f"{path} never showed any of {words}")


def intake() -> bytes:
    header = "username,name,email,cohort,unit,version,start_date,assessors\n"
    rows = "".join(
        f"intake.{n:04d},Intake Trainee {n},,Intake 2027,us_case_mgmt,1,2026-09-01,assessor\n" for n in range(TRAINEES)
    )
    return (header + rows).encode()


def test_an_import_of_a_thousand_trainees_completes_while_assessors_record_evidence(seeded: Seeded):
    assessors: list[Assessor] = []
    with running(seeded.url, seeded.instance, workers=2) as server, working(seeded.url, seeded.instance):
        coordinator = Coordinator(server.url, seeded, 100)
        coordinator.sign_in()
        check = coordinator.upload("intake.csv", intake())
        preview, _ = coordinator.wait_for(check, "Importing it will create", "Nothing was imported")
        assert f"Importing it will create {TRAINEES} trainees" in preview, preview[-3000:]

        stop = threading.Event()
        assessors = [Assessor(server.url, seeded, n) for n in range(ASSESSORS)]
        threads = [
            threading.Thread(target=a.record_until, args=(stop,), name=f"assessor-{a.number}") for a in assessors
        ]
        for thread in threads:
            thread.start()
        try:
            confirmed = coordinator.request("/import/confirm", form_fields(preview, "/import/confirm"))
            assert confirmed.status == 302 and "/jobs/" in confirmed.location, confirmed.body[:2000]
            applying = "/jobs/" + confirmed.location.rsplit("/jobs/", 1)[1]
            done, progress = coordinator.wait_for(applying, "Imported:", "Nothing was imported", "Every attempt failed")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
                assert not thread.is_alive(), f"{thread.name} did not finish"
    assert f"Imported: {TRAINEES} new trainees, {TRAINEES} new enrolments, 1 new cohorts." in done, done[-3000:]
    assert any(f'<progress max="{TRAINEES}"' in page and f"of {TRAINEES:,}" in page for page in progress)

    for a in assessors:
        if a.error is not None:
            raise a.error
        if a.transport_error is not None:
            raise a.transport_error
    unexpected = [u for a in assessors for u in a.unexpected]
    assert not unexpected, f"{len(unexpected)} evidence saves failed, the first: {unexpected[0]}"
    acks = [ack for a in assessors for ack in a.acks]
    assert acks and all(ack.kind == "record" for ack in acks)
    assert_kept(seeded, acks, all_answered=True)  # each save answered as saved is stored, with its audit event

    app = app_on(seeded.url, seeded.instance)
    try:
        with app.extensions["database"].read_sessions() as session:
            begun, finished = session.scalars(
                sa.select(AuditEvent.seq)
                .where(AuditEvent.action.in_(["import.begin", "import"]))
                .order_by(AuditEvent.seq)
            ).all()
            # Evidence saved while the import was being written: its events fall between the import's own.
            during = session.scalar(
                sa.select(sa.func.count()).where(
                    AuditEvent.action == "evidence.record", AuditEvent.seq > begun, AuditEvent.seq < finished
                )
            )
            imported = session.scalar(
                sa.select(sa.func.count())
                .select_from(Enrolment)
                .join(User, User.id == Enrolment.trainee_id)
                .where(User.username.like("intake.%"))
            )
            job = session.scalars(sa.select(Job).where(Job.kind == "import.apply")).one()
    finally:
        app.extensions["database"].dispose()
    assert imported == TRAINEES and job.status == JobStatus.DONE and job.attempts == 1
    assert during >= ASSESSORS, f"only {during} pieces of evidence were saved while the import was written"
    assert_audit_verifies(seeded)
    assert_clean_log(seeded)
    worker_log = (seeded.instance / "worker.log").read_text()
    for bad in ("database is locked", "Traceback"):
        assert bad not in worker_log, f"{bad!r} in the worker's log:\n{worker_log[-6000:]}"
    written = [line for line in worker_log.splitlines() if "rows written in" in line]
    waits = sorted(w for a in assessors for w in a.waits)
    print(
        f"{len(acks)} pieces of evidence saved, {during} of them while the import was written; "
        f"longest save {waits[-1]:.2f} s, median {waits[len(waits) // 2]:.2f} s; worker: {written[-1].split(' INFO ')[-1]}"
    )
