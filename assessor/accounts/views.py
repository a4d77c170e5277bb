"""Signing in and out: hashed passwords, throttling kept in the database, sessions the server can end."""

from __future__ import annotations

import datetime
import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from assessor import db
from assessor.access import PUBLIC, SIGNED_IN, allow
from assessor.models import LoginFailure, User, utcnow
from assessor.passwords import check_password, hash_password, needs_rehash

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

FREE_FAILURES = 5  # per username and address, before waiting is needed
FIRST_WAIT = datetime.timedelta(seconds=30)
LONGEST_WAIT = datetime.timedelta(minutes=15)
ADDRESS_LIMIT = 50  # failures from one address, any usernames, within WINDOW
WINDOW = datetime.timedelta(minutes=15)
GENERIC_FAILURE = "That username and password do not match an active account."
TOO_MANY = "Too many failed attempts. Wait a few minutes and try again."

# A fixed hash to check against when the username is unknown, so that both cases take as long.
_DUMMY_HASH = None


class SignInForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=64)], render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)], render_kw={"autocomplete": "current-password"})


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
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = None  # sessions end by token and idle timeout instead
    app.register_blueprint(bp)

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
            return redirect(url_for("auth.sign_in"))
        session["seen"] = now
        return None


@bp.get("/sign-in")
@allow(PUBLIC)
def sign_in() -> Any:
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    return render_template("auth/sign_in.html", form=SignInForm())


@bp.post("/sign-in")
@allow(PUBLIC)
def sign_in_post() -> Any:
    """Check the password, with throttling that holds across server processes."""
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form), 400
    username = form.username.data.strip().lower()
    address = request.remote_addr or "unknown"
    session_db = db.session()
    if _throttled(session_db, username, address):
        form.form_errors.append(TOO_MANY)
        return render_template("auth/sign_in.html", form=form), 429
    user = session_db.scalar(sa.select(User).where(User.username == username))
    password_ok = check_password(user.password_hash if user else _dummy_hash(), form.password.data)
    if user is None or not user.active or not password_ok:
        session_db.add(LoginFailure(username=username, address=address))
        session_db.execute(sa.delete(LoginFailure).where(LoginFailure.at < utcnow() - datetime.timedelta(days=1)))
        form.form_errors.append(GENERIC_FAILURE)
        # 200 so that the failure is committed and counts toward the throttle.
        return render_template("auth/sign_in.html", form=form)
    session_db.execute(sa.delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.address == address))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(form.password.data)
    session.clear()  # a new session at sign-in
    login_user(user)
    session["seen"] = int(time.time())
    return redirect(_safe_next(request.args.get("next")) or url_for("index"))


@bp.post("/sign-out")
@allow(SIGNED_IN)
def sign_out() -> Response:
    """End every session of the user, everywhere."""
    user = db.session().get(User, current_user.id)
    user.end_sessions()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))


def password_confirmed(password: str | None) -> bool:
    """Whether the signed-in user re-entered their own password correctly (before a sign-off)."""
    return bool(password) and check_password(current_user.password_hash, password)


def _throttled(session_db: Any, username: str, address: str) -> bool:
    since = utcnow() - WINDOW
    from_address = session_db.scalar(
        sa.select(sa.func.count(LoginFailure.id)).where(LoginFailure.address == address, LoginFailure.at >= since)
    )
    if from_address >= ADDRESS_LIMIT:
        return True
    recent = session_db.execute(
        sa.select(sa.func.count(LoginFailure.id), sa.func.max(LoginFailure.at)).where(
            LoginFailure.username == username, LoginFailure.address == address, LoginFailure.at >= utcnow() - LONGEST_WAIT * 2
        )
    ).one()
    failures, last = recent
    if failures < FREE_FAILURES or last is None:
        return False
    wait = min(FIRST_WAIT * 2 ** (failures - FREE_FAILURES), LONGEST_WAIT)
    if last.tzinfo is None:
        last = last.replace(tzinfo=datetime.UTC)
    return utcnow() < last + wait


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not a real password: compared to keep timing alike")
    return _DUMMY_HASH


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so sign-in cannot bounce a user to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None
