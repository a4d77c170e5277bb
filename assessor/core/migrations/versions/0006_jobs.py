"""jobs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Work that outlasts a request (exports, imports, checking the audit trail) is a job: a row here, done by `assessor
worker`. The row is the truth; the queue that carries its id to a worker is huey's, kept apart (see core.jobs).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="job_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["user_account.id"], name=op.f("fk_job_owner_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_owner_id_id", "job", ["owner_id", "id"], unique=False)
    op.create_index("ix_job_status_lease_until", "job", ["status", "lease_until"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_job_status_lease_until", table_name="job")
    op.drop_index("ix_job_owner_id_id", table_name="job")
    op.drop_table("job")
