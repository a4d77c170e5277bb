"""Fixtures for tests through Flask's test client: a committed world of records and signed-in clients."""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import create_cohort, enrol
from assessor.domain.vocabulary import JobStatus, MailStatus, Outcome, PlanBasis, Role, Stage, Verdict
from assessor.evidence.operations import AttachmentInput, MappingInput, record_evidence
from assessor.models import Enrolment, Job, MailMessage, User, UserSession, utcnow
from assessor.observations.operations import Part, record_group_observation
from assessor.quality.operations import (
    DecisionInput,
    PlanInput,
    add_to_sample,
    confirm_sample,
    create_plan,
    decide,
)
from assessor.records.operations import Declaration, sign_off
from assessor.transfer.exporting import EXPORT, export_folder
from tests.records.factories import PASSWORD, TODAY, build_world, make_user, observation, satisfy_all

PERIOD = (datetime.date(2026, 1, 1), datetime.date(2027, 12, 31))  # holds TODAY and the clock's today
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass
class WebWorld:
    """Ids of records that belong to `trainee` (and one of `trainee2`), for URLs."""

    trainee_id: int
    trainee2_id: int
    completed_enrolment: int  # trainee's NZQA unit, signed off
    open_enrolment: int  # trainee's CSCOFM023, in progress
    other_enrolment: int  # trainee2's NZQA unit
    open_evidence: int
    other_evidence: int
    attachment: int
    record: int
    code: str
    cohort: int  # trainee's cohort, run by `coordinator`
    other_cohort: int  # trainee2's cohort, run by no coordinator
    other_attachment: int  # of other_evidence
    job: int  # an export asked for by `coordinator`
    other_job: int  # an export asked for by `admin`
    message: int  # an e-mail to `trainee`, in the outbox
    session: int  # a browser where `trainee` is signed in
    other_session: int  # one of `trainee2`'s
    plan: int  # `qa`'s summative plan, confirmed, sampling trainee's signed-off unit
    other_plan: int  # `qa`'s interim plan, proposed, sampling trainee2's unit
    review: int  # trainee's signed-off unit under review, an action asked of `assessor`
    other_review: int  # trainee2's unit, proposed
    decision: int  # the action asked of `assessor`
    group: int = 0  # a group observation with trainee's part (made by the tests that need one)
    other_group: int = 0  # one with trainee2's part only


def stored_attachment(upload_dir: Path, name: str = "notes.pdf", data: bytes = PDF) -> AttachmentInput:
    upload_dir.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    (upload_dir / stored_name).write_bytes(data)
    return AttachmentInput(name, len(data), "application/pdf", hashlib.sha256(data).hexdigest(), stored_name)


@pytest.fixture
def world(app) -> WebWorld:
    return build_web_world(app)


def finished_export(app, session, owner: User, kind: str) -> int:
    """A finished export of `owner`'s, as the worker leaves it (writing a real one for every test world would cost
    every web test a workbook; the export tests write real ones)."""
    job = Job(kind=EXPORT, params={"kind": kind}, owner_id=owner.id, status=JobStatus.DONE, finished_at=utcnow())
    session.add(job)
    session.flush()
    expires = (utcnow() + datetime.timedelta(days=1)).isoformat()
    job.result = {"file": f"{job.id}.xlsx", "name": f"{kind}.xlsx", "rows": 0, "expires": expires}
    with app.app_context():
        (export_folder() / f"{job.id}.xlsx").write_bytes(b"PK")
    return job.id


