"""Upgrading a database that already holds records keeps them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from assessor import migrate
from assessor.db import make_engine


def test_upgrade_from_the_first_migration_keeps_accounts_and_gives_each_a_session_token(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    config = migrate.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql(
            "INSERT INTO user_account (username, display_name, password_hash, role, active, created_at) "
            "VALUES ('kim', 'Kim', 'x', 'trainee', 1, '2026-01-01'), ('lee', 'Lee', 'y', 'assessor', 1, '2026-01-01')"
        )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        tokens = connection.execute(sa.text("SELECT username, session_token FROM user_account ORDER BY username")).all()
    engine.dispose()
    assert [u for u, _ in tokens] == ["kim", "lee"]
    assert all(len(t) >= 40 for _, t in tokens) and tokens[0][1] != tokens[1][1]
