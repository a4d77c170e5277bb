"""Open Badges credentials issued from completion records: the signed document as issued, and its place in the
status list that revocation flips."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.models.accounts import User
from assessor.models.columns import Timestamp, utcnow
from assessor.models.records import CompletionRecord


class IssuedCredential(Base):
    """The one credential of a completion record, signed once and handed out as issued. Never updated or deleted:
    revoking the record sets its bit in the status list."""

    __tablename__ = "issued_credential"
    __table_args__ = (sa.UniqueConstraint("status_list", "status_index"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    record_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("completion_record.id"), unique=True)
    credential_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)  # urn:uuid:...
    status_list: so.Mapped[int]
    status_index: so.Mapped[int]
    public_key: so.Mapped[str] = so.mapped_column(sa.String(64))  # publicKeyMultibase of the key that signed it
    document: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    issued_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    issued_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)

    record: so.Mapped[CompletionRecord] = so.relationship()
    issued_by: so.Mapped[User] = so.relationship()
