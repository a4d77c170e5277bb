"""a trigram index of names on SQLite

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

A search for a piece of a name ("tui" finds "Tūī Ngata") read every account's search_name on SQLite, which has no
index for "contains". A full-text table with the trigram tokenizer is one: it holds each account's search_name, kept
by triggers, and finds the accounts containing a piece of three characters or more from its trigrams. PostgreSQL has
had its trigram index since 0007; there this migration does nothing.

A later migration that rebuilds user_account on SQLite (a batch operation that copies the table) drops the triggers
with the old table, and must make them again.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE user_search USING fts5("
        "search_name, content='user_account', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER user_search_insert AFTER INSERT ON user_account BEGIN "
        "INSERT INTO user_search (rowid, search_name) VALUES (new.id, new.search_name); END"
    )
    op.execute(
        "CREATE TRIGGER user_search_delete AFTER DELETE ON user_account BEGIN "
        "INSERT INTO user_search (user_search, rowid, search_name) VALUES ('delete', old.id, old.search_name); END"
    )
    op.execute(
        "CREATE TRIGGER user_search_update AFTER UPDATE OF search_name ON user_account BEGIN "
        "INSERT INTO user_search (user_search, rowid, search_name) VALUES ('delete', old.id, old.search_name); "
        "INSERT INTO user_search (rowid, search_name) VALUES (new.id, new.search_name); END"
    )
    op.execute("INSERT INTO user_search (user_search) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for trigger in ("user_search_insert", "user_search_delete", "user_search_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE user_search")
