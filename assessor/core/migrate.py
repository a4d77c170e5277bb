"""Schema migrations through Alembic, run against the application's database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from assessor.models.accounts import NAME_INDEX

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def on_this_database(dialect: str) -> Callable[..., bool]:
    """Alembic's `include_object` for comparing the models with a database: leaves out what is made on another
    database only (an index with `info={"only_on": "postgresql"}`, say), and SQLite's full-text index of names with
    the tables it keeps its index in (migration 0020)."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, _compare_to: Any) -> bool:
        if type_ == "table" and reflected and (name or "").startswith(NAME_INDEX):
            return False
        return getattr(obj, "info", {}).get("only_on", dialect) == dialect

    return include


def alembic_config(engine: sa.Engine) -> Config:
    """An Alembic configuration bound to `engine`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def upgrade(engine: sa.Engine) -> None:
    """Create the schema or bring it up to the latest migration, in one transaction."""
    _migrate(engine, command.upgrade, "head")


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Take the schema back to `revision`, in one transaction (for testing that each migration goes both ways)."""
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: sa.Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it and dropping the original, which foreign keys pointing at it
            # refuse; they are checked all at once before the commit instead. The pragma only takes effect outside
            # a transaction, so it goes to the driver before SQLAlchemy begins one.
            _driver(connection).execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                    raise RuntimeError(f"the migration would leave rows pointing at nothing: {broken[:5]}")
        finally:
            if sqlite:
                _driver(connection).execute("PRAGMA foreign_keys = ON")


def _driver(connection: sa.Connection) -> Any:
    return connection.connection.driver_connection


def current_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: sa.Engine) -> str | None:
    """The latest migration this code knows."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
