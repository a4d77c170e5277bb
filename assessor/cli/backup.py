"""`assessor backup` and `assessor restore`: the whole instance, database, attachments and audit checkpoints, in one
archive with a manifest of SHA-256s."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from assessor.core import backup
from assessor.core.database import database
from assessor.credentials import keys as credential_keys


def this_instance() -> backup.Instance:
    """The current app's database and folders."""
    instance_dir = Path(current_app.instance_path)
    checkpoints = current_app.config.get("AUDIT_CHECKPOINT_DIR") or instance_dir / "audit-checkpoints"
    return backup.Instance(
        engine=database().engine,
        upload_dir=Path(current_app.config["UPLOAD_DIR"]),
        checkpoint_dir=Path(checkpoints),
        instance_dir=instance_dir,
        key_files=tuple(instance_dir / name for name in sorted(backup.NEVER_ARCHIVED)),
        credential_key_files=credential_keys.instance_files(instance_dir),
    )


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write the database, the attachments its records refer to and the audit checkpoints to the new archive PATH
    (.tar or .tar.gz), with a manifest of SHA-256s. Never the audit key or the secret key. Exits 1 if an attachment is
    missing or altered: the archive is written all the same, and its manifest names them."""
    try:
        report = backup.backup(this_instance(), path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = report.manifest
    database_info = manifest["database"]
    click.echo(f"backed up to {report.path}")
    click.echo(f"  database: {database_info['kind']} at schema {database_info['schema_revision']}")
    click.echo(
        f"  {manifest['counts'].get('audit_event', 0)} audit events, {manifest['counts'].get('evidence', 0)} evidence"
    )
    click.echo(f"  attachments: {manifest['attachments']['archived']} of {manifest['attachments']['referenced']}")
    if report.unreferenced:
        click.echo(f"  left out {report.unreferenced} file(s) of the upload folder that no record refers to")
    click.echo(f"  audit checkpoints: {manifest['audit_checkpoints']['files']} file(s)")
    kept_keys = manifest["credential_keys"]["files"]
    click.echo(f"  credential signing keys: {', '.join(kept_keys) or 'none in the instance folder'}")
    if current_app.config.get("CREDENTIAL_KEY"):
        click.echo("  not included: CREDENTIAL_KEY, which the settings give; keep a copy of it with the backups")
    for name in report.skipped:
        click.echo(f"  left out of the checkpoints: {name} (a key, a link or not a regular file)")
    click.echo("  not included: the audit key and the secret key; keep a copy of them apart from the backups")
    for stored_name in report.missing:
        click.echo(f"MISSING: attachment file {stored_name} is not in the upload folder", err=True)
    for stored_name in report.altered:
        click.echo(f"ALTERED: attachment file {stored_name} does not match its record's SHA-256", err=True)
    if not report.complete:
        sys.exit(1)


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore the backup archive PATH into this instance, whose database, upload folder and audit checkpoint folder
    must be empty. Every file is checked against the manifest first; a backup of an older schema is upgraded. Stop
    the application first."""
    try:
        report = backup.restore(this_instance(), path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    manifest = report.manifest
    click.echo(f"restored {path}, made {manifest['created_at']} by Assessor {manifest.get('assessor_version', '?')}")
    upgraded = (
        f" (upgraded from {report.revision_before_upgrade})"
        if report.revision != report.revision_before_upgrade
        else ""
    )
    click.echo(f"  database: {manifest['database']['kind']} at schema {report.revision}{upgraded}")
    differ = sorted(t for t in manifest["counts"] if manifest["counts"][t] != report.counts.get(t))
    if differ:
        click.echo(f"  rows differ from the manifest in: {', '.join(differ)}", err=True)
    else:
        click.echo(f"  rows: {sum(report.counts.values())} in {len(report.counts)} tables, as the manifest says")
    click.echo(f"  attachments: {report.attachments}")
    click.echo(f"  audit checkpoints: {report.checkpoints} file(s)")
    click.echo(f"  credential signing key files: {report.credential_keys}")
    for stored_name in report.missing:
        click.echo(f"MISSING: attachment file {stored_name} was not in the backup", err=True)
    for stored_name in report.altered:
        click.echo(f"ALTERED: attachment file {stored_name} does not match its record's SHA-256", err=True)
    click.echo(
        "Next: give this instance the original's audit key (AUDIT_KEY, or the file audit_key in the instance folder),"
        " then run `assessor audit verify`."
    )
