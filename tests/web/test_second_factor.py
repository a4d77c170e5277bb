"""A second factor at sign-in, end to end through the HTTP client: setting it up from the QR code the server draws,
signing in with a code from the app or a recovery code (each used once), throttling, roles that must have one,
sign-off asking for it, and an administrator removing it for someone who lost their phone."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from assessor.accounts import second_factor
from assessor.accounts import sessions as auth
from assessor.models import AuditEvent, RecoveryCode, User
from tests.records.factories import PASSWORD
from tests.web.conftest import csrf_token, sign_in
from tests.web.test_sign_in_throttle import sign_off_data


@pytest.fixture
def clock(monkeypatch):
    """The TOTP time step, moved on by the test: a code works once, so each use needs a step of its own."""
    now = [second_factor.current_step()]
    monkeypatch.setattr(second_factor, "current_step", lambda: now[0])
    return now


def set_up(client, clock) -> tuple[pyotp.TOTP, list[str]]:
    """Turn the second factor on from the setup page; the app's TOTP and the recovery codes shown."""
    page = client.get("/account/two-factor")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "<svg" in text and "QR code to add" in text  # drawn by the server, no outside service
    secret = re.search(r'<strong class="code">([A-Z2-7]{32})</strong>', text).group(1)
    totp = pyotp.TOTP(secret)
    token = csrf_token(client, "/account/two-factor")
    wrong = client.post("/account/two-factor", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 400 and second_factor.WRONG_CODE in wrong.get_data(as_text=True)
    done = client.post("/account/two-factor", data={"csrf_token": token, "code": code_at(totp, clock)})
    assert done.status_code == 200
    codes = re.findall(r'<li class="code">([2-9A-Z]{5}-[2-9A-Z]{5})</li>', done.get_data(as_text=True))
    assert len(codes) == second_factor.RECOVERY_CODES
    return totp, codes


def code_at(totp: pyotp.TOTP, clock) -> str:
    """The app's code now; the clock then moves on a step."""
    code = totp.at(clock[0] * second_factor.STEP)
    clock[0] += 1
    return code


def second_step(client, code: str):
    return client.post("/sign-in/code", data={"csrf_token": csrf_token(client, "/sign-in"), "code": code})


def test_set_up_then_sign_in_with_a_code_from_the_app_each_code_once(app, signed_in, world, clock):
    totp, _codes = set_up(signed_in("assessor"), clock)
    client = app.test_client()
    password_only = sign_in(client, "assessor")
    assert password_only.status_code == 302 and password_only.location == "/sign-in/code"
    assert client.get("/account").status_code == 302  # not signed in yet
    used = totp.at((clock[0] - 1) * second_factor.STEP)  # the code that turned it on
    refused = second_step(client, used)
    assert refused.status_code == 400 and second_factor.WRONG_CODE in refused.get_data(as_text=True)
    code = code_at(totp, clock)
    assert second_step(client, code).status_code == 302
    assert client.get("/account").status_code == 200
    # That code is spent: another browser cannot use it, even within its 30 seconds.
    other = app.test_client()
    sign_in(other, "assessor")
    clock[0] -= 1
    assert second_step(other, code).status_code == 400
    with app.extensions["database"].sessions() as session:
        user = session.scalars(sa.select(User).where(User.username == "assessor")).one()
        assert user.totp_secret is not None and totp.secret not in user.totp_secret  # kept encrypted
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_id == str(user.id))).all()
        assert "user.second_factor_on" in actions


def test_a_recovery_code_signs_in_once(app, signed_in, world, clock):
    _totp, codes = set_up(signed_in("assessor"), clock)
    client = app.test_client()
    sign_in(client, "assessor")
    assert second_step(client, codes[3].lower().replace("-", "")).status_code == 302  # typed as it comes
    again = app.test_client()
    sign_in(again, "assessor")
    assert second_step(again, codes[3]).status_code == 400
    assert second_step(again, codes[4]).status_code == 302
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).where(RecoveryCode.used_at.is_not(None))) == 2
    assert "8 unused recovery codes" in again.get("/account/two-factor").get_data(as_text=True)


def test_wrong_codes_count_toward_the_sign_in_throttle(app, signed_in, world, clock):
    totp, _codes = set_up(signed_in("assessor"), clock)
    client = app.test_client()
    sign_in(client, "assessor")
    statuses = [second_step(client, "123456").status_code for _ in range(auth.FREE_FAILURES + 1)]
    assert statuses == [400] * auth.FREE_FAILURES + [429]
    assert second_step(client, code_at(totp, clock)).status_code == 429  # the right code waits too


