"""Signing in and out, and the administration of accounts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from assessor.accounts.forms import SignInForm
from assessor.accounts.operations import end_other_sessions, set_active
from assessor.accounts.sessions import (
    Refusal,
    check_sign_in,
    keep_this_session,
    safe_next,
    session_limits,
    start_session,
)
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
    return render_template("accounts/sign_in.html", form=SignInForm(), next=safe_next(request.args.get("next")))


@bp.post("/sign-in")
@allow(PUBLIC)
def sign_in_post() -> Any:
    """Check the password, with throttling that holds across server processes, and go on to `next` if it is a page of
    this site."""
    form = SignInForm()
    next_page = safe_next(request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form, next=next_page), 400
    outcome = check_sign_in(form.username.data.strip().lower(), form.password.data, request.remote_addr or "unknown")
    if isinstance(outcome, Refusal):
        form.form_errors.append(outcome.message)
        return render_template("accounts/sign_in.html", form=form, next=next_page), 429 if outcome.throttled else 401
    start_session(outcome)
    return redirect(next_page or url_for("index"))


@bp.post("/sign-out")
@allow(SIGNED_IN)
def sign_out() -> Response:
    """End every session of the user, everywhere."""
    me().end_sessions()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.sign_in"))


@bp.get("/account")
@allow(SIGNED_IN)
def account() -> str:
    """The signed-in user's own account: when this session began and ends, and signing out other sessions."""
    return render_template("accounts/account.html", limits=session_limits())


@bp.post("/account/sign-out-others", endpoint="sign_out_others")
@allow(SIGNED_IN)
def sign_out_others_post() -> Response:
    """End every other session of the user, on every other device; this one stays signed in."""
    user = me()
    end_other_sessions(db.session(), user)
    keep_this_session(user)
    flash("Your other sessions are signed out. This one stays signed in.", "success")
    return redirect(url_for("accounts.account"))


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
