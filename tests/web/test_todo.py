"""To-do lists on each person's home page, and the daily e-mail of them through a real SMTP server."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import enrol
from assessor.domain.vocabulary import Role
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.models import Enrolment, EnrolmentProgress, User
from assessor.todo import queries
from assessor.todo.digest import send_digests
from assessor.todo.queries import SHOWN, to_do
from tests.mailbox import mail_settings, smtp_server
from tests.records.factories import build_cohort, build_world, make_user, observation, satisfy_all
from tests.web.conftest import csrf_token, sign_in
from tests.web.test_scale_queries import counting


@pytest.fixture
def mailbox():
    with smtp_server() as box:
        yield box


def home(client) -> str:
    return client.get("/enrolments").get_data(as_text=True)


def users(session) -> dict[str, User]:
    return {u.username: u for u in session.scalars(sa.select(User))}


def test_a_trainee_sees_the_observations_waiting_for_acknowledgement_until_acknowledged(app, signed_in, world):
    client = signed_in("trainee")
    page = home(client)
    assert '<h2 id="todo-heading">To do</h2>' in page and "for you to acknowledge" in page
    assert f'href="/evidence/{world.open_evidence}"' in page
    token = csrf_token(client, f"/evidence/{world.open_evidence}")
    assert client.post(f"/evidence/{world.open_evidence}/acknowledge", data={"csrf_token": token}).status_code == 302
    assert f'href="/evidence/{world.open_evidence}"' not in home(client).split("</section>")[0]


def test_an_assessor_sees_submissions_to_judge_and_units_ready_to_sign_off(app, signed_in, world):
    assessor = signed_in("assessor")
    assert "submission" not in home(assessor)
    with app.extensions["database"].sessions.begin() as session:
        people = users(session)
        submitted = record_evidence(
            session,
            people["trainee"],
            people["trainee"],
            observation("My own account of the client interview."),
            [MappingInput(world.open_enrolment, "1.2", None)],
        )
    page = home(assessor)
    assert "1 submission from trainees waits for your judgement" in page
    assert f'href="/evidence/{submitted.id}"' in page
    assert "ready for you to sign off" not in page
    assert "submission" not in home(signed_in("assessor2"))  # not theirs to judge

    with app.extensions["database"].sessions.begin() as session:
        enrolment = session.get_one(Enrolment, world.open_enrolment)
        satisfy_all(session, SimpleNamespace(assessor=users(session)["assessor"]), enrolment)
    page = home(assessor)
    assert "1 unit ready for you to sign off" in page
    assert f'href="/enrolments/{world.open_enrolment}/sign-off"' in page


def test_a_coordinator_sees_stale_enrolments_and_accounts_without_a_password(make_app, world):
    app = make_app(STALE_AFTER_DAYS=5)  # the world's latest evidence is from 23 November
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    page = home(coordinator)
    assert "1 enrolment without new evidence for 5 days or more" in page
    assert f'href="/enrolments/{world.open_enrolment}"' in page.split("</section>")[0]
    assert "no password yet" not in page
    token = csrf_token(coordinator, "/people/new")
    coordinator.post(
        "/people/new", data={"csrf_token": token, "username": "aroha", "display_name": "Aroha", "role": "trainee"}
    )
    assert "1 account has no password yet" in home(coordinator)
    assessor2 = app.test_client()
    sign_in(assessor2, "assessor2")
    assert "todo-heading" not in home(assessor2)


def test_the_daily_email_lists_what_waits_once_a_day_for_those_who_want_it(make_app, world, mailbox):
    app = make_app(**mail_settings(mailbox.port), DIGEST_HOUR=0, STALE_AFTER_DAYS=5)
    with app.extensions["database"].sessions.begin() as session:
        for name in ("trainee", "trainee2", "assessor", "assessor2", "coordinator"):
            users(session)[name].email = f"{name}@example.org"
    client = app.test_client()
    sign_in(client, "trainee2")
    off = client.post("/account/digest", data={"csrf_token": csrf_token(client, "/account"), "digest": "0"})
    assert off.status_code == 302
    assert 'name="digest"' in client.get("/account").get_data(as_text=True)

    with app.app_context():
        send_digests()
        send_digests()  # again the same day: nothing more
    received = {m["To"]: m for m in mailbox.wait_for(3)}
    # assessor2: nothing waits; assessor: the action the quality assurer asked of them
    assert set(received) == {"trainee@example.org", "coordinator@example.org", "assessor@example.org"}
    action = received["assessor@example.org"].get_body(("plain",)).get_content()
    assert "1 action asked of you by a quality assurer" in action
    assert f"https://assessor.example/enrolments/{world.completed_enrolment}" in action
    text = received["trainee@example.org"].get_body(("plain",)).get_content()
    assert "observation" in text and "to acknowledge" in text
    assert f"https://assessor.example/evidence/{world.open_evidence}" in text
    assert "Turn the daily e-mail off" in text
    assert "without new evidence" in received["coordinator@example.org"].get_body(("plain",)).get_content()
    with app.extensions["database"].sessions() as session:
        people = users(session)
        assert people["trainee"].digest_sent_on == datetime.datetime.now(datetime.UTC).date()
        assert people["trainee2"].digest_sent_on is None and not people["trainee2"].digest


def test_a_longer_list_costs_no_more_statements(make_app):
    app = make_app()
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        build_cohort(session, world, 2, "Small intake")

    def statements() -> int:
        """What reading the coordinator's list and everything the page and the e-mail show of it costs."""
        with app.extensions["database"].sessions() as session, counting(app.extensions["database"].engine) as count:
            coordinator = session.scalars(sa.select(User).where(User.username == "coordinator")).one()
            count[0] = 0
            waiting = to_do(session, coordinator, datetime.date(2030, 1, 1), 30)
            assert waiting.stale.count >= 2
            shown = [(e.trainee.display_name, e.unit_version.title) for e in waiting.stale.items]
            assert len(shown) == min(waiting.stale.count, SHOWN)
        return count[0]

    before = statements()
    with app.extensions["database"].sessions.begin() as session:
        again = SimpleNamespace(
            **{name: session.merge(getattr(world, name)) for name in ("coordinator", "assessor", "nz")}
        )
        build_cohort(session, again, 6, "Big intake")
    assert statements() == before  # six more trainees listed, each with their name and unit


