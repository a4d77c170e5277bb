"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Audit events, completion records and revocations are append-only: a trigger on
each refuses UPDATE and DELETE on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort")),
        sa.UniqueConstraint("name", name=op.f("uq_cohort_name")),
    )
    op.create_table(
        "unit_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("framework", sa.String(length=32), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_version")),
        sa.UniqueConstraint("unit_id", "version", name=op.f("uq_unit_version_unit_id_version")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "coordinator",
                "assessor",
                "trainee",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["user_account.id"], name=op.f("fk_audit_event_actor_id_user_account")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "cohort_coordinator",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_cohort_coordinator_cohort_id_cohort"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_cohort_coordinator_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", name=op.f("pk_cohort_coordinator")),
    )
    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("unit_version_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "ready_for_sign_off",
                "completed",
                "withdrawn",
                name="enrolment_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohort.id"], name=op.f("fk_enrolment_cohort_id_cohort")),
        sa.ForeignKeyConstraint(["trainee_id"], ["user_account.id"], name=op.f("fk_enrolment_trainee_id_user_account")),
        sa.ForeignKeyConstraint(
            ["unit_version_id"], ["unit_version.id"], name=op.f("fk_enrolment_unit_version_id_unit_version")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
        sa.UniqueConstraint("trainee_id", "unit_version_id", name=op.f("uq_enrolment_trainee_id_unit_version_id")),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolment_trainee_id"), ["trainee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrolment_unit_version_id"), ["unit_version_id"], unique=False)

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "direct_observation",
                "questioning",
                "third_party_report",
                "work_product",
                "simulation",
                "recognised_prior_learning",
                name="evidence_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "context",
            sa.Enum(
                "workplace",
                "simulated_workplace",
                "off_the_job",
                name="evidence_context",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_trainee", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user_account.id"], name=op.f("fk_evidence_recorded_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["trainee_id"], ["user_account.id"], name=op.f("fk_evidence_trainee_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_trainee_id"), ["trainee_id"], unique=False)

    op.create_table(
        "acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("evidence_version", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"], name=op.f("fk_acknowledgement_evidence_id_evidence")),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["user_account.id"], name=op.f("fk_acknowledgement_trainee_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgement")),
        sa.UniqueConstraint(
            "evidence_id", "evidence_version", name=op.f("uq_acknowledgement_evidence_id_evidence_version")
        ),
    )
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"], name=op.f("fk_attachment_evidence_id_evidence")),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user_account.id"], name=op.f("fk_attachment_uploaded_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_attachment_stored_name")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachment_evidence_id"), ["evidence_id"], unique=False)

    op.create_table(
        "completion_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=64), nullable=False),
        sa.Column("declared_valid", sa.Boolean(), nullable=False),
        sa.Column("declared_sufficient", sa.Boolean(), nullable=False),
        sa.Column("declared_authentic", sa.Boolean(), nullable=False),
        sa.Column("declared_current", sa.Boolean(), nullable=False),
        sa.Column("assessor_id", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("verification_code", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "declared_valid AND declared_sufficient AND declared_authentic AND declared_current",
            name=op.f("ck_completion_record_declaration_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["assessor_id"], ["user_account.id"], name=op.f("fk_completion_record_assessor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_completion_record_enrolment_id_enrolment")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion_record")),
        sa.UniqueConstraint("verification_code", name=op.f("uq_completion_record_verification_code")),
    )
    with op.batch_alter_table("completion_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_completion_record_enrolment_id"), ["enrolment_id"], unique=False)

    op.create_table(
        "enrolment_assessor",
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
            name=op.f("fk_enrolment_assessor_enrolment_id_enrolment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_enrolment_assessor_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("enrolment_id", "user_id", name=op.f("pk_enrolment_assessor")),
    )
    with op.batch_alter_table("enrolment_assessor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_assessor_user_id"), ["user_id"], unique=False)

    op.create_table(
        "evidence_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column(
            "target_kind",
            sa.Enum("criterion", "item", name="target_kind", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column(
            "verdict",
            sa.Enum("satisfied", "not_yet", name="verdict", native_enum=False, create_constraint=True, length=32),
            nullable=True,
        ),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("judged_by_id", sa.Integer(), nullable=True),
        sa.Column("judged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"], ["enrolment.id"], name=op.f("fk_evidence_mapping_enrolment_id_enrolment")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["evidence.id"], name=op.f("fk_evidence_mapping_evidence_id_evidence")
        ),
        sa.ForeignKeyConstraint(
            ["judged_by_id"], ["user_account.id"], name=op.f("fk_evidence_mapping_judged_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_mapping")),
        sa.UniqueConstraint(
            "evidence_id", "enrolment_id", "target", name=op.f("uq_evidence_mapping_evidence_id_enrolment_id_target")
        ),
    )
    with op.batch_alter_table("evidence_mapping", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_mapping_enrolment_id"), ["enrolment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_mapping_evidence_id"), ["evidence_id"], unique=False)

    op.create_table(
        "revocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("revoked_by_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["completion_record.id"], name=op.f("fk_revocation_record_id_completion_record")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["user_account.id"], name=op.f("fk_revocation_revoked_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation")),
        sa.UniqueConstraint("record_id", name=op.f("uq_revocation_record_id")),
    )

    create_append_only_triggers()


def downgrade() -> None:
    drop_append_only_triggers()
    op.drop_table("revocation")
    with op.batch_alter_table("evidence_mapping", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_mapping_evidence_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_mapping_enrolment_id"))

    op.drop_table("evidence_mapping")
    with op.batch_alter_table("enrolment_assessor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_assessor_user_id"))

    op.drop_table("enrolment_assessor")
    with op.batch_alter_table("completion_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_completion_record_enrolment_id"))

    op.drop_table("completion_record")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_evidence_id"))

    op.drop_table("attachment")
    op.drop_table("acknowledgement")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_trainee_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_unit_version_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_trainee_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_cohort_id"))

    op.drop_table("enrolment")
    op.drop_table("cohort_coordinator")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_entity")

    op.drop_table("audit_event")
    op.drop_table("user_account")
    op.drop_table("unit_version")
    op.drop_table("cohort")


APPEND_ONLY = ("audit_event", "completion_record", "revocation")


def create_append_only_triggers() -> None:
    """Refuse UPDATE and DELETE on the tables that hold legal records."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
            END $$
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
            )
        return
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
            )


def drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION refuse_change()")
        return
    for table in APPEND_ONLY:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{action}")
