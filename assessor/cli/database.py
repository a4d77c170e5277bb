"""`assessor init`, `backup` and `audit verify`: the database itself."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from assessor.core import audit, migrate
from assessor.core.database import database, is_sqlite
from assessor.domain.errors import StandardChanged
from assessor.standards.operations import register_units
from assessor.standards.queries import catalogue

CHAIN_BREAKS = {
    "missing_before": "one or more events before it are missing",
    "out_of_order": "it is out of order",
    "wrong_link": "it does not link to the event before it (inserted, removed or reordered)",
    "altered": "its content does not match its hash (edited)",
}


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the database or upgrade it to the latest schema, and load new unit versions."""
    db = database()
    before = migrate.current_revision(db.engine)
    migrate.upgrade(db.engine)
    after = migrate.current_revision(db.engine)
    click.echo(f"database at {after}" + (" (unchanged)" if before == after else f" (was {before or 'empty'})"))
    load_units()


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def backup_command(path: str) -> None:
    """Write a consistent copy of the live SQLite database to PATH (SQLite's online backup)."""
    db = database()
    if not is_sqlite(db.engine):
        raise click.ClickException("backup copies the embedded SQLite database; for PostgreSQL use pg_dump")
    target = Path(path)
    if target.exists():
        raise click.ClickException(f"{target} exists already: choose a new file")
    source = db.engine.raw_connection()
    try:
        destination = sqlite3.connect(target)
        with destination:
            source.driver_connection.backup(destination)  # type: ignore[union-attr]
        destination.close()
    finally:
        source.close()
    click.echo(f"backed up to {target}")


audit_group = AppGroup("audit", help="The audit trail.")


@audit_group.command("verify")
def verify_command() -> None:
    """Check the audit trail's hash chain; exit 1 naming the first bad event."""
    require_schema()
    with database().read_sessions() as session:
        count, broken = audit.verify(session)
    if broken is None:
        click.echo(f"audit trail intact: {count} events")
        return
    click.echo(f"audit trail broken at event {broken.seq}: {CHAIN_BREAKS[broken.problem]}", err=True)
    sys.exit(1)


def load_units() -> None:
    """Register the catalogue's new unit versions, saying which."""
    try:
        with database().sessions.begin() as session:
            added = register_units(session, catalogue())
    except StandardChanged as exc:
        raise click.ClickException(str(exc)) from None
    for version in added:
        click.echo(f"loaded {version.key}: {version.title}")
    if not added:
        click.echo("unit versions: nothing new to load")


def require_schema() -> None:
    """Refuse to go on unless the database is at the latest migration."""
    db = database()
    if migrate.current_revision(db.engine) != migrate.head_revision(db.engine):
        raise click.ClickException("the database is not initialised or not up to date: run `assessor init` first")
