"""The life of an account, end to end through the HTTP client, with e-mail received by a real SMTP server:
invitations by e-mail or printed code, password reset, password change, an administrator's changes, the outbox."""

from __future__ import annotations

import datetime
import json
import re
import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from assessor.accounts import sessions as auth
from assessor.accounts import views as account_views
from assessor.accounts.views import RESET_ASKED, WRONG_CODE
from assessor.core import passwords
from assessor.domain.vocabulary import JobStatus, MailStatus, Role, TokenPurpose
from assessor.models import AccountToken, AuditEvent, Job, MailMessage, User
from tests.mailbox import USERNAME, link_in, mail_settings, smtp_server
from tests.records.factories import PASSWORD
from tests.web.conftest import csrf_token, sign_in
from tests.web.test_import import GOOD_CSV, confirm, upload

NEW_PASSWORD = "kōwhai ridge at morning tide"


@pytest.fixture
def mailbox():
    with smtp_server() as box:
        yield box


@pytest.fixture
def app(make_app, mailbox):
    """The app, sending e-mail through the test's SMTP server."""
    return make_app(**mail_settings(mailbox.port))


def create_person(client, **fields):
    data = {"csrf_token": csrf_token(client, "/people/new"), "role": "trainee", "email": "", **fields}
    return client.post("/people/new", data=data)


def set_password(client, path: str, password: str, again: str | None = None):
    data = {"csrf_token": csrf_token(client, "/sign-in"), "password": password, "again": again or password}
    return client.post(path, data=data)


def give_email(app, username: str, address: str) -> None:
    with app.extensions["database"].sessions.begin() as session:
        session.scalars(sa.select(User).where(User.username == username)).one().email = address


def actions(app, user: str) -> list[tuple[str, dict | None]]:
    with app.extensions["database"].sessions() as session:
        user_id = session.scalars(sa.select(User.id).where(User.username == user)).one()
        return [
            (e.action, json.loads(e.after) if e.after else None)
            for e in session.scalars(
                sa.select(AuditEvent).where(AuditEvent.entity_type == "user", AuditEvent.entity_id == str(user_id))
            )
        ]


# --- invitations ------------------------------------------------------------------------------------------------------


