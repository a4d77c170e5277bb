"""the submission token of the form evidence came from

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02

The record-evidence form sent twice (a double click, a retried request) recorded the evidence twice. Like the logbook
and group observations, evidence now keeps its form's random token, unique, so the second sending finds the first.
Evidence recorded before has none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("submission", sa.String(length=32), nullable=True))
        batch.create_unique_constraint(op.f("uq_evidence_submission"), ["submission"])


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.drop_constraint(op.f("uq_evidence_submission"), type_="unique")
        batch.drop_column("submission")
