"""`assessor init`, `audit verify` and `audit seal`: the database itself."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from assessor.core import audit, audit_verify, migrate
from assessor.core.database import database
from assessor.credentials import keys as credential_keys
from assessor.domain.errors import StandardChanged
from assessor.standards.operations import register_units
from assessor.standards.queries import catalogue


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the database or upgrade it to the latest schema, and load new unit versions."""
    db = database()
    before = migrate.current_revision(db.engine)
    migrate.upgrade(db.engine)
    after = migrate.current_revision(db.engine)
    click.echo(f"database at {after}" + (" (unchanged)" if before == after else f" (was {before or 'empty'})"))
    if audit.needs_seal(db.engine):  # a trail begun before the audit key is sealed on its first upgrade
        seal_trail(force=False, quiet=True)
    _credential_key()
    load_units()


def _credential_key() -> None:
    """Make the key that signs credentials, unless the settings give one or the instance folder holds it."""
    if current_app.config.get("CREDENTIAL_KEY"):
        click.echo("credential signing key: from CREDENTIAL_KEY")
        return
    made = credential_keys.make_instance_key(Path(current_app.instance_path))
    path = Path(current_app.instance_path) / credential_keys.KEY_FILE
    click.echo(f"credential signing key: {'made' if made else 'kept'} ({path}); back it up with the database")


audit_group = AppGroup("audit", help="The audit trail.")


@audit_group.command("verify")
def verify_command() -> None:
    """Check the audit trail: its chain and signatures, its checkpoints, and every record table against the state the
    trail gives it; exit 1 naming every problem found."""
    require_schema()
    with database().read_sessions() as session:
        report = audit_verify.verify(session)
    for note in report.notes:
        click.echo(f"note: {note}")
    if report.intact:
        click.echo(f"audit trail intact: {_summary(report)}")
        return
    for problem in report.problems:
        click.echo(problem, err=True)
    count = len(report.problems)
    click.echo(f"audit trail NOT intact: {count} problem{'s' if count != 1 else ''} found", err=True)
    sys.exit(1)


def _summary(report: audit_verify.Report) -> str:
    said = f"{report.events} event{'s' if report.events != 1 else ''}"
    if report.events and report.keyed_after is not None:
        keyed = report.keyed_after
        said += f", sealed at event {keyed} and" if keyed else ""
        said += " signed with the audit key" + (" after it" if keyed else "")
    if report.last_checkpoint is not None:
        said += f", the last checkpoint at event {report.last_checkpoint.seq} ({report.last_checkpoint.at})"
    return f"{said}; {report.records} records agree with it"


@audit_group.command("seal")
@click.option("--force", is_flag=True, help="Seal even though the checkpoint folder holds another trail.")
def seal_command(force: bool) -> None:
    """Once, for a database from before audit keys: check its trail, then sign its last event with the audit key, so
    that every event after it is keyed."""
    require_schema()
    seal_trail(force=force, quiet=False)


def seal_trail(force: bool, quiet: bool) -> None:
    """Seal the trail unless it is sealed already (said unless `quiet`); refuse, saying why, when it cannot be."""
    with database().sessions.begin() as session:
        sealed = audit.seal(session, force=force)
    if sealed.existing is not None:
        if not quiet:
            click.echo(f"audit trail sealed already: signed with the audit key from event {sealed.existing.seq}")
        return
    if sealed.others:
        last = max(sealed.others, key=lambda c: c.seq)
        raise click.ClickException(
            f"not sealed: the checkpoint folder holds another audit trail signed with this key (chain {last.chain}, "
            f"up to event {last.seq}, {last.at}). If it was this database's, its seal was removed and the trail may "
            "have been rewritten: restore the database from a backup instead. If it is another database's, run "
            "`assessor audit seal --force`."
        )
    if sealed.broken is not None:
        raise click.ClickException(
            f"not sealed: audit trail broken at event {sealed.broken.seq}: {audit_verify.BREAKS[sealed.broken.problem]}"
        )
    if not sealed.seq:
        click.echo("audit trail sealed: it is empty, and every event will be signed with the audit key")
        return
    click.echo(
        f"audit trail sealed: its {sealed.seq} events check out, and the seal signs the last of them "
        f"({sealed.vouched} vouched for one by one, for /verify); new events are signed with the audit key"
    )


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
