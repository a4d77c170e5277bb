"""Jobs: work that outlasts a request, done by the worker, with its progress, attempts and outcome."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.domain.vocabulary import JobStatus
from assessor.models.accounts import User
from assessor.models.columns import Timestamp, enum_column, utcnow


class Job(Base):
    """One piece of work for the worker. The row is the truth: the queue only carries its id to a worker."""

    __tablename__ = "job"
    __table_args__ = (
        sa.Index("ix_job_status_lease_until", "status", "lease_until"),
        sa.Index("ix_job_owner_id_id", "owner_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(64))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    owner_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    status: so.Mapped[JobStatus] = so.mapped_column(enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    # Queued: a worker should have taken it by then, else it is sent again. Running: its worker is presumed dead after.
    lease_until: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    done: so.Mapped[int] = so.mapped_column(default=0)  # progress: units of work done, of `total`
    total: so.Mapped[int | None]
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)  # the last attempt's, when it failed
    result: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    started_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    finished_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)

    owner: so.Mapped[User | None] = so.relationship()
