"""daily digest

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

The daily e-mail of each person's to-do list: whether they want it (yes, unless they turn it off) and the day the
last one was done.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("digest_sent_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("digest_sent_on")
        batch.drop_column("digest")
