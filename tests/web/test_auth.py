"""Signing in and out: generic failures, throttling, sessions the server ends, idle timeout, cookie flags."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from assessor.accounts import sessions as auth
from assessor.core import passwords
from assessor.models import LoginFailure, User
from tests.records.factories import PASSWORD
from tests.web.conftest import csrf_token, sign_in


def test_sign_in_form_is_labelled(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<label for="username">Username</label>' in page
    assert '<label for="password">Password</label>' in page


def test_wrong_password_and_unknown_user_get_the_same_message(client, world):
    wrong = sign_in(client, "assessor", "wrong password here").get_data(as_text=True)
    unknown = sign_in(client, "nobody-at-all", "wrong password here").get_data(as_text=True)
    assert auth.GENERIC_FAILURE in wrong and auth.GENERIC_FAILURE in unknown
    # Apart from the typed username (a field value), the two pages are identical.
    assert re.sub(r'value="[^"]*"', "", wrong) == re.sub(r'value="[^"]*"', "", unknown)


def test_throttle_engages_after_repeated_failures_even_with_the_right_password(app, client, world):
    for _ in range(auth.FREE_FAILURES):
        assert sign_in(client, "assessor", "wrong password here").status_code == 401
    blocked = sign_in(client, "assessor", PASSWORD)
    assert blocked.status_code == 429
    assert auth.TOO_MANY in blocked.get_data(as_text=True)
    # From another address the real user can still sign in: a guesser cannot lock them out.
    other = app.test_client()
    token = csrf_token(other)
    response = other.post(
        "/sign-in",
        data={"csrf_token": token, "username": "assessor", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert response.status_code == 302


def test_throttle_is_kept_in_the_database_so_every_server_process_sees_it(app, make_app, client, world):
    for _ in range(auth.FREE_FAILURES):
        sign_in(client, "nobody-at-all", "wrong password here")
    with app.extensions["database"].sessions() as session:
        assert (
            session.scalar(sa.select(sa.func.count(LoginFailure.id)).where(LoginFailure.username == "nobody-at-all"))
            == auth.FREE_FAILURES
        )
    # A second app on the same database, as another server process would be, refuses too.
    second = make_app().test_client()
    assert sign_in(second, "nobody-at-all", "wrong password here").status_code == 429


def test_a_session_cookie_saved_before_sign_out_is_refused_after_it(app, client, world):
    sign_in(client, "assessor")
    assert client.get("/enrolments").status_code == 200
    saved = client.get_cookie("session").value
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/enrolments")})
    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/enrolments")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_a_deactivated_account_is_signed_out_everywhere_at_its_next_request(app, world):
    tablet, desktop = app.test_client(), app.test_client()
    sign_in(tablet, "assessor")
    sign_in(desktop, "assessor")
    admin = app.test_client()
    sign_in(admin, "admin")
    with app.extensions["database"].sessions() as session:
        assessor_id = session.scalar(sa.select(User.id).where(User.username == "assessor"))
    response = admin.post(
        f"/admin/users/{assessor_id}/active", data={"csrf_token": csrf_token(admin, "/admin/users"), "active": "0"}
    )
    assert response.status_code == 302
    for client in (tablet, desktop):
        assert client.get("/enrolments").headers["Location"].startswith("/sign-in")
    assert sign_in(app.test_client(), "assessor").status_code == 401  # and cannot sign in again


def test_idle_sessions_end(app, client, world, monkeypatch):
    sign_in(client, "assessor")
    assert client.get("/enrolments").status_code == 200
    with client.session_transaction() as session:
        session["seen"] -= app.config["IDLE_TIMEOUT_MINUTES"] * 60 + 1
    response = client.get("/enrolments")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"


def test_session_cookie_flags(app, client, world):
    response = sign_in(client, "assessor")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client()
    page = secure.get("/sign-in", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    over_https = secure.post(
        "/sign-in",
        data={"csrf_token": token, "username": "assessor", "password": PASSWORD},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/sign-in"},  # CSRF checks the referrer over HTTPS
    )
    assert "Secure" in over_https.headers["Set-Cookie"]


def test_a_new_session_at_sign_in(client, world):
    client.get("/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, "assessor")
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_in_redirects_only_within_the_site(client, world):
    token = csrf_token(client)
    response = client.post(
        "/sign-in?next=//evil.example/x", data={"csrf_token": token, "username": "assessor", "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


@pytest.mark.real_password_cost
def test_a_weak_stored_hash_is_upgraded_at_sign_in(app, client, world, monkeypatch):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with app.extensions["database"].sessions.begin() as session:
        session.scalars(sa.select(User).where(User.username == "assessor")).one().password_hash = weak
    assert sign_in(client, "assessor").status_code == 302
    with app.extensions["database"].sessions() as session:
        stored = session.scalar(sa.select(User.password_hash).where(User.username == "assessor"))
    assert stored != weak and not passwords.needs_rehash(stored)


def test_security_headers_on_every_response(client, world):
    for url in ("/sign-in", "/standards/", "/verify", "/nope"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_behind_a_trusted_proxy_the_client_address_and_scheme_come_from_its_headers(make_app, world):
    app = make_app(TRUSTED_PROXIES=1)
    client = app.test_client()
    headers = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    page = client.get("/sign-in", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/sign-in",
        data={"csrf_token": token, "username": "nobody-at-all", "password": "wrong password here"},
        headers={**headers, "Referer": "https://localhost/sign-in"},
    )
    assert response.status_code == 401
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(LoginFailure.address)) == "203.0.113.7"