def test_the_stale_list_shows_the_longest_without_evidence_first_and_counts_only_so_far(make_app, monkeypatch):
    app = make_app(STALE_AFTER_DAYS=30)
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        build_cohort(session, world, 3, "Small intake")
        newcomer = make_user(session, "newcomer", Role.TRAINEE, "Nobody Yet")  # no evidence at all: shown first
        started = datetime.date(2026, 8, 1)
        enrol(session, world.coordinator, newcomer, world.nz, [world.assessor], started, world.nz_enrolment.cohort)
    with app.extensions["database"].sessions() as session:
        coordinator = session.scalars(sa.select(User).where(User.username == "coordinator")).one()
        waiting = to_do(session, coordinator, datetime.date(2030, 1, 1), 30)
        last = {e.id: session.get_one(EnrolmentProgress, e.id).last_evidence for e in waiting.stale.items}
    dated = [d for d in last.values() if d is not None]
    assert list(last.values())[0] is None and dated == sorted(dated) and len(dated) >= 3
    assert waiting.stale.said == str(waiting.stale.count) == str(len(last))

    monkeypatch.setattr(queries, "COUNTED_TO", 2)
    with app.extensions["database"].sessions() as session:
        coordinator = session.scalars(sa.select(User).where(User.username == "coordinator")).one()
        capped = to_do(session, coordinator, datetime.date(2030, 1, 1), 30).stale
    assert capped.count == 3 and capped.said == "More than 2" and len(capped.items) == min(len(last), SHOWN)
    assert [e.id for e in capped.items] == list(last)[:SHOWN]  # many: walked in the same order
    coordinator_client = app.test_client()
    sign_in(coordinator_client, "coordinator")
    assert "More than 2 enrolments without new evidence for 30 days or more" in home(coordinator_client)
