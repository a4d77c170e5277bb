"""Column types every model shares: enums stored as their values, timestamps in UTC."""

from __future__ import annotations

import datetime
import enum

import sqlalchemy as sa


def utcnow() -> datetime.datetime:
    """The current time in UTC (called per row, never once at import)."""
    return datetime.datetime.now(datetime.UTC)


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """A timestamp read back, in UTC: SQLite keeps timestamps without their zone, and they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def enum_column(kind: type[enum.StrEnum], name: str) -> sa.Enum:
    """An enum stored as its value in a VARCHAR with a CHECK constraint, the same on SQLite and PostgreSQL."""
    return sa.Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


Timestamp = sa.DateTime(timezone=True)


def pending_import_index(table: str) -> sa.Index:
    """The index of a table's rows that an import is still writing (see `models.pending`): only they are in it."""
    where = sa.text("pending_import_id IS NOT NULL")
    return sa.Index(f"ix_{table}_pending_import_id", "pending_import_id", sqlite_where=where, postgresql_where=where)