def build_web_world(app) -> WebWorld:
    """Records of every kind, committed: a signed-off enrolment, open ones in two cohorts, and evidence about each
    trainee, the first with two attachments and the second with one."""
    upload_dir = Path(app.config["UPLOAD_DIR"])
    with app.extensions["database"].sessions.begin() as session:
        w = build_world(session, app.extensions["catalogue"])
        other_cohort = create_cohort(session, w.admin, "Intake B", [])
        other = enrol(session, w.admin, w.trainee2, w.nz, [w.assessor], datetime.date(2026, 8, 1), other_cohort)
        satisfy_all(session, w, w.nz_enrolment)
        record = sign_off(session, w.assessor, w.nz_enrolment, Declaration(True, True, True, True), TODAY)
        open_evidence = record_evidence(
            session,
            w.assessor,
            w.trainee,
            observation("Interviewed a client about housing."),
            [MappingInput(w.csc_enrolment.id, "1.1", Verdict.SATISFIED)],
            [stored_attachment(upload_dir), stored_attachment(upload_dir, "more.pdf", PDF + b"% second\n")],
            today=TODAY,
        )
        other_evidence = record_evidence(
            session,
            w.assessor,
            w.trainee2,
            observation("Second trainee's observation."),
            [MappingInput(other.id, "1.1", Verdict.SATISFIED)],
            [stored_attachment(upload_dir, "third.pdf", PDF + b"% third\n")],
            today=TODAY,
        )
        qa = make_user(session, "qa", Role.QUALITY_ASSURER, "Quinn Assurer")
        plan = create_plan(session, qa, PlanInput("Summative", PlanBasis.ASSESSOR_RATE, Stage.SUMMATIVE, *PERIOD))
        review = add_to_sample(session, qa, plan, w.nz_enrolment.id)
        confirm_sample(session, qa, plan)
        asked = DecisionInput(Outcome.ACT, "1.1", None, "Say what the client asked.", TODAY + datetime.timedelta(7))
        decision = decide(session, qa, review, asked, TODAY)
        other_plan = create_plan(session, qa, PlanInput("Interim", PlanBasis.ASSESSOR_RATE, Stage.INTERIM, *PERIOD))
        other_review = add_to_sample(session, qa, other_plan, other.id)
        return WebWorld(
            w.trainee.id,
            w.trainee2.id,
            w.nz_enrolment.id,
            w.csc_enrolment.id,
            other.id,
            open_evidence.id,
            other_evidence.id,
            open_evidence.attachments[0].id,
            record.id,
            record.verification_code,
            w.nz_enrolment.cohort_id,
            other_cohort.id,
            other_evidence.attachments[0].id,
            finished_export(app, session, w.coordinator, "progress"),
            finished_export(app, session, w.admin, "completions"),
            outbox_message(session, w.trainee),
            signed_in_browser(session, w.trainee),
            signed_in_browser(session, w.trainee2),
            plan.id,
            other_plan.id,
            review.id,
            other_review.id,
            decision.id,
        )


def with_group_observations(app, world: WebWorld) -> WebWorld:
    """The world with a group observation of trainee's and one of trainee2's, for the tests that walk every route."""
    with app.extensions["database"].sessions.begin() as session:
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        ids = []
        for n, enrolment_id in enumerate((world.open_enrolment, world.other_enrolment)):
            enrolment = session.get_one(Enrolment, enrolment_id)
            part = Part(enrolment, {"1.2": Verdict.SATISFIED})
            group = record_group_observation(
                session, assessor, enrolment.unit_version, "Role play", observation(), [part], str(n) * 32
            )
            ids.append(group.id)
    world.group, world.other_group = ids
    return world


def signed_in_browser(session, user: User) -> int:
    """A row of a browser signed in to `user`, as signing in leaves one."""
    row = UserSession(user_id=user.id, token=user.session_token, user_agent="Mozilla/5.0 (X11; Linux x86_64)")
    session.add(row)
    session.flush()
    return row.id


def outbox_message(session, to: User) -> int:
    """An e-mail waiting in the outbox, as one is left where no SMTP server is set."""
    message = MailMessage(
        to_user_id=to.id,
        to_address=f"{to.username}@example.org",
        purpose="invitation",
        subject="Your Assessor account: set your password",
        text_body="Hello.",
        html_body="<p>Hello.</p>",
        status=MailStatus.IN_OUTBOX,
    )
    session.add(message)
    session.flush()
    return message.id


def csrf_token(client, path: str = "/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_evidence(client, world: WebWorld, narrative: str, **fields: str | list[str]):
    """Record an observation of the world's trainee today through the evidence form, with `fields` (the judgements,
    as `v-ENROLMENT-TARGET`, and anything else); the response."""
    url = f"/trainees/{world.trainee_id}/evidence/new"
    data = {
        "csrf_token": csrf_token(client, url),
        "observed_on": TODAY.isoformat(),
        "method": "direct_observation",
        "context": "workplace",
        "narrative": narrative,
        **fields,
    }
    return client.post(url, data=data)


def sign_in(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/sign-in", data={"csrf_token": token, "username": username, "password": password})


@pytest.fixture
def signed_in(app, world):
    """A factory of test clients, each signed in as the named user."""

    def make(username: str):
        client = app.test_client()
        response = sign_in(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make
