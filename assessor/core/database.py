"""The database: engine settings for SQLite and PostgreSQL, one session per request, and the request's commit point."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, g, request

from assessor.core import audit_keys
from assessor.domain.errors import ChangedMeanwhile

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 15_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Base(so.DeclarativeBase):
    """Declarative base with a naming convention, so that migrations name constraints predictably."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def default_url(instance_path: str | Path) -> str:
    """The embedded default: SQLite in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'assessor.sqlite'}"


def make_engine(url: str, **options: Any) -> sa.Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL, a busy timeout and BEGIN IMMEDIATE for writes."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        return sa.create_engine(sa_url, pool_pre_ping=True, **options)
    if sa_url.database and sa_url.database != ":memory:":
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(sa_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options)

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so that BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if sa_url.database and sa_url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with "database is locked"
        # when another connection wrote meanwhile; IMMEDIATE takes the write lock up front instead.
        # Read-only work asks for a deferred transaction so that readers never queue behind writers.
        mode = "DEFERRED" if connection.get_execution_options().get("read_only") else "IMMEDIATE"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(engine: sa.Engine) -> bool:
    """Whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


class Database:
    """The engine and session factories of one application."""

    def __init__(self, url: str, **options: Any):
        self.url = url
        self.engine = make_engine(url, **options)
        self.sessions = so.sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = so.sessionmaker(self.engine.execution_options(read_only=True), expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()


def database(app: Flask | None = None) -> Database:
    """The database of the current (or given) application."""
    db: Database = (app or current_app).extensions["database"]
    return db


def session() -> so.Session:
    """The request's database session: committed once when the view returns, rolled back if it raises."""
    if "db_session" not in g:
        db = database()
        g.db_session = (db.read_sessions if request.method in SAFE_METHODS else db.sessions)()
    db_session: so.Session = g.db_session
    return db_session


def flush_or_changed(session: so.Session, what: str) -> None:
    """Write pending changes; a version that moved since it was read means someone else changed the record."""
    try:
        session.flush()
    except so.exc.StaleDataError:
        raise ChangedMeanwhile(what) from None


def keep_nothing() -> None:
    """Undo everything this request wrote so far: for a view that refuses the input and shows the form again."""
    db_session = g.get("db_session")
    if db_session is not None:
        db_session.rollback()
    _discard_files()


def on_rollback(undo: Callable[[], None]) -> None:
    """Run `undo` if this request's transaction is rolled back: files stored for records that were never kept."""
    g.setdefault("undo_on_rollback", []).append(undo)


@contextmanager
def side_transaction() -> Iterator[so.Session]:
    """A short write transaction of its own, committed at once whatever the request does next (an export's audit
    event, so that the long read that follows never holds the write lock)."""
    with database().sessions.begin() as writer:
        yield writer


def commit_request() -> None:
    """The commit point: the view returned without an exception."""
    db_session = g.get("db_session")
    if db_session is not None:
        db_session.commit()
    g.pop("undo_on_rollback", None)


def _discard_files() -> None:
    for undo in g.pop("undo_on_rollback", []):
        undo()


class CommittingFlask(Flask):
    """Flask with the request's commit point: commit when the view returns, roll back on any exception."""

    def dispatch_request(self) -> Any:
        try:
            response = super().dispatch_request()
        except BaseException:
            keep_nothing()  # the view raised: nothing it wrote is kept
            raise
        commit_request()
        return response


def init_app(app: Flask) -> None:
    """Attach the database to the app; whatever the request leaves uncommitted is rolled back and closed."""
    url = app.config.get("DATABASE_URL") or default_url(app.instance_path)
    app.config["DATABASE_URL"] = url
    db = app.extensions["database"] = Database(url)
    # Every session carries the audit key, and a checkpoint is written after each commit that added audit events.
    audit_keys.install(app, (db.sessions, db.read_sessions))

    @app.teardown_appcontext
    def close(exc: BaseException | None) -> None:
        db_session = g.pop("db_session", None)
        if db_session is not None:
            db_session.rollback()
            db_session.close()
        _discard_files()  # files of a request that never reached its commit point
