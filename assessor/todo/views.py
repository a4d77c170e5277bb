"""Turning the daily to-do e-mail on and off."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from assessor.core import database as db
from assessor.core.access import SIGNED_IN, allow, me
from assessor.todo import digest  # noqa: F401  (registers the daily chore)

bp = Blueprint("todo", __name__, template_folder="templates")


@bp.post("/account/digest", endpoint="digest")
@allow(SIGNED_IN)
def digest_post() -> Response:
    """Turn the daily e-mail of one's to-do list on or off."""
    user = me()
    user.digest = request.form.get("digest") == "1"
    db.session().flush()
    flash(
        "You will get a daily e-mail when something waits for you."
        if user.digest
        else "You will get no daily e-mail; your to-do list stays on your home page.",
        "success",
    )
    return redirect(url_for("accounts.account"))
