"""carry-over to a newer version of a unit

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

An open enrolment moves to a newer version of its unit: the earlier one closes as transferred and points at the one
that carries on, and each mapping copied to it points at the mapping it was copied from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BEFORE = ("active", "ready_for_sign_off", "completed", "withdrawn")
AFTER = (*BEFORE, "transferred")


def _statuses(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("enrolment") as batch:
        batch.add_column(sa.Column("transferred_to_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_enrolment_transferred_to_id_enrolment"), "enrolment", ["transferred_to_id"], ["id"]
        )
        batch.drop_constraint(batch.f("ck_enrolment_enrolment_status"), type_="check")
        batch.create_check_constraint(batch.f("ck_enrolment_enrolment_status"), _statuses(AFTER))
    with op.batch_alter_table("evidence_mapping") as batch:
        batch.add_column(sa.Column("carried_from_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_evidence_mapping_carried_from_id_evidence_mapping"),
            "evidence_mapping",
            ["carried_from_id"],
            ["id"],
        )


def downgrade() -> None:
    # Where moved enrolments went cannot be kept without these columns: refuse rather than lose it.
    connection = op.get_bind()
    if connection.scalar(sa.text("SELECT count(*) FROM enrolment WHERE status = 'transferred'")):
        raise RuntimeError("enrolments have moved to newer unit versions; a downgrade would lose where they went")
    with op.batch_alter_table("evidence_mapping") as batch:
        batch.drop_constraint(batch.f("fk_evidence_mapping_carried_from_id_evidence_mapping"), type_="foreignkey")
        batch.drop_column("carried_from_id")
    with op.batch_alter_table("enrolment") as batch:
        batch.drop_constraint(batch.f("ck_enrolment_enrolment_status"), type_="check")
        batch.create_check_constraint(batch.f("ck_enrolment_enrolment_status"), _statuses(BEFORE))
        batch.drop_constraint(batch.f("fk_enrolment_transferred_to_id_enrolment"), type_="foreignkey")
        batch.drop_column("transferred_to_id")
