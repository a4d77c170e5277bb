"""unit status

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

A unit version's status (current, superseded, deleted) changes after its text is loaded, kept apart from the frozen
text and its hash: each change appended, the latest one in force.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("replaced_by", sa.String(length=200), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["user_account.id"], name=op.f("fk_unit_status_changed_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["unit_version_id"], ["unit_version.id"], name=op.f("fk_unit_status_unit_version_id_unit_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_status")),
    )
    op.create_index(op.f("ix_unit_status_unit_version_id"), "unit_status", ["unit_version_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_unit_status_unit_version_id"), table_name="unit_status")
    op.drop_table("unit_status")
