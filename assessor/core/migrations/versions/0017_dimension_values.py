"""what an occasion was with

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

Evidence keeps the value of each dimension a criterion's occasions must differ in (the person supported, the
workplace), with its kinds, so progress can count different values and the quotas among them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("dimensions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("dimensions")
