"""E-mail: each message the app sends, kept until the SMTP server accepts it (or, with no SMTP server, in the
outbox for an administrator to read)."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.domain.vocabulary import MailStatus
from assessor.models.accounts import User
from assessor.models.columns import Timestamp, enum_column, utcnow


class MailMessage(Base):
    """One e-mail to one person. Its text may hold a single-use link, so it is dropped once the message is sent."""

    __tablename__ = "mail_message"
    __table_args__ = (sa.Index("ix_mail_message_to_user_id", "to_user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    to_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    to_address: so.Mapped[str] = so.mapped_column(sa.String(254))
    purpose: so.Mapped[str] = so.mapped_column(sa.String(64))  # the template it was written from
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    text_body: so.Mapped[str | None] = so.mapped_column(sa.Text)  # None once sent
    html_body: so.Mapped[str | None] = so.mapped_column(sa.Text)
    status: so.Mapped[MailStatus] = so.mapped_column(enum_column(MailStatus, "mail_status"), default=MailStatus.WAITING)
    job_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("job.id"))
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    sent_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)

    to_user: so.Mapped[User | None] = so.relationship()
