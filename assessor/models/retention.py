"""Legal holds: a trainee's or a cohort's evidence kept whatever its age, until the hold is released."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.models.accounts import User
from assessor.models.columns import Timestamp, utcnow
from assessor.models.enrolments import Cohort


class LegalHold(Base):
    """A hold on one trainee's evidence or one cohort's; released, never deleted."""

    __tablename__ = "legal_hold"
    __table_args__ = (
        sa.CheckConstraint("(trainee_id IS NULL) <> (cohort_id IS NULL)", name="one_subject"),
        sa.Index("ix_legal_hold_released_at", "released_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    trainee_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    cohort_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cohort.id"))
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    placed_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    placed_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    released_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    released_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    release_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)

    trainee: so.Mapped[User | None] = so.relationship(foreign_keys=[trainee_id])
    cohort: so.Mapped[Cohort | None] = so.relationship()
    placed_by: so.Mapped[User] = so.relationship(foreign_keys=[placed_by_id])
