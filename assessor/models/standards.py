"""Unit versions as loaded, each with the exact text it was loaded from."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.models.columns import Timestamp, utcnow


class UnitVersion(Base):
    """One version of a unit standard as loaded, with its exact source text so records cite the words judged."""

    __tablename__ = "unit_version"
    __table_args__ = (sa.UniqueConstraint("unit_id", "version"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    version: so.Mapped[int]
    code: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(500))
    framework: so.Mapped[str] = so.mapped_column(sa.String(32))
    source_sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    source_text: so.Mapped[str] = so.mapped_column(sa.Text)
    loaded_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)

    @property
    def key(self) -> str:
        return f"{self.unit_id}@{self.version}"


class UnitStatus(Base):
    """A change to a unit version's status after its text was loaded: superseded by another unit since a date,
    deleted, or current again. Appended, never changed: the latest row is the version's status, the rows its
    history; a version without rows has the status its text was loaded with."""

    __tablename__ = "unit_status"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit_version.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(16))
    since: so.Mapped[datetime.date | None]
    replaced_by: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    changed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    changed_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
