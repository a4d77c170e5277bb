"""group observations

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

One activity observed for several trainees at once; each trainee's part is a piece of evidence that points to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("unit_version_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohort.id"], name=op.f("fk_group_observation_cohort_id_cohort")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_group_observation_recorded_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["unit_version_id"], ["unit_version.id"], name=op.f("fk_group_observation_unit_version_id_unit_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_observation")),
        sa.UniqueConstraint("submission", name=op.f("uq_group_observation_submission")),
    )
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("group_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_evidence_group_id"), ["group_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_evidence_group_id_group_observation"), "group_observation", ["group_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_constraint(batch.f("fk_evidence_group_id_group_observation"), type_="foreignkey")
        batch.drop_index(batch.f("ix_evidence_group_id"))
        batch.drop_column("group_id")
    op.drop_table("group_observation")
