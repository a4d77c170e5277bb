"""The outbox: every e-mail the app wrote, for an administrator; the text of those not sent (with no SMTP server set,
all of them) can be read here."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request

from assessor.core import database as db
from assessor.core.access import allow
from assessor.domain.errors import NotFound
from assessor.domain.vocabulary import Role
from assessor.mail import sending  # noqa: F401  (registers the job that sends e-mail)
from assessor.models import MailMessage

bp = Blueprint("mail", __name__, template_folder="templates")

PER_PAGE = 50


@bp.get("/admin/outbox")
@allow(Role.ADMIN)
def outbox() -> str:
    """Messages, newest first."""
    before = request.args.get("before", type=int)
    query = sa.select(MailMessage).order_by(MailMessage.id.desc()).limit(PER_PAGE + 1)
    if before is not None:
        query = query.where(MailMessage.id < before)
    found = db.session().scalars(query).all()
    more = found[PER_PAGE - 1].id if len(found) > PER_PAGE else None
    return render_template("mail/outbox.html", messages=found[:PER_PAGE], more=more)


@bp.get("/admin/outbox/<int:message_id>")
@allow(Role.ADMIN)
def message(message_id: int) -> tuple[str, int, dict[str, str]]:
    """One message, with its text while it is kept."""
    found = db.session().get(MailMessage, message_id)
    if found is None:
        raise NotFound("message")
    return render_template("mail/message.html", message=found), 200, {"Referrer-Policy": "no-referrer"}
