"""quality assurance

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

The quality assurer's role; sampling plans, the enrolments sampled and the decisions on them; the units whose
completion records a quality assurer countersigns, and who countersigned a record.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROLES = ("admin", "coordinator", "assessor", "trainee")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _roles(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("ck_user_account_role"), type_="check")
        batch.create_check_constraint("role", sa.column("role").in_(roles))


def upgrade() -> None:
    _roles((*ROLES, "quality_assurer"))
    # Added in place, never by copying the table: a copy on SQLite would lose the triggers that keep it append-only.
    foreign_key = "fk_completion_record_countersigned_by_id_user_account"
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("completion_record", sa.Column("countersigned_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(foreign_key), "completion_record", "user_account", ["countersigned_by_id"], ["id"])
    else:
        op.execute(
            "ALTER TABLE completion_record ADD COLUMN countersigned_by_id INTEGER "
            f"CONSTRAINT {foreign_key} REFERENCES user_account (id)"
        )
    stage = ("interim", "summative")
    op.create_table(
        "sampling_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("basis", _enum("plan_basis", "assessor_rate", "validation", "moderation"), nullable=False),
        sa.Column("stage", _enum("sample_stage", *stage), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("assessor_percent", sa.Integer(), nullable=False),
        sa.Column("unit_percent", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Integer(), nullable=False),
        sa.Column("margin", sa.Integer(), nullable=False),
        sa.Column("per_standard", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_sampling_plan_created_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sampling_plan")),
    )
    op.create_table(
        "sample_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("stage", _enum("sample_stage", *stage), nullable=False),
        sa.Column("state", _enum("review_state", "proposed", "under_review", "actions_open", "closed"), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("declined_because", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["sampling_plan.id"], name=op.f("fk_sample_review_plan_id_sampling_plan")),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_sample_review_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["user_account.id"], name=op.f("fk_sample_review_added_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"], ["user_account.id"], name=op.f("fk_sample_review_closed_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["user_account.id"], name=op.f("fk_sample_review_requested_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["completion_record.id"], name=op.f("fk_sample_review_record_id_completion_record")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sample_review")),
        sa.UniqueConstraint("plan_id", "enrolment_id", name=op.f("uq_sample_review_plan_id_enrolment_id")),
    )
    op.create_index("ix_sample_review_plan_id", "sample_review", ["plan_id"], unique=False)
    op.create_index("ix_sample_review_enrolment_id", "sample_review", ["enrolment_id"], unique=False)
    under_way = sa.text("plan_id IS NULL AND state IN ('under_review', 'actions_open')")
    op.create_index(
        "uq_sample_review_countersigning",
        "sample_review",
        ["enrolment_id"],
        unique=True,
        sqlite_where=under_way,
        postgresql_where=under_way,
    )
    op.create_table(
        "review_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=True),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.Column("outcome", _enum("review_outcome", "agree", "act", "disagree"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", _enum("action_state", "open", "done", "confirmed"), nullable=True),
        sa.Column("action_note", sa.Text(), nullable=False),
        sa.Column("sent_back_because", sa.Text(), nullable=True),
        sa.Column("acted_by_id", sa.Integer(), nullable=True),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["sample_review.id"], name=op.f("fk_review_decision_review_id_sample_review")
        ),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"], name=op.f("fk_review_decision_evidence_id_evidence")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user_account.id"], name=op.f("fk_review_decision_decided_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["acted_by_id"], ["user_account.id"], name=op.f("fk_review_decision_acted_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["user_account.id"], name=op.f("fk_review_decision_confirmed_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decision")),
    )
    op.create_index("ix_review_decision_review_id", "review_decision", ["review_id"], unique=False)
    op.create_table(
        "countersign_rule",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["user_account.id"], name=op.f("fk_countersign_rule_set_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_countersign_rule")),
    )


def downgrade() -> None:
    op.drop_table("countersign_rule")
    op.drop_index("ix_review_decision_review_id", table_name="review_decision")
    op.drop_table("review_decision")
    op.drop_index("uq_sample_review_countersigning", table_name="sample_review")
    op.drop_index("ix_sample_review_enrolment_id", table_name="sample_review")
    op.drop_index("ix_sample_review_plan_id", table_name="sample_review")
    op.drop_table("sample_review")
    op.drop_table("sampling_plan")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_completion_record_countersigned_by_id_user_account"), "completion_record")
        op.drop_column("completion_record", "countersigned_by_id")
    else:  # SQLite drops a column with a foreign key only by copying the table, which loses its triggers: put them back
        with op.batch_alter_table("completion_record") as batch:
            batch.drop_column("countersigned_by_id")
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER completion_record_no_{action.lower()} BEFORE {action} ON completion_record "
                f"BEGIN SELECT RAISE(ABORT, 'completion_record is append-only: {action} refused'); END"
            )
    _roles(ROLES)  # fails while any quality assurer's account remains: change their role first
