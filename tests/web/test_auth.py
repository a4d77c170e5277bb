"""Signing in and out: generic failures, throttling, sessions the server ends, idle timeout, cookie flags."""

from __future__ import annotations

import datetime
import re
import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from assessor import create_app
from assessor.accounts import sessions as auth
from assessor.core import passwords
from assessor.models import AuditEvent, LoginFailure, User, UserSession
from tests.conftest import only_sqlite
from tests.records.factories import PASSWORD
from tests.server import TEST_AUDIT_KEY
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
    # Failures count per account from every address (tests/web/test_sign_in_throttle.py): a wait, never a lock-out.


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


@pytest.mark.parametrize(
    "query",
    [
        "next=/%09/example.com",  # a tab, which browsers drop: //example.com
        "next=/%0A/x",  # a newline, which no header may carry
        "next=/%0D%0ASet-Cookie:%20x=y",
        "next=//x",
        "next=/%5Cx",  # /\x, which browsers read as //x
        "next=/%5C/x",
        "next=%5C%5Cx",
        "next=https://x",
        "next=https:x",
        "next=javascript:alert(1)",
        "next=/%2F%2Fx",  # ///x once decoded
        "next=/%252F%252Fx",  # /%2F%2Fx: an encoded // is refused too
        "next=%20//x",  # leading space, which browsers strip
        "next=/%00/x",
        "next=/%7F/x",
        "next=/%E3%80%80/x",  # an ideographic space
        "next=x",
        "next=",
    ],
)
def test_sign_in_follows_no_next_that_leaves_the_site(client, world, query):
    token = csrf_token(client, f"/sign-in?{query}")
    response = client.post(
        f"/sign-in?{query}", data={"csrf_token": token, "username": "assessor", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_follows_a_path_of_the_site(client, world):
    token = csrf_token(client)
    response = client.post(
        "/sign-in?next=/enrolments%3Fstatus%3Dopen%26q%3Da%2520b",
        data={"csrf_token": token, "username": "assessor", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/enrolments?status=open&q=a%20b"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/enrolments", "/enrolments"),
        ("/enrolments/3?tab=evidence#criteria", "/enrolments/3?tab=evidence#criteria"),
        ("/cohorts/1?from=a%2Fb", "/cohorts/1?from=a%2Fb"),
        ("/\t/example.com", None),
        ("/\n/x", None),
        ("/\\x", None),
        ("\\\\x", None),
        ("//x", None),
        ("///x", None),
        ("/%2F/x", None),
        ("/%5C/x", None),
        ("https://x", None),
        ("https:/x", None),
        (" /x", None),
        ("/x ", None),
        ("x", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next(target, expected):
    assert auth.safe_next(target) == expected


def test_sign_in_keeps_only_a_safe_next_in_its_form(client, world):
    page = client.get("/sign-in?next=//evil.example/x").get_data(as_text=True)
    assert "evil.example" not in page
    page = client.get("/sign-in?next=/enrolments").get_data(as_text=True)
    assert 'action="/sign-in?next=/enrolments"' in page or 'action="/sign-in?next=%2Fenrolments"' in page


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


def test_a_failed_sign_in_leaves_the_write_lock_free_while_the_password_is_checked(
    app, client, world, database_url, monkeypatch
):
    only_sqlite(database_url)
    checking, release = threading.Event(), threading.Event()
    real_check = auth.check_password

    def slow_check(stored_hash: str, password: str) -> bool:
        checking.set()
        assert release.wait(10)
        return real_check(stored_hash, password)

    monkeypatch.setattr(auth, "check_password", slow_check)
    token = csrf_token(client)
    answers = []
    sign_in_thread = threading.Thread(
        target=lambda: answers.append(
            client.post(
                "/sign-in", data={"csrf_token": token, "username": "assessor", "password": "wrong password here"}
            )
        )
    )
    sign_in_thread.start()
    try:
        assert checking.wait(10), "the password was never checked"
        other = sqlite3.connect(sa.make_url(database_url).database, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the sign-in holds the write lock
            other.execute("UPDATE user_account SET display_name = display_name WHERE username = 'trainee'")
            other.execute("COMMIT")
        finally:
            other.close()
    finally:
        release.set()
        sign_in_thread.join(10)
    assert [a.status_code for a in answers] == [401]
    with app.extensions["database"].sessions() as session:  # the failure is kept, and counts toward the throttle
        assert session.scalar(sa.select(sa.func.count()).where(LoginFailure.username == "assessor")) == 1


def test_a_signed_in_browser_that_signs_in_again_with_a_wrong_password_is_answered_at_once(app, client, world):
    sign_in(client, "assessor")
    assert client.get("/enrolments").status_code == 200
    token = csrf_token(client, "/enrolments")
    started = time.monotonic()
    response = client.post("/sign-in", data={"csrf_token": token, "username": "assessor", "password": "not it at all"})
    assert response.status_code == 401
    assert time.monotonic() - started < 5  # not waiting on its own request's write lock
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).where(LoginFailure.username == "assessor")) == 1


def test_sessions_end_after_their_absolute_lifetime_however_busy(app, client, world):
    assert app.config["ABSOLUTE_SESSION_HOURS"] == 10
    sign_in(client, "assessor")
    assert client.get("/enrolments").status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] = int(time.time()) - 10 * 3600 + 60  # a minute left
    assert client.get("/enrolments").status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] = int(time.time()) - 10 * 3600 - 1
    response = client.get("/enrolments")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert "signed in for 10 hours" in page
    assert client.get("/enrolments").headers["Location"].startswith("/sign-in")


def test_the_absolute_lifetime_is_a_setting(make_app, world):
    app = make_app(ABSOLUTE_SESSION_HOURS=1)
    client = app.test_client()
    sign_in(client, "assessor")
    with client.session_transaction() as session:
        session["signed_in_at"] -= 3600 + 1
        session["seen"] = int(time.time())
    assert client.get("/enrolments").headers["Location"] == "/sign-in"


def test_the_idle_timeout_says_why(app, client, world):
    sign_in(client, "assessor")
    with client.session_transaction() as session:
        session["seen"] -= app.config["IDLE_TIMEOUT_MINUTES"] * 60 + 1
    client.get("/enrolments")
    assert "period of inactivity" in client.get("/sign-in").get_data(as_text=True)


def test_your_account_page_is_linked_from_the_header(signed_in):
    client = signed_in("trainee")
    assert 'href="/account"' in client.get("/enrolments").get_data(as_text=True)
    assert 'href="/account/sessions"' in client.get("/account").get_data(as_text=True)


def test_signing_out_other_sessions_keeps_this_one_and_is_audited(app, world, signed_in):
    tablet, desktop, phone = signed_in("assessor"), signed_in("assessor"), signed_in("assessor")
    someone_else = signed_in("trainee")
    listed = desktop.get("/account/sessions").get_data(as_text=True)
    assert listed.count("Sign out<span") == 2 and "Sign out everywhere else" in listed
    response = desktop.post("/account/sign-out-others", data={"csrf_token": csrf_token(desktop, "/account")})
    assert response.status_code == 302 and response.headers["Location"] == "/account/sessions"
    page = desktop.get("/account/sessions").get_data(as_text=True)
    assert "Your other sessions are signed out" in page and "Sign out<span" not in page
    assert "(this browser)" in page
    assert desktop.get("/enrolments").status_code == 200
    for other in (tablet, phone):
        assert other.get("/enrolments").headers["Location"].startswith("/sign-in")
    assert someone_else.get("/enrolments").status_code == 200
    with app.extensions["database"].sessions() as session:
        event = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        assessor_id = session.scalar(sa.select(User.id).where(User.username == "assessor"))
    assert (event.action, event.entity_type, str(event.entity_id)) == ("user.sessions_ended", "user", str(assessor_id))


def test_signing_out_other_sessions_keeps_this_sessions_absolute_lifetime(app, world, signed_in):
    client = signed_in("assessor")
    with client.session_transaction() as session:
        began = session["signed_in_at"] = session["signed_in_at"] - 3600
    client.post("/account/sign-out-others", data={"csrf_token": csrf_token(client, "/account")})
    with client.session_transaction() as session:
        assert session["signed_in_at"] == began


def test_signing_out_other_sessions_needs_a_csrf_token(app, world, signed_in):
    tablet, desktop = signed_in("assessor"), signed_in("assessor")
    assert desktop.post("/account/sign-out-others").status_code == 400
    assert tablet.get("/enrolments").status_code == 200


def test_the_absolute_lifetime_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("ASSESSOR_SECRET_KEY", "x")
    monkeypatch.setenv("ASSESSOR_ABSOLUTE_SESSION_HOURS", "8")
    monkeypatch.setenv("ASSESSOR_AUDIT_KEY", TEST_AUDIT_KEY)
    monkeypatch.setenv("ASSESSOR_AUDIT_CHECKPOINT_DIR", str(tmp_path / "audit-checkpoints"))
    app = create_app()
    try:
        assert app.config["ABSOLUTE_SESSION_HOURS"] == 8
    finally:
        app.extensions["database"].dispose()


def _while_the_password_is_checked(app, monkeypatch, change):
    """Make `change` to the assessor's account, in a transaction of its own, while sign-in checks the password."""
    real_check = auth.check_password

    def check(stored_hash: str, password: str) -> bool:
        with app.extensions["database"].sessions.begin() as session:
            change(session.scalars(sa.select(User).where(User.username == "assessor")).one())
        return real_check(stored_hash, password)

    monkeypatch.setattr(auth, "check_password", check)


def test_a_sign_in_beside_one_that_rehashed_the_password_still_succeeds(app, client, world, monkeypatch):
    rehashed = passwords.hash_password(PASSWORD)
    _while_the_password_is_checked(app, monkeypatch, lambda user: setattr(user, "password_hash", rehashed))
    assert sign_in(client, "assessor").status_code == 302


def test_an_account_deactivated_while_its_password_is_checked_is_not_signed_in(app, client, world, monkeypatch):
    _while_the_password_is_checked(app, monkeypatch, lambda user: setattr(user, "active", False))
    assert sign_in(client, "assessor").status_code == 401
    assert client.get("/enrolments").headers["Location"].startswith("/sign-in")


FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


def test_the_sessions_page_lists_each_browser_and_signs_one_out(app, world):
    desktop, phone = app.test_client(), app.test_client()
    desktop.environ_base["HTTP_USER_AGENT"] = FIREFOX_ON_WINDOWS
    phone.environ_base["HTTP_USER_AGENT"] = SAFARI_ON_IPHONE
    sign_in(desktop, "assessor")
    sign_in(phone, "assessor")
    sign_in(app.test_client(), "trainee")  # someone else's: never listed
    page = desktop.get("/account/sessions").get_data(as_text=True)
    assert "Firefox on Windows <strong>(this browser)</strong>" in page and "Safari on iPhone" in page
    assert page.count("<tr>") == 3  # the header and two browsers
    phone_id = re.search(r'action="/account/sessions/(\d+)/end"', page).group(1)
    token = csrf_token(desktop, "/account")
    assert desktop.post(f"/account/sessions/{phone_id}/end", data={"csrf_token": token}).status_code == 302
    assert phone.get("/enrolments").headers["Location"].startswith("/sign-in")
    assert desktop.get("/enrolments").status_code == 200
    assert "Safari on iPhone" not in desktop.get("/account/sessions").get_data(as_text=True)
    # The browser asking cannot end itself here (it signs out instead), nor anyone else's.
    with app.extensions["database"].sessions() as session:
        mine = session.scalars(
            sa.select(UserSession.id).where(UserSession.ended_at.is_(None)).order_by(UserSession.id)
        ).all()
        events = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "user.session_ended")).all()
    assert events == ["user.session_ended"]
    for other in mine:
        ended = desktop.post(f"/account/sessions/{other}/end", data={"csrf_token": token})
        assert ended.status_code == 404
    assert desktop.get("/enrolments").status_code == 200


def test_sessions_idle_too_long_are_not_listed_and_old_rows_are_forgotten(app, world):
    client = app.test_client()
    sign_in(client, "assessor")
    stale = app.test_client()
    sign_in(stale, "assessor")
    with app.extensions["database"].sessions.begin() as session:
        rows = session.scalars(sa.select(UserSession).order_by(UserSession.id)).all()
        rows[-1].last_seen_at -= datetime.timedelta(hours=2)
        rows[0].last_seen_at -= datetime.timedelta(days=2)  # the world's own, long gone
    page = client.get("/account/sessions").get_data(as_text=True)
    assert page.count("<tr>") == 2  # the header and this browser
    with app.app_context():
        auth.forget_old_sessions()
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == len(rows) - 1
