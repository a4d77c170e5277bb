"""e-mail and account tokens

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Accounts people can get into on their own: the e-mails the app sends (kept until sent, or in the outbox when no SMTP
server is set), and single-use tokens to set a password (invitations, resets), of which only a keyed hash is kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=True),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("status", _enum("mail_status", "waiting", "sent", "in_outbox"), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_mail_message_job_id_job")),
        sa.ForeignKeyConstraint(
            ["to_user_id"], ["user_account.id"], name=op.f("fk_mail_message_to_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_message")),
    )
    op.create_index("ix_mail_message_to_user_id", "mail_message", ["to_user_id"], unique=False)
    op.create_table(
        "account_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", _enum("token_purpose", "invitation", "reset"), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("printed", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_account_token_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_account_token_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_account_token_digest")),
    )
    op.create_index("ix_account_token_user_id", "account_token", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_account_token_user_id", table_name="account_token")
    op.drop_table("account_token")
    op.drop_index("ix_mail_message_to_user_id", table_name="mail_message")
    op.drop_table("mail_message")