def test_the_page_for_the_code_waits_five_minutes_at_most(app, signed_in, world, clock, monkeypatch):
    totp, _codes = set_up(signed_in("assessor"), clock)
    client = app.test_client()
    sign_in(client, "assessor")
    monkeypatch.setattr(auth, "SECOND_STEP_SECONDS", -1)
    late = second_step(client, code_at(totp, clock))
    assert late.status_code == 302 and late.location == "/sign-in"
    assert client.get("/account").status_code == 302


def test_roles_that_must_have_a_second_factor_set_it_up_before_anything_else(make_app, world, clock):
    app = make_app(MFA_REQUIRED_ROLES="admin,coordinator")
    coordinator = app.test_client()
    assert sign_in(coordinator, "coordinator").status_code == 302
    held = coordinator.get("/cohorts")
    assert held.status_code == 302 and held.location == "/account/two-factor"
    assert coordinator.get("/account/two-factor").status_code == 200
    totp, _codes = set_up(coordinator, clock)
    assert coordinator.get("/cohorts").status_code == 200
    # Required: no way to turn it off.
    page = coordinator.get("/account/two-factor").get_data(as_text=True)
    assert "Turn the second factor off" not in page
    off = coordinator.post(
        "/account/two-factor/off",
        data={"csrf_token": csrf_token(coordinator, "/account"), "code": code_at(totp, clock)},
    )
    assert off.status_code == 302 and off.location == "/account/two-factor"
    # Assessors may go without.
    assessor = app.test_client()
    sign_in(assessor, "assessor")
    assert assessor.get("/enrolments").status_code == 200


def test_an_assessor_turns_their_optional_second_factor_off_with_a_code(app, signed_in, world, clock):
    client = signed_in("assessor")
    totp, _codes = set_up(client, clock)
    token = csrf_token(client, "/account")
    assert client.post("/account/two-factor/off", data={"csrf_token": token, "code": "999999"}).status_code == 400
    assert (
        client.post("/account/two-factor/off", data={"csrf_token": token, "code": code_at(totp, clock)}).status_code
        == 302
    )
    assert sign_in(app.test_client(), "assessor").location == "/"


def test_sign_off_asks_for_the_code_too(app, signed_in, world, clock):
    client = signed_in("assessor")
    totp, _codes = set_up(client, clock)
    url = f"/enrolments/{world.open_enrolment}/sign-off"
    token = csrf_token(client, "/enrolments")
    missing = client.post(url, data=sign_off_data(token, PASSWORD))
    assert missing.status_code == 400 and second_factor.WRONG_CODE in missing.get_data(as_text=True)
    wrong = client.post(url, data={**sign_off_data(token, PASSWORD), "code": "000000"})
    assert wrong.status_code == 400
    # Password and code right: on to the unit itself, which is not ready.
    right = client.post(url, data={**sign_off_data(token, PASSWORD), "code": code_at(totp, clock)})
    assert right.status_code == 409


def test_an_administrator_removes_the_second_factor_of_someone_who_lost_their_phone(app, signed_in, world, clock):
    set_up(signed_in("assessor"), clock)
    admin = signed_in("admin")
    with app.extensions["database"].sessions() as session:
        user_id = session.scalars(sa.select(User.id).where(User.username == "assessor")).one()
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "Remove the second factor" in page
    token = csrf_token(admin, f"/admin/users/{user_id}")
    coordinator = signed_in("coordinator")
    refused = coordinator.post(
        f"/admin/users/{user_id}/two-factor/remove", data={"csrf_token": csrf_token(coordinator, "/account")}
    )
    assert refused.status_code == 404  # with a valid token of their own: refused by the policy, not by CSRF
    assert admin.post(f"/admin/users/{user_id}/two-factor/remove", data={"csrf_token": token}).status_code == 302
    assert sign_in(app.test_client(), "assessor").location == "/"  # the password alone again
    with app.extensions["database"].sessions() as session:
        removed = session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "user.second_factor_off", AuditEvent.entity_id == str(user_id)
            )
        ).one()
        assert removed.actor == "admin"


def test_the_command_line_removes_a_second_factor_for_a_locked_out_administrator(app, runner, signed_in, world, clock):
    set_up(signed_in("admin"), clock)
    assert sign_in(app.test_client(), "admin").location == "/sign-in/code"
    result = runner.invoke(args=["users", "remove-second-factor", "admin"])
    assert result.exit_code == 0, result.output
    assert sign_in(app.test_client(), "admin").location == "/"
    assert runner.invoke(args=["users", "remove-second-factor", "nobody"]).exit_code == 1


def test_someone_with_a_second_factor_changes_their_password_with_the_current_one(app, signed_in, world, clock):
    client = signed_in("assessor")
    set_up(client, clock)
    new = "kōwhai ridge at morning tide"
    data = {"csrf_token": csrf_token(client, "/account/password"), "current": PASSWORD, "password": new, "again": new}
    assert client.post("/account/password", data=data).status_code == 302
    assert sign_in(app.test_client(), "assessor", new).location == "/sign-in/code"
