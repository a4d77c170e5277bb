"""rows an import is still writing

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

An import writes its trainees, cohorts and enrolments in batches, each a short transaction of its own, so that it never
holds the write lock for long. Until the import is done its rows carry its id, and nothing but the import sees them;
the transaction that finishes it clears the mark. A small partial index finds the rows of one import.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = ("user_account", "cohort", "enrolment")
PENDING = sa.text("pending_import_id IS NOT NULL")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("pending_import_id", sa.Integer(), nullable=True))
        op.create_index(
            f"ix_{table}_pending_import_id",
            table,
            ["pending_import_id"],
            unique=False,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )


def downgrade() -> None:
    # Without the mark, the rows of an import still being written would show, half an import: refuse instead.
    for table in TABLES:
        if op.get_bind().scalar(sa.text(f"SELECT count(*) FROM {table} WHERE pending_import_id IS NOT NULL")):
            raise RuntimeError(f"an import is still writing rows of {table}; let it finish (or fail) first")
    for table in TABLES:
        op.drop_index(f"ix_{table}_pending_import_id", table_name=table)
        # Not a batch: on SQLite that rebuilds user_account and loses the triggers that keep its name index (0020).
        op.execute(f"ALTER TABLE {table} DROP COLUMN pending_import_id")
