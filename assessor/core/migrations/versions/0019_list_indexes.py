"""indexes for each sort of the enrolment lists

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

An enrolment list pages by its sort key (keyset pagination): with an index on each sort's columns, a page deep in a
list of 200,000 enrolments reads about a page of rows instead of sorting them all.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_user_account_search_name_id", "user_account", ["search_name", "id"])
    op.create_index("ix_enrolment_progress_percent", "enrolment_progress", ["percent", "enrolment_id"])
    op.create_index("ix_enrolment_progress_outstanding", "enrolment_progress", ["outstanding", "enrolment_id"])
    # NULL (no evidence yet) sorts first: SQLite's indexes put it there already, PostgreSQL's must be told.
    dialect = op.get_context().dialect.name
    first = sa.text("last_evidence NULLS FIRST") if dialect == "postgresql" else "last_evidence"
    op.create_index(f"ix_enrolment_progress_last_evidence_{dialect}", "enrolment_progress", [first, "enrolment_id"])


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    op.drop_index(f"ix_enrolment_progress_last_evidence_{dialect}", table_name="enrolment_progress")
    op.drop_index("ix_enrolment_progress_outstanding", table_name="enrolment_progress")
    op.drop_index("ix_enrolment_progress_percent", table_name="enrolment_progress")
    op.drop_index("ix_user_account_search_name_id", table_name="user_account")
