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
