"""The tokens page: each person makes personal access tokens for other systems, sees them with their last use, and
revokes them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from assessor.access_tokens.forms import TokenForm
from assessor.access_tokens.operations import create_token, revoke_token
from assessor.access_tokens.queries import tokens_of
from assessor.core import database as db
from assessor.core.access import SIGNED_IN, allow, me
from assessor.core.forms import show_problems
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import TokenScope
from assessor.models import utcnow
from assessor.models.columns import as_utc

bp = Blueprint("access_tokens", __name__, template_folder="templates")


def _page(form: TokenForm, secret: str | None = None) -> str:
    tokens = tokens_of(db.session(), me())
    now = utcnow()
    expired = {t.id for t in tokens if as_utc(t.expires_at) <= now}
    return render_template("access_tokens/tokens.html", form=form, tokens=tokens, expired=expired, secret=secret)


@bp.get("/account/tokens")
@allow(SIGNED_IN)
def tokens() -> str:
    """The user's tokens, with when each was last used, and the form for a new one."""
    return _page(TokenForm())


@bp.post("/account/tokens")
@allow(SIGNED_IN)
def create() -> Any:
    """Make a token and show its secret, this once."""
    form = TokenForm()
    if not form.validate_on_submit():
        db.keep_nothing()
        return _page(form), 400
    try:
        issued = create_token(db.session(), me(), form.name.data, TokenScope(form.scope.data), form.days.data)
    except InvalidInput as exc:
        db.keep_nothing()
        show_problems(form, exc.problems)
        return _page(form), 400
    # The page holds the secret: no referrer leaves it, and (signed in) it is never stored.
    return _page(TokenForm(formdata=None), issued.secret), 201, {"Referrer-Policy": "no-referrer"}


@bp.post("/account/tokens/<int:token_id>/revoke", endpoint="revoke")
@allow(SIGNED_IN)
def revoke_post(token_id: int) -> Response:
    """Revoke one of the user's tokens; anyone else's is not found."""
    token = revoke_token(db.session(), me(), token_id)
    flash(f"The token “{token.name}” is revoked: it no longer works.", "success")
    return redirect(url_for("access_tokens.tokens"))
