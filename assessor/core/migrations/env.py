"""Alembic environment: migrates the database the application is configured with."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from assessor import models  # noqa: F401  (registers every table on the metadata)
from assessor.core.database import Base, make_engine
from assessor.core.migrate import on_this_database

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database URL to migrate")
    engine = make_engine(url)
    with engine.connect() as connection:
        _migrate(connection)
    engine.dispose()


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=on_this_database(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
