"""retention

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Evidence whose time has passed has its narrative and attachments erased (`assessor retention`): the evidence row and
each attachment row say when, and why. Legal holds keep a trainee's or a cohort's evidence whatever its age.

Audit events stay append-only, with one exception: an erasure rewrites the `before` and `after` of the events that held
the erased content (each value replaced by its SHA-256) and vouches for them in its own keyed event. The trigger now
refuses DELETE, and any UPDATE that touches another column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Every column of audit_event but the two an erasure may rewrite.
FIXED = ("seq", "occurred_at", "actor_id", "actor", "action", "entity_type", "entity_id", "prev_hash", "hash")


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch_op:
        batch_op.add_column(sa.Column("erased_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("erased_because", sa.Text(), nullable=True))
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.add_column(sa.Column("erased_on", sa.Date(), nullable=True))
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=True),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("(trainee_id IS NULL) <> (cohort_id IS NULL)", name=op.f("ck_legal_hold_one_subject")),
        sa.ForeignKeyConstraint(["cohort_id"], ["cohort.id"], name=op.f("fk_legal_hold_cohort_id_cohort")),
        sa.ForeignKeyConstraint(
            ["placed_by_id"], ["user_account.id"], name=op.f("fk_legal_hold_placed_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"], ["user_account.id"], name=op.f("fk_legal_hold_released_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["user_account.id"], name=op.f("fk_legal_hold_trainee_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    op.create_index("ix_legal_hold_released_at", "legal_hold", ["released_at"], unique=False)
    _allow_erasure()


def downgrade() -> None:
    _refuse_every_change()
    op.drop_index("ix_legal_hold_released_at", table_name="legal_hold")
    op.drop_table("legal_hold")
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.drop_column("erased_on")
    with op.batch_alter_table("evidence") as batch_op:
        batch_op.drop_column("erased_because")
        batch_op.drop_column("erased_on")


def _allow_erasure() -> None:
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FIXED)
        op.execute(
            f"""
            CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' OR {changed} THEN
                    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
                END IF;
                RETURN NEW;
            END $$
            """
        )
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()"
        )
        return
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FIXED)
    op.execute("DROP TRIGGER audit_event_no_update")
    op.execute(
        f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event WHEN {changed} "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END"
    )


def _refuse_every_change() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_append_only ON audit_event")
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
        op.execute("DROP FUNCTION refuse_audit_change()")
        return
    op.execute("DROP TRIGGER audit_event_no_update")
    op.execute(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END"
    )
