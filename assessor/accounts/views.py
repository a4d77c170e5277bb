"""Signing in and out, and the administration of accounts."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from assessor.accounts.forms import SignInForm
from assessor.accounts.operations import set_active
from assessor.accounts.sessions import TOO_MANY, safe_next, sign_in_refusal
from assessor.core import database as db
from assessor.core.access import PUBLIC, SIGNED_IN, allow, me
from assessor.domain.errors import InvalidInput, NotFound
from assessor.domain.vocabulary import Role
from assessor.models import User

bp = Blueprint("accounts", __name__, template_folder="templates")


@bp.get("/sign-in")
@allow(PUBLIC)
def sign_in() -> Any:
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    return render_template("accounts/sign_in.html", form=SignInForm())


@bp.post("/sign-in")
@allow(PUBLIC)
def sign_in_post() -> Any:
    """Check the password, with throttling that holds across server processes."""
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form), 400
    username = form.username.data.strip().lower()
    session_db = db.session()
    user = session_db.scalar(sa.select(User).where(User.username == username))
    refusal = sign_in_refusal(session_db, user, username, form.password.data, request.remote_addr or "unknown")
    if refusal is not None:
        # The failure is kept (the view returns normally), so that it counts toward the throttle.
        form.form_errors.append(refusal)
        return render_template("accounts/sign_in.html", form=form), 429 if refusal == TOO_MANY else 401
    session.clear()  # a new session at sign-in
    login_user(user)
    session["seen"] = int(time.time())
    return redirect(safe_next(request.args.get("next")) or url_for("index"))


@bp.post("/sign-out")
@allow(SIGNED_IN)
def sign_out() -> Response:
    """End every session of the user, everywhere."""
    me().end_sessions()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.sign_in"))


@bp.get("/admin/users")
@allow(Role.ADMIN)
def users() -> str:
    """Every account, with its role and whether it is active."""
    accounts = db.session().scalars(sa.select(User).order_by(User.role, User.username)).all()
    return render_template("accounts/users.html", users=accounts)


@bp.post("/admin/users/<int:user_id>/active", endpoint="set_active")
@allow(Role.ADMIN)
def set_active_post(user_id: int) -> Response:
    """Deactivate or reactivate an account."""
    session_db = db.session()
    user = session_db.get(User, user_id)
    if user is None:
        raise NotFound("account")
    active = request.form.get("active") == "1"
    try:
        set_active(session_db, me(), user, active)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("accounts.users"))
    flash(f"{user.username} is {'active' if active else 'deactivated and signed out everywhere'}.", "success")
    return redirect(url_for("accounts.users"))
