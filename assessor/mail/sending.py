"""Writing an e-mail and sending it.

`write` renders a message's plain-text and HTML parts from `mail/<purpose>.txt` and `.html`, keeps it as a row of
`mail_message` in the caller's transaction and asks for a `mail.send` job, so that a request that keeps nothing sends
nothing, and the SMTP server's slowness or failure never holds up a page. The worker sends it over SMTP (with the job
queue's retries, their delay doubling), then drops its text: a message may hold a single-use link, and the database
need not keep it once it is on its way. Where no SMTP server is set (`MAIL_HOST` empty, as in the demo), the message
stays in the outbox, for an administrator to read in the app.

A message's Message-ID is made from its id, so that should the worker be killed between the SMTP server's acceptance
and the job's end, the message sent again carries the same Message-ID and mail programs show it once.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy.orm as so
from flask import Flask, current_app

from assessor.core.database import database
from assessor.core.jobs import Finish, Work, enqueue, handles
from assessor.domain.vocabulary import MailStatus
from assessor.models import MailMessage, User, utcnow

SEND = "mail.send"
SECURITY = ("starttls", "tls", "none")
SUBJECT_CHARS = 200


def init_app(app: Flask) -> None:
    """The SMTP settings (see the README), checked at start: a typo there would otherwise only show in the worker."""
    app.config.setdefault("MAIL_HOST", "")
    app.config.setdefault("MAIL_PORT", 587)
    app.config.setdefault("MAIL_SECURITY", "starttls")
    app.config.setdefault("MAIL_USERNAME", "")
    app.config.setdefault("MAIL_PASSWORD", "")
    app.config.setdefault("MAIL_SENDER", "Assessor <assessor@localhost>")
    app.config.setdefault("MAIL_TIMEOUT_SECONDS", 30)
    # Links in e-mails are made from this, never from the Host of the request that asked for them (a forged Host
    # would otherwise put an attacker's site in a password-reset link).
    app.config.setdefault("BASE_URL", "http://127.0.0.1:5000")
    base = urlsplit(app.config["BASE_URL"])
    if base.scheme not in ("http", "https") or not base.netloc or base.query or base.fragment:
        raise ValueError(
            f"BASE_URL must be the app's address, such as https://assessor.example.org, not {app.config['BASE_URL']!r}"
        )
    if app.config["MAIL_SECURITY"] not in SECURITY:
        raise ValueError(f"MAIL_SECURITY must be one of {', '.join(SECURITY)}, not {app.config['MAIL_SECURITY']!r}")
    if "@" not in parseaddr(app.config["MAIL_SENDER"])[1]:
        raise ValueError(f"MAIL_SENDER must be an e-mail address, not {app.config['MAIL_SENDER']!r}")


def write(session: so.Session, to: User, purpose: str, **context: Any) -> MailMessage | None:
    """Write the message `purpose` to `to` in the caller's transaction, and ask the worker to send it; None when the
    person has no e-mail address."""
    if not to.email:
        return None
    context |= {"to": to}
    subject = _render(f"mail/{purpose}.subject.txt", context).strip()[:SUBJECT_CHARS]
    message = MailMessage(
        to_user_id=to.id,
        to_address=to.email,
        purpose=purpose,
        subject=subject,
        text_body=_render(f"mail/{purpose}.txt", context),
        html_body=_render(f"mail/{purpose}.html", context | {"subject": subject}),
    )
    session.add(message)
    session.flush()
    message.job_id = enqueue(session, None, SEND, {"message": message.id}).id
    return message


def _render(name: str, context: dict[str, Any]) -> str:
    """A template of a message, with the app's filters but none of a page's context (no signed-in user: the worker
    writes messages too). HTML is escaped, plain text is not."""
    return current_app.jinja_env.get_template(name).render(context)


def link(endpoint: str, **values: Any) -> str:
    """The full address of a page of the app, for an e-mail, made from BASE_URL."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


@handles(SEND, "E-mail")
def deliver(work: Work) -> Finish:
    """Send one message over SMTP, or leave it in the outbox when no SMTP server is set."""
    message_id = int(work.params["message"])
    with database().read_sessions() as reader:
        message = reader.get(MailMessage, message_id)
        if message is None or message.status != MailStatus.WAITING:
            return lambda _session: {"message": message_id, "status": message.status if message else "gone"}
        config = current_app.config
        if config["MAIL_HOST"]:
            _send_over_smtp(as_email(message, config["MAIL_SENDER"]))
            status = MailStatus.SENT
        else:
            status = MailStatus.IN_OUTBOX

    def finish(session: so.Session) -> dict[str, Any]:
        kept = session.get(MailMessage, message_id)
        if kept is not None:
            kept.status = status
            if status == MailStatus.SENT:
                kept.sent_at = utcnow()
                kept.text_body = kept.html_body = None
        return {"message": message_id, "status": status.value}

    return finish


def as_email(message: MailMessage, sender: str) -> EmailMessage:
    """The message as MIME: plain text, with HTML as the alternative."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<assessor.mail.{message.id}.{int(message.created_at.timestamp())}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    email.set_content(message.text_body or "")
    if message.html_body:
        email.add_alternative(message.html_body, subtype="html")
    return email


def _send_over_smtp(email: EmailMessage) -> None:
    config = current_app.config
    host, port, timeout = config["MAIL_HOST"], int(config["MAIL_PORT"]), float(config["MAIL_TIMEOUT_SECONDS"])
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config["MAIL_SECURITY"] == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if config["MAIL_SECURITY"] == "starttls":
            smtp.starttls(context=context)
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(email)
