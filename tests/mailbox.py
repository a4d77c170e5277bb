"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), keeping every message it receives."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.server import free_port

USERNAME, PASSWORD = "assessor-mailer", "smtp secret"


class Mailbox:
    """What the SMTP server received: each message parsed, with its envelope's recipients."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.logins: list[str] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10, to: str | None = None) -> list[EmailMessage]:
        """The first `count` messages (to `to` only, where given: the worker's hourly digests may arrive between),
        waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(found := [m for m in self.messages if to is None or m["To"] == to]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(found)} message(s) arrived, not {count}")
                self._arrived.wait(left)
            return found[:count]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USERNAME.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins.append(USERNAME)
        return AuthResult(success=ok)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An SMTP server on a free port that offers a login and checks it."""
    mailbox = Mailbox(free_port())
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        authenticator=mailbox.authenticate,
        auth_require_tls=False,  # AUTH offered, and checked, without TLS: it is a test on 127.0.0.1
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def link_in(message: EmailMessage) -> str:
    """The path of the one link the plain-text part of a message holds."""
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    links = re.findall(r"https?://\S+", text)
    assert len(links) == 1, links
    return links[0]


def mail_settings(port: int) -> dict[str, str]:
    """The app's settings to send through the test server on `port`."""
    return {
        "MAIL_HOST": "127.0.0.1",
        "MAIL_PORT": str(port),
        "MAIL_SECURITY": "none",
        "MAIL_USERNAME": USERNAME,
        "MAIL_PASSWORD": PASSWORD,
        "MAIL_SENDER": "Assessor <records@assessor.example>",
        "BASE_URL": "https://assessor.example",
    }
