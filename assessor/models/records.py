"""Completion records and their revocations, and credits recorded for units achieved elsewhere: never deleted."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.models.accounts import User
from assessor.models.columns import Timestamp, utcnow
from assessor.models.enrolments import Enrolment


class CompletionRecord(Base):
    """The signed-off result of an enrolment. Never updated or deleted; revoked only by a Revocation."""

    __tablename__ = "completion_record"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id"), index=True)
    result: so.Mapped[str] = so.mapped_column(sa.String(64))
    declared_valid: so.Mapped[bool]
    declared_sufficient: so.Mapped[bool]
    declared_authentic: so.Mapped[bool]
    declared_current: so.Mapped[bool]
    assessor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    signed_on: so.Mapped[datetime.date]
    signed_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    snapshot: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    verification_code: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The quality assurer who countersigned it, where its unit needs a countersignature before a record is issued.
    countersigned_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))

    enrolment: so.Mapped[Enrolment] = so.relationship(back_populates="completion_records")
    assessor: so.Mapped[User] = so.relationship(foreign_keys=[assessor_id])
    countersigned_by: so.Mapped[User | None] = so.relationship(foreign_keys=[countersigned_by_id])
    revocation: so.Mapped[Revocation | None] = so.relationship(back_populates="record")

    __table_args__ = (
        sa.CheckConstraint(
            "declared_valid AND declared_sufficient AND declared_authentic AND declared_current",
            name="declaration_complete",
        ),
    )


class Revocation(Base):
    """Why, when and by whom a completion record was revoked."""

    __tablename__ = "revocation"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    record_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("completion_record.id"), unique=True)
    revoked_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    revoked_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    reason: so.Mapped[str] = so.mapped_column(sa.Text)

    record: so.Mapped[CompletionRecord] = so.relationship(back_populates="revocation")
    revoked_by: so.Mapped[User] = so.relationship()


class Credit(Base):
    """A unit the trainee holds without assessment here (credit transfer, recognition of prior learning, a record
    from another organisation), recorded so that units requiring it can be signed off. Withdrawn, with why, rather
    than deleted."""

    __tablename__ = "credit"
    # One standing credit per trainee and unit (whatever its case): the same form sent twice records it once.
    __table_args__ = (
        sa.Index(
            "uq_credit_standing",
            "trainee_id",
            "unit_key",
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    trainee_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    unit: so.Mapped[str] = so.mapped_column(sa.String(64))  # the publisher's code or catalogue id, as required
    unit_key: so.Mapped[str] = so.mapped_column(sa.String(64))  # the same in lower case, for the standing check
    awarded_on: so.Mapped[datetime.date]
    source: so.Mapped[str] = so.mapped_column(sa.Text)  # where it was achieved and what was seen of it
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    withdrawn_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    withdrawn_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    withdrawn_because: so.Mapped[str | None] = so.mapped_column(sa.Text)

    recorded_by: so.Mapped[User] = so.relationship(foreign_keys=[recorded_by_id])


class LogbookEntry(Base):
    """Hours of work the trainee logged toward a unit that asks for them, verified (or not yet) by an assessor."""

    __tablename__ = "logbook_entry"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id"), index=True)
    worked_on: so.Mapped[datetime.date]
    minutes: so.Mapped[int]
    description: so.Mapped[str] = so.mapped_column(sa.Text)
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    # The random token of the form it came from: the same form sent twice logs it once.
    submission: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    verified_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    verified_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)

    recorded_by: so.Mapped[User] = so.relationship(foreign_keys=[recorded_by_id])
    verified_by: so.Mapped[User | None] = so.relationship(foreign_keys=[verified_by_id])
