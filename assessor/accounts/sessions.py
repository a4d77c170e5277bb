"""Sessions: the login manager, cookies marked Secure on HTTPS, the idle timeout and the absolute lifetime, signing in
without holding the write lock, throttling of password guesses kept in the database, and the only places sign-in
may send a browser next."""

from __future__ import annotations

import datetime
import math
import time
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Request, Response
from flask_login import LoginManager, current_user, login_user, logout_user

from assessor.accounts import second_factor
from assessor.core import database as db
from assessor.core.access import TOKEN
from assessor.core.jobs import every_hour
from assessor.core.passwords import check_password, hash_password, needs_rehash
from assessor.core.problems import API_PREFIX
from assessor.core.revalidation import FORGET_KEPT_PAGES
from assessor.models import LoginFailure, User, UserSession, utcnow
from assessor.models.columns import as_utc

login_manager = LoginManager()

SESSION_ROW = "sid"  # the flask session's key for the id of its `user_session` row
SEEN_EVERY = 300  # seconds: how often a session's last activity is written

# What a signed-in account that must set up a second factor may still reach.
SETTING_UP = frozenset({"accounts.two_factor", "accounts.two_factor_post", "accounts.sign_out", "static"})

# Throttling of password guesses (OWASP ASVS 2.2.1): growing delays, never a lock-out that outlasts the guessing.
# Failures are rows of `login_failure`, so every server process sees them; an attempt that is refused for waiting is
# neither checked nor recorded. While someone keeps guessing, the account's owner waits like anyone else (at most
# LONGEST_WAIT at a time): the price of counting failures from every address.
#
# - Per account: every failure for a username counts, from whatever address, at sign-in and at sign-off alike. After
#   FREE_FAILURES within FAILURE_MEMORY, each attempt must wait FIRST_WAIT after the latest failure, doubling with each
#   further failure, up to LONGEST_WAIT. Guesses spread over many addresses are throttled as much as guesses from one.
# - Per address: one address can be a whole college behind NAT, so it is never blocked outright: a username without
#   recent failures from it is never held up by it. Once an address has ADDRESS_FREE_FAILURES failures within
#   ADDRESS_WINDOW (any usernames) it is noisy, and from it a username with NOISY_ADDRESS_FREE_FAILURES recent failures
#   from there must also wait the address's own growing delay (the same doubling, counted past ADDRESS_FREE_FAILURES).
#   So a guesser behind one address gets two tries per username instead of five, while colleagues behind the same
#   address who type their password right sign in at once. Unknown usernames are treated exactly like known ones
#   (a different answer would tell which usernames exist); spraying one password over many usernames is bounded by
#   the per-account rule for each of them.
FREE_FAILURES = 5
FIRST_WAIT = datetime.timedelta(seconds=30)
LONGEST_WAIT = datetime.timedelta(minutes=15)
FAILURE_MEMORY = datetime.timedelta(days=1)  # older failures are forgotten, and deleted
ADDRESS_FREE_FAILURES = 50
ADDRESS_WINDOW = datetime.timedelta(minutes=15)
NOISY_ADDRESS_FREE_FAILURES = 2

GENERIC_FAILURE = "That username and password do not match an active account."
TOO_MANY = "Too many failed attempts."
NOT_YOUR_PASSWORD = "That is not your password."


@dataclass(frozen=True)
class Refusal:
    """Why a password was not accepted, in words for the form; `throttled` when it had to wait and was not checked."""

    message: str
    throttled: bool = False
    field: str = "password"  # the field it is about: the password, or the second factor's code


