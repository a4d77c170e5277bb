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
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role.value} {user.username}")


@click.command("demo")
@with_appcontext
@click.option("--password", default="demo-password", show_default=True, help="Password of every demo account.")
@click.option("--trainees", type=click.IntRange(min=1), help="Also generate this many trainees in cohorts, with assessors, evidence and completions.")
@click.option("--cohort-size", default="25-40", show_default=True, help="Trainees per generated cohort: N or MIN-MAX.")
@click.option("--seed", type=int, default=1, show_default=True, help="Makes the generated records reproducible.")
def demo_command(password: str, trainees: int | None, cohort_size: str, seed: int) -> None:
    """Initialise the database if needed and fill it with a realistic demo: one account per role, both units; --trainees adds generated cohorts."""
    from assessor.demo import create_demo
    from assessor.generate import generate, parse_cohort_size

    try:
        sizes = parse_cohort_size(cohort_size)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cohort-size") from None
    db = database()
    migrate.upgrade(db.engine)
    _load_units()
    with db.sessions.begin() as session:
        exists = session.scalar(sa.select(User.id).where(User.username == "assessor")) is not None
        if not exists:
            try:
                create_demo(session, password)
            except operations.InvalidInput as exc:
                raise click.ClickException(str(exc)) from None
    if exists and not trainees:
        click.echo("demo data exists already: nothing changed")
        return
    if not exists:
        click.echo("demo accounts (password: %s): admin, coordinator, assessor, trainee, trainee2" % password)
    if trainees:
        with click.progressbar(length=trainees, label="generated trainees", show_pos=True, file=sys.stderr) as bar:
            try:
                summary = generate(db.sessions, trainees, password, seed=seed, cohort_size=sizes, on_batch=lambda s: bar.update(s.trainees - bar.pos))
            except operations.InvalidInput as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(
            f"generated {summary.trainees} trainees (password: {password}) in {summary.cohorts} cohorts with {summary.assessors} assessors: "
            f"{summary.enrolments} enrolments, {summary.evidence} pieces of evidence, {summary.mappings} judgements, {summary.completions} completion records"
        )


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


def _actor(session, username: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username.lower()))
    if user is None or user.role not in (Role.ADMIN, Role.COORDINATOR) or not user.active:
        raise click.ClickException(f"{username} is not an active coordinator or admin account")
    return user


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The coordinator or admin account the import is recorded under.")
@click.option("--dry-run", is_flag=True, help="Check the file and report, importing nothing.")
@with_appcontext
def import_command(file: str, username: str, dry_run: bool) -> None:
    """Import trainees and enrolments from an .xlsx or CSV file: every row valid, or nothing imported."""
    from assessor import imports
    from assessor.views.transfer import check_file

    _require_schema()
    path = Path(file)
    with database().sessions.begin() as session:
        actor = _actor(session, username)
        try:
            plan = check_file(session, actor, path.read_bytes(), path.name)
        except imports.ImportRefused as exc:
            raise click.ClickException(exc.message) from None
        if plan.problems:
            for problem in plan.problems:
                click.echo(f"{path.name}: row {problem.row}, {problem.column}: {problem.message}", err=True)
            raise click.ClickException(f"{len(plan.problems)} problems: nothing was imported")
        summary = f"{len(plan.new_trainees)} new trainees, {len(plan.new_enrolments)} new enrolments, {len(plan.new_cohorts)} new cohorts, {plan.unchanged} rows already imported"
        if dry_run:
            click.echo(f"would import: {summary}")
            session.rollback()
            return
        operations.apply_import(session, actor, plan)
    click.echo(f"imported: {summary}")


@click.command("export")
@click.argument("kind", type=click.Choice(["progress", "matrix", "evidence", "completions"]))
@click.option("--as", "username", required=True, help="The coordinator or admin account the export is recorded under.")
@click.option("--cohort", help="Only this cohort (by name).")
@click.option("--unit", help="Only this unit (catalogue id).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="From this date (YYYY-MM-DD).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Up to this date (YYYY-MM-DD).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True, help="The .xlsx file to write.")
@with_appcontext
def export_command(kind: str, username: str, cohort: str | None, unit: str | None, start, end, output: str) -> None:
    """Write a spreadsheet export: progress, matrix, evidence or completions."""
    from assessor import reports
    from assessor.access import visible_enrolments
    from assessor.exports import write_workbook
    from assessor.models import Cohort, Enrolment

    _require_schema()
    db = database()
    with db.sessions.begin() as session:
        actor = _actor(session, username)
        described = {k: v for k, v in {"cohort": cohort, "unit": unit, "start": start and start.date().isoformat(), "end": end and end.date().isoformat()}.items() if v}
        operations.record_export(session, actor, kind, described)
    with db.read_sessions() as session:
        actor = _actor(session, username)
        cohort_id = None
        if cohort:
            cohort_id = session.scalar(sa.select(Cohort.id).where(Cohort.name == cohort))
            if cohort_id is None:
                raise click.ClickException(f"no cohort called {cohort!r}")
        filters = reports.Filters(
            visible_enrolments(actor).with_only_columns(Enrolment.id), cohort_id, unit, start and start.date(), end and end.date()
        )
        total = reports.row_count(session, kind, filters)
        with click.progressbar(length=max(total, 1), label=f"{kind} rows", show_pos=True, file=sys.stderr) as bar:

            def on_row(count: int) -> None:
                bar.update(min(count, total) - bar.pos)

            written = write_workbook(reports.sheets(session, kind, filters), output, on_row=on_row)
    click.echo(f"wrote {written} rows to {output}")


def _require_schema() -> None:
    db = database()
    if migrate.current_revision(db.engine) != migrate.head_revision(db.engine):
        raise click.ClickException("the database is not initialised or not up to date: run `assessor init` first")


COMMANDS = (init_command, users, demo_command, backup_command, audit_group, import_command, export_command)
