"""Administration: accounts."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from assessor import db
from assessor import operations as ops
from assessor.access import allow, me
from assessor.labels import ROLE
from assessor.models import Role, User

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@allow(Role.ADMIN)
def users() -> str:
    """Every account, with its role and whether it is active."""
    accounts = db.session().scalars(sa.select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=accounts, roles=ROLE)


@bp.post("/users/<int:user_id>/active")
@allow(Role.ADMIN)
def set_active(user_id: int) -> Response:
    """Deactivate or reactivate an account."""
    session = db.session()
    user = session.get(User, user_id) or abort(404)
    active = request.form.get("active") == "1"
    try:
        ops.set_active(session, me(), user, active)
    except ops.InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.users"))
    flash(f"{user.username} is {'active' if active else 'deactivated and signed out everywhere'}.", "success")
    return redirect(url_for("admin.users"))
