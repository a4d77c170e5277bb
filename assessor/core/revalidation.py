"""Conditional GET for signed-in pages: a weak ETag worked out before the page is rendered, and 304 Not Modified with
no body when the browser already holds what the page would show.

The tag is a hash, keyed with the app's secret, of everything such a page can depend on:

- the records: the head of the audit trail, its last event's number and hash. Every change to a record a page shows
  is audited in the transaction that makes it, and events are appended one transaction at a time (an advisory lock
  on PostgreSQL, the write lock on SQLite), so the head moves whenever such a record does, and is read before the
  page so that the page is never older than its tag. The hash tells apart a trail restored from a backup and grown
  since to the same number.
- who is asking, and this sign-in: the account, its session token (signing out changes it), the row of this browser's
  session and when it signed in. No two people and no two sign-ins share a tag.
- the CSRF token in the page's forms: the session's own token, and the current slice of WTF_CSRF_TIME_LIMIT cut in
  CSRF_SLICES, so that a page the browser keeps carries a token at most one slice old, never one about to expire.
- today, on the server's clock and in UTC: to-do lists and quiet enrolments move with the date.
- the build: the package's files, the versions of what renders them, the Python and the settings.
- the address, with its query string (the sort, the filters, the page).

A pending flash message means no tag at all: it is shown once, on a page rendered afresh.

An answer of the JSON API is tagged the same way, with its personal access token (and scope) in place of the
browser's sign-in and CSRF token, which it has not.

Only a page whose whole content is covered may be `revalidated`: one showing anything kept outside the audited
records (jobs, the outbox, the browsers signed in, the digest setting, when a session was last seen) must not be.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import importlib.metadata
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from assessor.core import database as db
from assessor.core.access import TOKEN
from assessor.models import AuditEvent

View = TypeVar("View", bound=Callable[..., Any])

CSRF_SLICES = 12  # a kept page's token is at most a twelfth of its lifetime old: five minutes of the default hour
UNLIMITED_CSRF_SLICE = 3600  # seconds, when tokens never expire
RENDERERS = ("flask", "flask-wtf", "flask-login", "jinja2", "markupsafe", "werkzeug", "wtforms", "sqlalchemy")
PACKAGE = Path(__file__).resolve().parent.parent
KEPT = "revalidated"  # g: this response may be kept by the browser alone, which asks again before showing it
FLASHES = "_flashes"  # where flask keeps the messages not yet shown
AUDIT_HEAD = sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
# Sent when a sign-in ends: the pages this browser kept are gone with it, not left for the next person at the
# computer (browsers honour it over HTTPS).
FORGET_KEPT_PAGES = {"Clear-Site-Data": '"cache"'}


def init_app(app: Flask) -> None:
    """Fingerprint the build the tags are made with: the code, what renders it, and the settings."""
    settings = sorted((key, repr(value)) for key, value in app.config.items() if _plain(value))
    build = hashlib.sha256(_code_fingerprint().encode())
    build.update(repr(settings).encode())
    app.extensions["revalidation"] = build.hexdigest()


def revalidated(view: View) -> View:
    """Let a signed-in GET page answer 304 Not Modified to a browser that holds it as it is now; see the module."""

    @functools.wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Any:
        tag = page_tag()
        if tag is None:
            return view(*args, **kwargs)
        asked = request.if_none_match
        # Never "*": only a tag this page was served with answers 304, so a 304 shows no more than the page did.
        if asked.is_weak(tag) or asked.is_strong(tag):
            response = current_app.response_class(status=304)
        else:
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code != 200:
                return response
        response.set_etag(tag, weak=True)
        setattr(g, KEPT, True)
        return response

    return answer  # type: ignore[return-value]


def kept_by_browser() -> bool:
    """Whether this response carries a tag, and so may be kept by the browser (never by a shared cache)."""
    return bool(g.get(KEPT))


def page_tag() -> str | None:
    """The tag of the page this request asks for, before it is rendered; None when it must not have one."""
    if request.method not in ("GET", "HEAD") or not current_user.is_authenticated:
        return None
    token = g.get(TOKEN)
    if token is not None:
        # An API answer: no session, no CSRF token and no flash messages; the token stands for the sign-in.
        return _tag(token.id, token.scope.value, "token")
    if session.get(FLASHES):
        return None
    browser = g.get("user_session")
    if browser is None:
        return None
    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field not in session:
        generate_csrf()  # the token the page's forms will carry, made now so that the tag covers it
    if field not in session:  # a token kept for this context only (Flask-WTF keeps one in `g`): no tag covers it
        return None
    limit = config.get("WTF_CSRF_TIME_LIMIT", 3600)
    csrf_slice = max(1, int(limit) // CSRF_SLICES) if limit else UNLIMITED_CSRF_SLICE
    return _tag(browser.id, session.get("signed_in_at"), session[field], int(time.time()) // csrf_slice)


def _tag(*sign_in: object) -> str:
    """The tag of what this request would show to this person in this sign-in (`sign_in`: what sets it apart)."""
    # On the request's connection and in its transaction, past the ORM, which would triple the query's cost.
    seq, last_hash = db.session().connection().execute(AUDIT_HEAD).first() or (0, "")
    parts = (
        current_app.extensions["revalidation"],
        current_user.id,
        current_user.session_token,
        *sign_in,
        datetime.date.today().isoformat(),
        datetime.datetime.now(datetime.UTC).date().isoformat(),
        seq,
        last_hash,
        request.url,
    )
    message = "\x1f".join(str(part) for part in parts).encode()
    return hmac.new(_secret(current_app), message, hashlib.sha256).hexdigest()


def _secret(app: Flask) -> bytes:
    key = app.secret_key
    return key if isinstance(key, bytes) else str(key).encode()


def _plain(value: object) -> bool:
    """Whether a setting's repr is the same in every process (so that every worker makes the same tags)."""
    if isinstance(value, tuple | list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool | datetime.timedelta)


@functools.cache
def _code_fingerprint() -> str:
    """The package's files and the versions of the libraries that render its pages: a deploy changes it."""
    digest = hashlib.sha256(platform.python_version().encode())
    for name in RENDERERS:
        digest.update(f"{name}={importlib.metadata.version(name)}".encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
