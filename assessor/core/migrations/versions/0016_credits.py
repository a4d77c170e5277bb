"""credits for prerequisites

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

A unit the trainee holds without assessment here, recorded so that units requiring it can be signed off.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("unit_key", sa.String(length=64), nullable=False),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_because", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_credit_recorded_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["trainee_id"], ["user_account.id"], name=op.f("fk_credit_trainee_id_user_account")),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"], ["user_account.id"], name=op.f("fk_credit_withdrawn_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit")),
    )
    op.create_index(op.f("ix_credit_trainee_id"), "credit", ["trainee_id"], unique=False)
    op.create_index(
        "uq_credit_standing",
        "credit",
        ["trainee_id", "unit_key"],
        unique=True,
        sqlite_where=sa.text("withdrawn_at IS NULL"),
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    )


def downgrade() -> None:
    # Credits cannot be kept without their table: refuse rather than lose what a coordinator recorded.
    if op.get_bind().scalar(sa.text("SELECT count(*) FROM credit")):
        raise RuntimeError("credits are recorded; a downgrade would lose them")
    op.drop_index("uq_credit_standing", table_name="credit")
    op.drop_index(op.f("ix_credit_trainee_id"), table_name="credit")
    op.drop_table("credit")
