"""an index of the enrolments carried over to a later version

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-02

Every view of an enrolment page asks which earlier enrolments were carried over to it: with no index on
transferred_to_id, a scan of every enrolment, 19 ms at 100,000 trainees on PostgreSQL. A partial index holds only the
few that were carried over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TRANSFERRED = sa.text("transferred_to_id IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_enrolment_transferred_to_id",
        "enrolment",
        ["transferred_to_id"],
        sqlite_where=TRANSFERRED,
        postgresql_where=TRANSFERRED,
    )


def downgrade() -> None:
    op.drop_index("ix_enrolment_transferred_to_id", table_name="enrolment")
