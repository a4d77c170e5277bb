"""logbook of hours

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

Hours of work a trainee logs toward a unit that asks for them ("at least 120 hours of work in an aged care
setting"), each verified by an assessor before it counts toward sign-off.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logbook_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("worked_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission", sa.String(length=32), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_logbook_entry_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_logbook_entry_recorded_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"], ["user_account.id"], name=op.f("fk_logbook_entry_verified_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logbook_entry")),
        sa.UniqueConstraint("submission", name=op.f("uq_logbook_entry_submission")),
    )
    op.create_index(op.f("ix_logbook_entry_enrolment_id"), "logbook_entry", ["enrolment_id"], unique=False)


def downgrade() -> None:
    # Logged hours cannot be kept without their table: refuse rather than lose them.
    if op.get_bind().scalar(sa.text("SELECT count(*) FROM logbook_entry")):
        raise RuntimeError("hours are logged; a downgrade would lose them")
    op.drop_index(op.f("ix_logbook_entry_enrolment_id"), table_name="logbook_entry")
    op.drop_table("logbook_entry")
