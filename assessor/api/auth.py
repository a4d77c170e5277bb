"""Bearer tokens: an API request's personal access token, found good or refused, and its owner as the request's user.

Only requests to the API are read for a token, and they carry no cookie session (see `accounts.sessions`): a
browser's session never acts on the API, and a token never opens a page of the web.
"""

from __future__ import annotations

from flask import Flask, g, request

from assessor.access_tokens.operations import due_for_use, note_use, usable_token
from assessor.core import database as db
from assessor.core.access import TOKEN
from assessor.core.problems import REFUSED_TOKEN, is_api_request
from assessor.models import User, utcnow


def init_app(app: Flask) -> None:
    """Let Flask-Login find an API request's user from its bearer token."""
    app.login_manager.request_loader(user_of_token)  # type: ignore[attr-defined]


def user_of_token(_request: object) -> User | None:
    """The owner of the request's token, if it is good; why not, for the 401, if it is not."""
    if not is_api_request():
        return None
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = usable_token(db.session(), secret.strip())
    if token is None:
        g.setdefault(REFUSED_TOKEN, "The token is unknown, expired or revoked.")
        return None
    now = utcnow()
    if due_for_use(token, now):
        if request.method in db.SAFE_METHODS:
            with db.side_transaction() as writer:  # a read writes nothing else, and holds no write lock
                note_use(writer, token.id, now)
        else:
            note_use(db.session(), token.id, now)  # with the request's own writes
    setattr(g, TOKEN, token)
    return token.user
