"""Shared fixtures: a clean database per test (SQLite, or PostgreSQL when TEST_DATABASE_URL names one), the app, its
client and CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from assessor import create_app
from assessor.core import migrate, passwords
from assessor.core.database import Base, make_engine
from assessor.models import EnrolmentProgress
from assessor.progress.queries import tally_rows
from tests.server import TEST_AUDIT_KEY, TEST_CREDENTIAL_KEY

ROOT = Path(__file__).resolve().parent.parent
STANDARDS = ROOT / "standards"
DATA = Path(__file__).resolve().parent / "data"


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker process has a PostgreSQL database of its own, named after the worker, on the
    server of TEST_DATABASE_URL (SQLite test databases are files under each test's own tmp_path already)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parsed = sa.make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


POSTGRES_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL"))


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite'}"


@pytest.fixture(autouse=True)
def quick_password_hashing(request, monkeypatch):
    """Cheap argon2 parameters, except in tests marked `real_password_cost` that check the real ones."""
    if "real_password_cost" not in request.keywords:
        monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """A database migrated once per run: a SQLite file to copy, or the PostgreSQL database itself."""
    if POSTGRES_URL:
        create_database_if_missing(POSTGRES_URL)
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        migrate.upgrade(engine)
        engine.dispose()
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def create_database_if_missing(url: str) -> None:
    name = sa.make_url(url).database
    server = make_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    server.dispose()


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """The URL of an empty, fully migrated database for one test."""
    return empty_database(migrated_template, tmp_path / "assessor.sqlite")


def empty_database(migrated_template, sqlite_path: Path) -> str:
    """An empty, fully migrated database: a copy of the template at `sqlite_path`, or the PostgreSQL database
    emptied."""
    if POSTGRES_URL:
        engine = make_engine(POSTGRES_URL)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        engine.dispose()
        return POSTGRES_URL
    shutil.copy(migrated_template, sqlite_path)
    return f"sqlite:///{sqlite_path}"


@pytest.fixture
def make_app(database_url, tmp_path):
    """A factory of apps on this test's database (unless told otherwise); their engines are closed afterwards."""
    made = []

    def make(**config):
        settings = {
            "AUDIT_KEY": TEST_AUDIT_KEY,
            "CREDENTIAL_KEY": TEST_CREDENTIAL_KEY,
            "AUDIT_CHECKPOINT_DIR": str(tmp_path / "audit-checkpoints"),
            "TESTING": True,
            "SECRET_KEY": "test",
            "STANDARDS_DIR": str(STANDARDS),
            "DATABASE_URL": database_url,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "JOB_QUEUE": "immediate",
            "MFA_REQUIRED_ROLES": "",  # staff sign in with a password alone, but in the second-factor tests
            "EXPORT_DIR": str(tmp_path / "exports"),
            "IMPORT_DIR": str(tmp_path / "imports"),
        }
        made.append(create_app({**settings, **config}))
        return made[-1]

    yield make
    for app in made:
        assert_tallies_current(app.extensions["database"].engine)
        app.extensions["database"].dispose()


def assert_tallies_current(engine: sa.Engine) -> None:
    """Whatever a test did through the operations, each enrolment's stored tally is what its judgements give now."""
    if not sa.inspect(engine).has_table("enrolment_progress"):
        return  # a test of an empty or unmigrated database
    with engine.connect() as connection:
        stored = (
            connection.execute(sa.select(EnrolmentProgress).order_by(EnrolmentProgress.enrolment_id)).mappings().all()
        )
        computed = tally_rows(connection)
    assert [dict(row) for row in stored] == computed, "a stored enrolment tally is out of date"


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """A database session outside any request, rolled back unless the test commits."""
    session = app.extensions["database"].sessions()
    yield session
    session.rollback()
    session.close()


def only_sqlite(url: str) -> None:
    if sa.make_url(url).get_backend_name() != "sqlite":
        pytest.skip("SQLite only")
