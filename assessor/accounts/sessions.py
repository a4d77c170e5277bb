"""Sessions: the login manager, cookies marked Secure on HTTPS, the idle timeout, sign-in throttling kept in the
database."""

from __future__ import annotations

import datetime
import time
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, logout_user

from assessor.core import database as db
from assessor.core.passwords import check_password, hash_password, needs_rehash
from assessor.models import LoginFailure, User, utcnow

login_manager = LoginManager()

FREE_FAILURES = 5  # per username and address, before waiting is needed
FIRST_WAIT = datetime.timedelta(seconds=30)
LONGEST_WAIT = datetime.timedelta(minutes=15)
ADDRESS_LIMIT = 50  # failures from one address, any usernames, within WINDOW
WINDOW = datetime.timedelta(minutes=15)
GENERIC_FAILURE = "That username and password do not match an active account."
TOO_MANY = "Too many failed attempts. Wait a few minutes and try again."

_DUMMY_HASH: str | None = None


class SessionCookies(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session cookie, if the account is active and the session was not ended."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session().get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def init_app(app: Flask) -> None:
    """Sessions: cookie settings, the login manager and the idle timeout."""
    app.config.setdefault("IDLE_TIMEOUT_MINUTES", 30)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.session_interface = SessionCookies()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.session_protection = None  # sessions end by token and idle timeout instead

    @app.before_request
    def end_idle_sessions() -> Any:
        if not current_user.is_authenticated:
            return None
        now = int(time.time())
        idle = now - session.get("seen", now)
        if idle > current_app.config["IDLE_TIMEOUT_MINUTES"] * 60:
            logout_user()
            session.clear()
            flash("You were signed out after a period of inactivity. Sign in again to continue.", "info")
            return redirect(url_for("accounts.sign_in"))
        session["seen"] = now
        return None


def sign_in_refusal(session: so.Session, user: User | None, username: str, password: str, address: str) -> str | None:
    """Why this sign-in is refused (throttled, or no such active account with that password), or None. A failure is
    written to the session, so that it counts toward the throttle in every server process once committed."""
    if throttled(session, username, address):
        return TOO_MANY
    password_ok = check_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not user.active or not password_ok:
        session.add(LoginFailure(username=username, address=address))
        session.execute(sa.delete(LoginFailure).where(LoginFailure.at < utcnow() - datetime.timedelta(days=1)))
        return GENERIC_FAILURE
    session.execute(sa.delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.address == address))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return None


def throttled(session_db: so.Session, username: str, address: str) -> bool:
    """Whether sign-in from this address, for this username, must wait."""
    since = utcnow() - WINDOW
    from_address = session_db.scalar(
        sa.select(sa.func.count(LoginFailure.id)).where(LoginFailure.address == address, LoginFailure.at >= since)
    )
    if (from_address or 0) >= ADDRESS_LIMIT:
        return True
    recent = session_db.execute(
        sa.select(sa.func.count(LoginFailure.id), sa.func.max(LoginFailure.at)).where(
            LoginFailure.username == username,
            LoginFailure.address == address,
            LoginFailure.at >= utcnow() - LONGEST_WAIT * 2,
        )
    ).one()
    failures, last = recent
    if failures < FREE_FAILURES or last is None:
        return False
    wait = min(FIRST_WAIT * 2 ** (failures - FREE_FAILURES), LONGEST_WAIT)
    if last.tzinfo is None:
        last = last.replace(tzinfo=datetime.UTC)
    return utcnow() < last + wait


def dummy_hash() -> str:
    """A fixed hash to check against when the username is unknown, so that both cases take as long."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not a real password: compared to keep timing alike")
    return _DUMMY_HASH


def safe_next(target: str | None) -> str | None:
    """Only same-site paths, so sign-in cannot bounce a user to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
