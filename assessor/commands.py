"""Commands that work on the database: init, users, demo, backup, audit."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext

from assessor import audit, catalogue, migrate, operations
from assessor.db import database, is_sqlite
from assessor.models import Role, User


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the database or upgrade it to the latest schema, and load new unit versions."""
    db = database()
    before = migrate.current_revision(db.engine)
    migrate.upgrade(db.engine)
    after = migrate.current_revision(db.engine)
    click.echo(f"database at {after}" + (" (unchanged)" if before == after else f" (was {before or 'empty'})"))
    _load_units()


def _load_units() -> None:
    try:
        with database().sessions.begin() as session:
            added = operations.register_units(session, catalogue())
    except operations.StandardChanged as exc:
        raise click.ClickException(str(exc)) from None
    for version in added:
        click.echo(f"loaded {version.key}: {version.title}")
    if not added:
        click.echo("unit versions: nothing new to load")


@click.command("load")
@with_appcontext
def load_standards_command() -> None:
    """Register the unit versions in the standards folder that the database does not have yet."""
    _require_schema()
    _load_units()


users = AppGroup("users", help="Manage accounts.")


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="What the account may do.")
@click.option("--name", "display_name", help="The person's name as shown to others (default: the username).")
@click.option("--email", help="Email address.")
@click.option("--password-file", type=click.File("r"), help="Read the password from this file's first line ('-' for standard input).")
def create_user_command(username: str, role: str, display_name: str | None, email: str | None, password_file) -> None:
    """Create an account; the password is prompted for unless --password-file is given."""
    _require_schema()
    if password_file is not None:
        password = password_file.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise click.UsageError("not on a terminal: give the password with --password-file")
    try:
        with database().sessions.begin() as session:
            user = operations.create_user(session, None, username, display_name or username, Role(role), password, email)
    except operations.InvalidInput as exc:
        raise click.ClickException("; ".join(exc.problems.values())) from None
    click.echo(f"created {user.role.value} {user.username}")


@click.command("demo")
@with_appcontext
@click.option("--password", default="demo-password", show_default=True, help="Password of every demo account.")
def demo_command(password: str) -> None:
    """Initialise the database if needed and fill it with a realistic demo: one account per role, both units."""
    from assessor.demo import create_demo

    db = database()
    migrate.upgrade(db.engine)
    _load_units()
    with db.sessions.begin() as session:
        if session.scalar(sa.select(User.id).where(User.username == "assessor")) is not None:
            click.echo("demo data exists already: nothing changed")
            return
        try:
            create_demo(session, password)
        except operations.InvalidInput as exc:
            raise click.ClickException("; ".join(exc.problems.values())) from None
    click.echo("demo accounts (password: %s): admin, coordinator, assessor, trainee, trainee2" % password)


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
            source.driver_connection.backup(destination)
        destination.close()
    finally:
        source.close()
    click.echo(f"backed up to {target}")


audit_group = AppGroup("audit", help="The audit trail.")


@audit_group.command("verify")
def verify_command() -> None:
    """Check the audit trail's hash chain; exit 1 naming the first bad event."""
    _require_schema()
    with database().read_sessions() as session:
        count, broken = audit.verify(session)
    if broken is None:
        click.echo(f"audit trail intact: {count} events")
        return
    reasons = {
        "missing_before": "one or more events before it are missing",
        "out_of_order": "it is out of order",
        "wrong_link": "it does not link to the event before it (inserted, removed or reordered)",
        "altered": "its content does not match its hash (edited)",
    }
    click.echo(f"audit trail broken at event {broken.seq}: {reasons[broken.problem]}", err=True)
    sys.exit(1)


def _require_schema() -> None:
    db = database()
    if migrate.current_revision(db.engine) != migrate.head_revision(db.engine):
        raise click.ClickException("the database is not initialised or not up to date: run `assessor init` first")


COMMANDS = (init_command, users, demo_command, backup_command, audit_group)