class SessionCookies(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS; none at all on the JSON API, which a
    bearer token alone opens (so a browser's cookie never acts there, and no form there needs a CSRF token)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIX):
            return self.session_class()  # empty, and never sent back
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.path.startswith(API_PREFIX):
            return
        super().save_session(app, session, response)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session cookie, if the account is active and the session was not ended."""
    user_id, _, token = session_id.partition(":")
    row_id = session.get(SESSION_ROW)
    if not user_id.isdigit() or not token or not isinstance(row_id, int):
        return None  # (a session begun before sessions had rows has none)
    # The account and this browser's session in one statement: every signed-in request, a 304 too, begins with it.
    both = sa.select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
    found = db.session().execute(both.where(User.id == int(user_id), UserSession.id == row_id)).first()
    if found is None:
        return None
    user, row = found
    if not user.active or user.session_token != token or row.token != token or row.ended_at is not None:
        return None  # signed out everywhere, or on its own from the sessions page
    g.user_session = row
    return user


def init_app(app: Flask) -> None:
    """Sessions: cookie settings, the login manager, the idle timeout and the absolute lifetime."""
    app.config.setdefault("IDLE_TIMEOUT_MINUTES", 30)
    app.config.setdefault("ABSOLUTE_SESSION_HOURS", 10)  # a working day
    app.config.setdefault("MFA_REQUIRED_ROLES", "admin,coordinator")
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.session_interface = SessionCookies()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.session_protection = None  # sessions end by token, idle timeout and absolute lifetime instead

    @app.before_request
    def end_expired_sessions() -> Any:
        if not current_user.is_authenticated or g.get(TOKEN) is not None:
            return None  # (a token's life is its own: it expires, or its owner revokes it)
        now = int(time.time())
        why = expired_because(now)
        if why is not None:
            logout_user()
            session.clear()
            flash(why, "info")
            response = redirect(url_for("accounts.sign_in"))
            response.headers.update(FORGET_KEPT_PAGES)
            return response
        session["seen"] = now
        note_activity(now)
        return None

    @app.before_request
    def second_factor_first() -> Any:
        # A role that must have a second factor does nothing else until it has one.
        # A token was made behind the second factor, so an API request has passed it.
        if (
            current_user.is_authenticated
            and g.get(TOKEN) is None
            and current_user.totp_secret is None
            and request.endpoint not in SETTING_UP
            and second_factor.required(current_user)
        ):
            flash("Your role needs a second factor at sign-in: set it up to go on.", "info")
            return redirect(url_for("accounts.two_factor"))
        return None


def expired_because(now: int) -> str | None:
    """Why the signed-in session must end now (past its absolute lifetime, or idle too long), or None."""
    config = current_app.config
    # A session from before sign-in times were kept counts from its first request since.
    began = session.setdefault("signed_in_at", now)
    hours = config["ABSOLUTE_SESSION_HOURS"]
    if now - began > float(hours) * 3600:
        return (
            f"You were signed out because you had been signed in for {_amount(hours, 'hour')}, the longest a session "
            "lasts. Sign in again to continue."
        )
    if now - session.get("seen", now) > float(config["IDLE_TIMEOUT_MINUTES"]) * 60:
        return "You were signed out after a period of inactivity. Sign in again to continue."
    return None


@dataclass(frozen=True)
class SessionLimits:
    """When the current session began and when it ends at the latest, for the account page."""

    signed_in_at: datetime.datetime
    ends_by: datetime.datetime
    idle_minutes: float
    absolute_hours: float


def session_limits() -> SessionLimits:
    """The current session's sign-in time and limits."""
    config = current_app.config
    began = datetime.datetime.fromtimestamp(session.get("signed_in_at", time.time()), datetime.UTC)
    hours = float(config["ABSOLUTE_SESSION_HOURS"])
    return SessionLimits(began, began + datetime.timedelta(hours=hours), config["IDLE_TIMEOUT_MINUTES"], hours)


def start_session(user: User) -> None:
    """A new session for a user who just signed in, so that nothing planted in the old one carries over; a row for it,
    for the page of where they are signed in (written with the request)."""
    session.clear()
    login_user(user)
    session["seen"] = session["signed_in_at"] = int(time.time())
    row = UserSession(
        user_id=user.id,
        token=user.session_token,
        user_agent=(request.user_agent.string or "")[:300],
        address=(request.remote_addr or "")[:64],
    )
    session_db = db.session()
    session_db.add(row)
    session_db.flush()
    session[SESSION_ROW] = row.id


def note_activity(now: int) -> None:
    """Keep the time the current session was last active, to the nearest SEEN_EVERY seconds: a write at most that
    often, in a short transaction of its own when the request only reads."""
    row: UserSession | None = g.get("user_session")
    if row is None or now - as_utc(row.last_seen_at).timestamp() < SEEN_EVERY:
        return
    if request.method not in db.SAFE_METHODS:
        row.last_seen_at = utcnow()  # with the request's own writes
        return
    with db.side_transaction() as writer:
        writer.execute(sa.update(UserSession).where(UserSession.id == row.id).values(last_seen_at=utcnow()))


SECOND_STEP = "second_step"  # the session's account waiting for its second factor, after the right password
SECOND_STEP_SECONDS = 300


def await_second_step(user: User, next_page: str | None) -> None:
    """The password was right and the account has a second factor: a fresh session that is not signed in, remembering
    for a few minutes whose code it waits for."""
    session.clear()
    session[SECOND_STEP] = {"user": user.id, "token": user.session_token, "at": int(time.time()), "next": next_page}


def pending_second_step(session_db: so.Session) -> tuple[User | None, str | None]:
    """The account this session waits for a code of, and where to go next; (None, None) when there is none, it waited
    too long, or the account was deactivated or signed out everywhere meanwhile."""
    pending = session.get(SECOND_STEP)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > SECOND_STEP_SECONDS:
        return None, None
    user = session_db.get(User, pending.get("user"))
    if user is None or not user.active or user.session_token != pending.get("token") or user.totp_secret is None:
        return None, None
    return user, pending.get("next")


@every_hour
def forget_old_sessions() -> None:
    """Delete the rows of sessions that cannot be alive any more (a day or the absolute lifetime without activity)."""
    hours = max(24.0, float(current_app.config["ABSOLUTE_SESSION_HOURS"]))
    with db.database().sessions.begin() as writer:
        writer.execute(
            sa.delete(UserSession).where(UserSession.last_seen_at < utcnow() - datetime.timedelta(hours=hours))
        )


def keep_this_session(user: User) -> None:
    """After the user's session token changed, keep the current session signed in with the new one (its sign-in time,
    and so its absolute lifetime, unchanged)."""
    login_user(user)
    row: UserSession | None = g.get("user_session")
    if row is not None:
        row.token = user.session_token


def check_sign_in(username: str, password: str, address: str) -> User | Refusal:
    """The active account this username and password sign in to, or why not.

    No transaction is open while argon2 runs, so that a failed sign-in never holds the database's write lock (on
    SQLite, the whole database): the account and the counts of failures are read in a read-only transaction that ends
    before the password is checked; a failure is then written in a short transaction of its own, kept whatever the
    request does next; only a success writes (failures from this address forgiven, an outdated hash replaced) in the
    request's transaction, which commits when the view returns.
    """
    # A signed-in browser's request has already read its account, in a write transaction on SQLite: end it first.
    db.keep_nothing()
    now = utcnow()
    with db.database().read_sessions() as reader:
        user = reader.scalar(sa.select(User).where(User.username == username))
        wait = sign_in_wait(reader, username, address, now)
    if wait:
        return Refusal(too_many(wait), throttled=True)
    password_ok = check_password(user.password_hash if user is not None else None, password)
    if user is None or not user.active or not password_ok:
        with db.side_transaction() as writer:
            record_failure(writer, username, address)
        return Refusal(GENERIC_FAILURE)
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None  # still outside any transaction
    session_db = db.session()
    current = session_db.get(User, user.id)
    if current is None or not current.active:
        return Refusal(GENERIC_FAILURE)  # deactivated while the password was checked
    forgive_failures(session_db, username, address)
    if new_hash is not None and current.password_hash == user.password_hash:  # unless a sign-in beside it rehashed it
        current.password_hash = new_hash
    return current


def sign_in_wait(reader: so.Session, username: str, address: str, now: datetime.datetime) -> datetime.timedelta:
    """How much longer sign-in for this username from this address must wait; zero when it may go ahead."""
    since = now - ADDRESS_WINDOW
    here_lately = sa.case((sa.and_(LoginFailure.address == address, LoginFailure.at >= since), 1), else_=0)
    failures, last, here = reader.execute(
        sa.select(sa.func.count(), sa.func.max(LoginFailure.at), sa.func.coalesce(sa.func.sum(here_lately), 0)).where(
            LoginFailure.username == username, LoginFailure.at >= now - FAILURE_MEMORY
        )
    ).one()
    wait = _remaining(last, wait_after(failures, FREE_FAILURES), now)
    if here >= NOISY_ADDRESS_FREE_FAILURES:
        from_address, last_from_address = reader.execute(
            sa.select(sa.func.count(), sa.func.max(LoginFailure.at)).where(
                LoginFailure.address == address, LoginFailure.at >= since
            )
        ).one()
        wait = max(wait, _remaining(last_from_address, wait_after(from_address, ADDRESS_FREE_FAILURES), now))
    return wait


def account_wait(reader: so.Session, username: str, now: datetime.datetime) -> datetime.timedelta:
    """How much longer any password attempt for this account must wait, from whatever address; zero when it may go
    ahead."""
    failures, last = reader.execute(
        sa.select(sa.func.count(), sa.func.max(LoginFailure.at)).where(
            LoginFailure.username == username, LoginFailure.at >= now - FAILURE_MEMORY
        )
    ).one()
    return _remaining(last, wait_after(failures, FREE_FAILURES), now)


def wait_after(failures: int, free: int) -> datetime.timedelta:
    """The wait after the latest of `failures`: none while they are fewer than `free`, then FIRST_WAIT, doubling with
    each further failure, never more than LONGEST_WAIT."""
    if failures < free:
        return datetime.timedelta(0)
    return min(FIRST_WAIT * 2 ** min(failures - free, 16), LONGEST_WAIT)


def record_failure(session_db: so.Session, username: str, address: str) -> None:
    """Count a wrong password against the username and the address; forget failures older than FAILURE_MEMORY."""
    now = utcnow()
    session_db.add(LoginFailure(username=username, address=address, at=now))
    session_db.execute(sa.delete(LoginFailure).where(LoginFailure.at < now - FAILURE_MEMORY))


def forgive_failures(session_db: so.Session, username: str, address: str) -> None:
    """After the right password, forget the username's failures from this address (its owner's typing errors); those
    from other addresses still count."""
    session_db.execute(
        sa.delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.address == address)
    )


def too_many(wait: datetime.timedelta) -> str:
    """The refusal of an attempt that must wait, saying how long."""
    seconds = math.ceil(wait.total_seconds())
    how_long = _amount(seconds, "second") if seconds < 60 else _amount(math.ceil(seconds / 60), "minute")
    return f"{TOO_MANY} Try again in {how_long}."


def _remaining(last: datetime.datetime | None, wait: datetime.timedelta, now: datetime.datetime) -> datetime.timedelta:
    if last is None or not wait:
        return datetime.timedelta(0)
    return max(as_utc(last) + wait - now, datetime.timedelta(0))


def _amount(number: float, unit: str) -> str:
    return f"{number:g} {unit}{'' if number == 1 else 's'}"


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path of this site, else None: sign-in must never bounce a user to another site.

    Browsers drop tabs and newlines anywhere in a URL, strip spaces and control characters from its ends and read a
    backslash as a slash, so `/<tab>/evil.example` and `/\\evil.example` both lead to evil.example, and a newline
    cannot go in a header at all. A target with any such character is refused, not cleaned. What remains must be a bare
    path: one leading slash, no scheme, no host, and still no second leading slash once its path is percent-decoded.
    """
    if not target or len(target) > 2048 or any(_unsafe(ch) for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    decoded = unquote(parts.path)
    if decoded.startswith("//") or any(_unsafe(ch) for ch in decoded):
        return None
    return target


def _unsafe(ch: str) -> bool:
    return ch == "\\" or ch.isspace() or unicodedata.category(ch) == "Cc"
