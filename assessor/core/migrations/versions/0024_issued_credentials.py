"""credentials issued from completion records

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02

A completion record may be issued once as a signed Open Badges 3.0 credential. The row keeps the document as signed
(so every download hands out the same credential) and the credential's place in a status list, whose bit its
record's revocation sets. Like the records themselves it is append-only: triggers refuse UPDATE and DELETE.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("status_list", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"], ["completion_record.id"], name=op.f("fk_issued_credential_record_id_completion_record")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["user_account.id"], name=op.f("fk_issued_credential_issued_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_credential")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_issued_credential_credential_id")),
        sa.UniqueConstraint("record_id", name=op.f("uq_issued_credential_record_id")),
        sa.UniqueConstraint("status_list", "status_index", name=op.f("uq_issued_credential_status_list_status_index")),
    )

    if op.get_bind().dialect.name == "postgresql":
        # refuse_change() is the function the first migration made for the other append-only tables.
        op.execute(
            "CREATE TRIGGER issued_credential_append_only BEFORE UPDATE OR DELETE ON issued_credential "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER issued_credential_no_{action.lower()} BEFORE {action} ON issued_credential "
            f"BEGIN SELECT RAISE(ABORT, 'issued_credential is append-only: {action} refused'); END"
        )


def downgrade() -> None:
    # Credentials issued are held by their trainees: their rows cannot go. Refuse rather than lose them.
    if op.get_bind().scalar(sa.text("SELECT count(*) FROM issued_credential")):
        raise RuntimeError("credentials have been issued; a downgrade would lose them")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER issued_credential_append_only ON issued_credential")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER issued_credential_no_{action}")
    op.drop_table("issued_credential")