def test_a_new_trainee_is_invited_by_email_and_the_link_sets_a_password_once(app, signed_in, world, mailbox):
    coordinator = signed_in("coordinator")
    made = create_person(coordinator, username="Mere", display_name="Mere Tūhoe", email="mere@example.org")
    assert made.status_code == 302
    assert "an invitation to set a password is on its way" in coordinator.get(made.location).get_data(as_text=True)

    [message] = mailbox.wait_for(1)
    assert mailbox.recipients == [["mere@example.org"]] and mailbox.logins == [USERNAME]
    assert message["Subject"] == "Your Assessor account: set your password"
    assert message["From"] == "Assessor <records@assessor.example>"
    assert re.fullmatch(r"<assessor\.mail\.\d+\.\d+@assessor\.example>", message["Message-ID"])
    link = link_in(message)
    assert link.startswith("https://assessor.example/welcome/")  # from BASE_URL, never from the request's Host
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Mere Tūhoe" in text and "Your username is: mere" in text
    assert f'href="{link}"' in html and "<strong>mere</strong>" in html

    path = urlsplit(link).path
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Welcome, Mere Tūhoe" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"

    weak = set_password(visitor, path, "mere tuhoe 2026")
    assert weak.status_code == 400 and passwords.BECAUSE["user_inputs"] in weak.get_data(as_text=True)
    differ = set_password(visitor, path, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert differ.status_code == 400 and "The two passwords differ." in differ.get_data(as_text=True)

    done = set_password(visitor, path, NEW_PASSWORD)
    assert done.status_code == 302 and done.location == "/sign-in"
    assert sign_in(app.test_client(), "mere", NEW_PASSWORD).status_code == 302

    # Used once: the link is dead, to a GET and a POST alike, and nothing changes.
    assert app.test_client().get(path).status_code == 410
    assert set_password(app.test_client(), path, "another good passphrase here").status_code == 410
    assert sign_in(app.test_client(), "mere", NEW_PASSWORD).status_code == 302

    with app.extensions["database"].sessions() as session:
        kept = session.scalars(sa.select(MailMessage).where(MailMessage.to_address == "mere@example.org")).one()
        assert kept.status == MailStatus.SENT and kept.text_body is None and kept.html_body is None
    assert [a for a, _ in actions(app, "mere")] == ["user.create", "user.invite", "user.password"]
    assert actions(app, "mere")[-1][1] == {"how": "invitation"}


def test_an_expired_or_replaced_invitation_is_refused(app, signed_in, world, mailbox):
    coordinator = signed_in("coordinator")
    create_person(coordinator, username="hemi", display_name="Hemi Ngāti", email="hemi@example.org")
    first = urlsplit(link_in(mailbox.wait_for(1)[0])).path

    # "Send again" from the list of accounts waiting for a password: a new link, and the old one dies.
    listed = coordinator.get("/accounts/invitations").get_data(as_text=True)
    assert "Hemi Ngāti" in listed and "E-mailed" in listed
    user_id = re.search(r'action="/accounts/(\d+)/invite"', listed).group(1)
    again = coordinator.post(f"/accounts/{user_id}/invite", data={"csrf_token": csrf_token(coordinator, "/account")})
    assert again.status_code == 302
    second = urlsplit(link_in(mailbox.wait_for(2)[1])).path
    assert second != first
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200

    with app.extensions["database"].sessions.begin() as session:
        token = session.scalars(sa.select(AccountToken).where(AccountToken.used_at.is_(None))).one()
        assert token.expires_at - token.created_at == datetime.timedelta(days=14)
        token.expires_at = token.created_at - datetime.timedelta(seconds=1)
    expired = app.test_client().get(second)
    assert expired.status_code == 410 and "This link no longer works" in expired.get_data(as_text=True)
    assert set_password(app.test_client(), second, NEW_PASSWORD).status_code == 410
    assert "Expired" in coordinator.get("/accounts/invitations").get_data(as_text=True)


def test_a_trainee_without_email_sets_a_password_with_a_printed_code(app, signed_in, world, mailbox):
    coordinator = signed_in("coordinator")
    slip = create_person(coordinator, username="aroha", display_name="Aroha Pene")
    assert slip.status_code == 200 and slip.headers["Cache-Control"] == "no-store"
    page = slip.get_data(as_text=True)
    code = re.search(r'<strong class="code">([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})</strong>', page).group(1)
    assert "https://assessor.example/welcome" in page and "aroha" in page

    visitor = app.test_client()

    def with_code(typed: str, password: str = NEW_PASSWORD):
        data = {
            "csrf_token": csrf_token(visitor, "/welcome"),
            "username": "Aroha",
            "code": typed,
            "password": password,
            "again": password,
        }
        return visitor.post("/welcome", data=data)

    wrong = with_code("2222-2222-2222")
    assert wrong.status_code == 400 and WRONG_CODE in wrong.get_data(as_text=True)
    weak = with_code(code, "123456789012")
    assert weak.status_code == 400 and "too easy to guess" in weak.get_data(as_text=True)
    done = with_code(code.lower().replace("-", " "))  # typed as it comes
    assert done.status_code == 302
    assert sign_in(app.test_client(), "aroha", NEW_PASSWORD).status_code == 302
    reused = with_code(code, "yet another good passphrase")
    assert reused.status_code == 400 and WRONG_CODE in reused.get_data(as_text=True)
    assert sign_in(app.test_client(), "aroha", NEW_PASSWORD).status_code == 302
    assert mailbox.messages == []
    trail = actions(app, "aroha")
    assert [action for action, _ in trail] == ["user.create", "user.invite", "user.password"]
    assert trail[1][1]["how"] == "printed code"
    assert trail[-1][1] == {"how": "invitation (printed code)"}


def test_wrong_codes_are_throttled_like_sign_in(app, signed_in, world):
    coordinator = signed_in("coordinator")
    page = create_person(coordinator, username="aroha", display_name="Aroha Pene").get_data(as_text=True)
    code = re.search(r'<strong class="code">([2-9A-Z-]{14})</strong>', page).group(1)
    visitor = app.test_client()
    data = {"username": "aroha", "password": NEW_PASSWORD, "again": NEW_PASSWORD}
    for _ in range(auth.FREE_FAILURES):
        assert (
            visitor.post(
                "/welcome", data={**data, "csrf_token": csrf_token(visitor), "code": "2222-3333-4444"}
            ).status_code
            == 400
        )
    held = visitor.post("/welcome", data={**data, "csrf_token": csrf_token(visitor), "code": code})
    assert held.status_code == 429 and auth.TOO_MANY in held.get_data(as_text=True)
    with app.extensions["database"].sessions() as session:
        assert (
            session.scalars(sa.select(User.password_hash).where(User.username == "aroha")).one() == passwords.UNUSABLE
        )


def test_imported_trainees_with_email_are_invited(app, signed_in, world, mailbox):
    client = signed_in("coordinator")
    confirm(client, upload(client, "trainees.csv", GOOD_CSV.encode()).get_data(as_text=True))
    [message] = mailbox.wait_for(1)  # mere has an address; hemi has none, and waits for a printed code
    assert message["To"] == "mere@example.org" and "Mere Tūhoe" in message.get_body(("plain",)).get_content()
    listed = client.get("/accounts/invitations").get_data(as_text=True)
    assert "Hemi Ngāti" in listed and "Not invited yet" in listed
    visitor = app.test_client()
    assert set_password(visitor, urlsplit(link_in(message)).path, NEW_PASSWORD).status_code == 302
    assert sign_in(visitor, "mere", NEW_PASSWORD).status_code == 302


def test_only_accounts_without_a_password_are_invited_and_coordinators_invite_no_staff(app, signed_in, world):
    coordinator = signed_in("coordinator")
    with app.extensions["database"].sessions() as session:
        ids = dict(session.execute(sa.select(User.username, User.id)).all())
    token = csrf_token(coordinator, "/account")
    has_password = coordinator.post(f"/accounts/{ids['trainee']}/code", data={"csrf_token": token})
    assert has_password.status_code == 302
    assert "has a password already" in coordinator.get("/accounts/invitations").get_data(as_text=True)
    assert coordinator.post(f"/accounts/{ids['admin']}/code", data={"csrf_token": token}).status_code == 404
    assert signed_in("assessor").get("/accounts/invitations").status_code == 404


# --- password reset ---------------------------------------------------------------------------------------------------


def forgot(client, identity: str):
    return client.post(
        "/forgot-password", data={"csrf_token": csrf_token(client, "/forgot-password"), "identity": identity}
    )


def test_reset_answers_alike_for_an_account_and_for_none_and_sends_one_email(app, signed_in, world, mailbox):
    give_email(app, "trainee", "trainee@example.org")
    elsewhere = signed_in("trainee")  # a session on another device, to be ended by the reset
    client = app.test_client()
    known = forgot(client, "Trainee@Example.org")
    unknown = forgot(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert RESET_ASKED in known.get_data(as_text=True)
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    [message] = mailbox.wait_for(1)
    time.sleep(0.2)
    assert len(mailbox.messages) == 1 and message["To"] == "trainee@example.org"

    path = urlsplit(link_in(message)).path
    assert path.startswith("/reset/")
    assert set_password(client, path, "123456789012").status_code == 400
    assert set_password(client, path, NEW_PASSWORD).status_code == 302
    assert elsewhere.get("/account").status_code == 302  # signed out everywhere
    assert sign_in(app.test_client(), "trainee", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "trainee", NEW_PASSWORD).status_code == 302
    assert set_password(app.test_client(), path, "another good passphrase here").status_code == 410
    with app.extensions["database"].sessions() as session:
        token = session.scalars(sa.select(AccountToken).where(AccountToken.purpose == TokenPurpose.RESET)).one()
        assert token.expires_at - token.created_at == datetime.timedelta(hours=1)
    assert [a for a, _ in actions(app, "trainee")][-2:] == ["user.reset_link", "user.password"]


def test_a_reset_link_dies_when_the_password_changes_another_way(app, signed_in, world, mailbox):
    give_email(app, "assessor", "assessor@example.org")
    forgot(app.test_client(), "assessor")
    path = urlsplit(link_in(mailbox.wait_for(1)[0])).path
    client = signed_in("assessor")
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account/password"),
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "again": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert app.test_client().get(path).status_code == 410


def test_reset_requests_are_throttled_alike_for_accounts_and_for_none(app, world, mailbox):
    give_email(app, "trainee", "trainee@example.org")
    client = app.test_client()
    for _ in range(auth.FREE_FAILURES):
        assert forgot(client, "trainee").status_code == 200
        assert forgot(client, "nobody").status_code == 200
    assert len(mailbox.wait_for(auth.FREE_FAILURES)) == auth.FREE_FAILURES
    held, held_unknown = forgot(client, "trainee"), forgot(client, "nobody")
    assert held.status_code == held_unknown.status_code == 429
    assert auth.TOO_MANY in held.get_data(as_text=True)
    time.sleep(0.2)
    assert len(mailbox.messages) == auth.FREE_FAILURES
    # The trainee's own sign-in is not held up by requests in their name.
    assert sign_in(app.test_client(), "trainee", PASSWORD).status_code == 302


# --- changing one's password, and an administrator's changes --------------------------------------------------------


def test_changing_a_password_needs_the_current_one_and_ends_the_other_sessions(app, signed_in, world):
    other_device = signed_in("assessor")
    client = signed_in("assessor")

    def change(current: str, new: str):
        data = {
            "csrf_token": csrf_token(client, "/account/password"),
            "current": current,
            "password": new,
            "again": new,
        }
        return client.post("/account/password", data=data)

    wrong = change("not my password at all", NEW_PASSWORD)
    assert wrong.status_code == 400 and auth.NOT_YOUR_PASSWORD in wrong.get_data(as_text=True)
    for weak in ("123456789012", " " * 12, "assessor-assessor"):
        refused = change(PASSWORD, weak)
        assert refused.status_code == 400 and "too easy to guess" in refused.get_data(as_text=True)
    assert sign_in(app.test_client(), "assessor", PASSWORD).status_code == 302  # nothing changed

    assert change(PASSWORD, NEW_PASSWORD).status_code == 302
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    assert sign_in(app.test_client(), "assessor", NEW_PASSWORD).status_code == 302
    assert actions(app, "assessor")[-1][1] == {"how": "changed by its owner"}


def test_an_administrator_changes_names_emails_and_roles_each_audited(app, runner, signed_in, world):
    admin = signed_in("admin")
    trainee_session = signed_in("trainee")
    with app.extensions["database"].sessions() as session:
        ids = dict(session.execute(sa.select(User.username, User.id)).all())
    path = f"/admin/users/{ids['trainee']}"

    def save(**fields):
        return admin.post(path, data={"csrf_token": csrf_token(admin, path), **fields})

    assert save(display_name="", email="x@example.org", role="trainee").status_code == 400
    not_an_address = save(display_name="T", email="tia at example", role="trainee")
    assert not_an_address.status_code == 400 and "Enter an e-mail address" in not_an_address.get_data(as_text=True)
    assert save(display_name="T", email="x@example.org", role="chief").status_code == 400
    assert save(display_name="Tia Trainee", email="tia@example.org", role="trainee").status_code == 302
    assert trainee_session.get("/account").status_code == 200  # name and e-mail only: still signed in
    assert save(display_name="Tia Trainee", email="tia@example.org", role="assessor").status_code == 302
    assert trainee_session.get("/account").status_code == 302  # a new role: signed out
    events = [(a, after) for a, after in actions(app, "trainee") if a == "user.update"]
    assert [after["display_name"] for _, after in events] == ["Tia Trainee", "Tia Trainee"]
    assert [after["role"] for _, after in events] == ["trainee", "assessor"]
    own = f"/admin/users/{ids['admin']}"
    refused = admin.post(own, data={"csrf_token": csrf_token(admin, own), "display_name": "Admin", "role": "trainee"})
    assert refused.status_code == 400 and "cannot change your own role" in refused.get_data(as_text=True)
    assert signed_in("coordinator").get(path).status_code == 404
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_an_administrator_creates_a_coordinator_on_the_web_and_a_coordinator_cannot(app, signed_in, world, mailbox):
    admin = signed_in("admin")
    made = create_person(
        admin, username="rangi", display_name="Rangi Coordinator", email="rangi@example.org", role="coordinator"
    )
    assert made.status_code == 302
    assert mailbox.wait_for(1)[0]["To"] == "rangi@example.org"
    bad = create_person(admin, username="kiri", display_name="Kiri", email="kiri@", role="trainee")
    assert bad.status_code == 400 and "Enter an e-mail address" in bad.get_data(as_text=True)
    refused = create_person(signed_in("coordinator"), username="boss", display_name="Boss", role="admin")
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)
    with app.extensions["database"].sessions() as session:
        assert session.scalars(sa.select(User.role).where(User.username == "rangi")).one() == Role.COORDINATOR


def test_the_command_line_sets_a_password_for_a_locked_out_administrator(app, runner, signed_in, world, tmp_path):
    session_before = signed_in("admin")
    weak = tmp_path / "weak"
    weak.write_text("password1234\n")
    assert runner.invoke(args=["users", "set-password", "admin", "--password-file", str(weak)]).exit_code == 1
    good = tmp_path / "good"
    good.write_text(NEW_PASSWORD + "\n")
    result = runner.invoke(args=["users", "set-password", "admin", "--password-file", str(good)])
    assert result.exit_code == 0, result.output
    assert session_before.get("/account").status_code == 302
    assert sign_in(app.test_client(), "admin", NEW_PASSWORD).status_code == 302
    assert runner.invoke(args=["users", "set-password", "nobody", "--password-file", str(good)]).exit_code == 1


# --- the outbox, and SMTP failures --------------------------------------------------------------------------------------


def signed_in_to(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def test_without_an_smtp_server_messages_wait_in_the_outbox_for_an_administrator(make_app, world, mailbox):
    app = make_app()  # on the same database, with no MAIL_HOST
    coordinator = signed_in_to(app, "coordinator")
    create_person(coordinator, username="mere", display_name="Mere Tūhoe", email="mere@example.org")
    admin = signed_in_to(app, "admin")
    outbox = admin.get("/admin/outbox").get_data(as_text=True)
    assert "No SMTP server is set" in outbox and "Your Assessor account: set your password" in outbox
    message_id = re.search(r'href="/admin/outbox/(\d+)"', outbox).group(1)
    page = admin.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
    link = re.search(r"http://127\.0\.0\.1:5000(/welcome/\S+)", page).group(1)
    assert app.test_client().get(link).status_code == 200
    assert coordinator.get(f"/admin/outbox/{message_id}").status_code == 404
    assert coordinator.get("/admin/outbox").status_code == 404
    with app.extensions["database"].sessions() as session:
        written = sa.select(MailMessage.status).where(MailMessage.to_address == "mere@example.org")
        assert session.scalars(written).one() == MailStatus.IN_OUTBOX
    assert mailbox.messages == []


def test_a_message_the_smtp_server_cannot_take_waits_to_be_tried_again(make_app, world):
    app = make_app(**mail_settings(1))  # nothing listens on port 1
    coordinator = signed_in_to(app, "coordinator")
    assert (
        create_person(coordinator, username="mere", display_name="Mere Tūhoe", email="mere@example.org").status_code
        == 302
    )
    with app.extensions["database"].sessions() as session:
        message = session.scalars(sa.select(MailMessage).where(MailMessage.to_address == "mere@example.org")).one()
        job = session.get(Job, message.job_id)
        assert message.status == MailStatus.WAITING and message.text_body
        assert job.status == JobStatus.QUEUED and job.attempts == 1 and "ConnectionRefusedError" in job.error


def test_the_accounts_list_comes_in_pages_and_finds_people_ignoring_case_and_diacritics(
    app, signed_in, world, monkeypatch
):
    monkeypatch.setattr(account_views, "USERS_PER_PAGE", 3)
    with app.extensions["database"].sessions.begin() as session:
        session.add(User(username="tui.h", display_name="Tūī Hohaia", role=Role.TRAINEE, password_hash="!"))
        every = sorted(session.scalars(sa.select(User.username)).all())
    admin = signed_in("admin")
    seen, url = [], "/admin/users"
    while url:
        page = admin.get(url).get_data(as_text=True)
        listed = re.findall(r'<td><a href="/admin/users/\d+">([^<]+)</a></td>', page)
        assert 0 < len(listed) <= 3
        seen += listed
        following = re.search(r'rel="next" href="([^"]+)"', page)
        url = following.group(1).replace("&amp;", "&") if following else None
    assert seen == every
    found = admin.get("/admin/users?search=TUI").get_data(as_text=True)
    assert re.findall(r'<td><a href="/admin/users/\d+">([^<]+)</a></td>', found) == ["tui.h"]
    assert "No account matches." in admin.get("/admin/users?search=%25").get_data(as_text=True)
