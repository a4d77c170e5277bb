"""search names

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Each account keeps its name and username without case or diacritics (`search_name`), so that a search for "tui"
finds "Tūī" on SQLite and PostgreSQL alike. On PostgreSQL a trigram index (pg_trgm, a trusted extension) serves
"contains" searches; SQLite has no such index and scans the column. Existing accounts get theirs here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assessor.domain.text import folded

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

user_account = sa.table(
    "user_account",
    sa.column("id", sa.Integer()),
    sa.column("username", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("search_name", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.add_column(sa.Column("search_name", sa.String(length=300), nullable=False, server_default=""))
    connection = op.get_bind()
    rows = connection.execute(sa.select(user_account.c.id, user_account.c.display_name, user_account.c.username))
    for id, display_name, username in rows.all():
        connection.execute(
            sa.update(user_account)
            .where(user_account.c.id == id)
            .values(search_name=folded(f"{display_name} {username}"))
        )
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.alter_column("search_name", server_default=None)
    if connection.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_user_account_search_name",
        "user_account",
        ["search_name"],
        postgresql_using="gin",
        postgresql_ops={"search_name": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_user_account_search_name", table_name="user_account")
    with op.batch_alter_table("user_account") as batch_op:
        batch_op.drop_column("search_name")
