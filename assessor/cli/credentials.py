"""`assessor credentials`: the key that signs Open Badges credentials."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from assessor.credentials import keys

credentials = AppGroup("credentials", help="The key that signs Open Badges credentials.")


@credentials.command("key")
def key_command() -> None:
    """Show the signing key's public key and every retired one still published."""
    loaded = keys.load(current_app)
    click.echo(f"signing: {loaded.current}")
    for retired in loaded.retired:
        click.echo(f"retired, still published: {retired}")


@credentials.command("rotate-key")
def rotate_command() -> None:
    """Retire the instance folder's signing key and make a new one. The old public key stays published, so
    credentials it signed still verify; restart the application afterwards."""
    if current_app.config.get("CREDENTIAL_KEY"):
        raise click.ClickException(
            "the key comes from CREDENTIAL_KEY: add its public key to CREDENTIAL_RETIRED_KEYS and set a new one"
        )
    instance = Path(current_app.instance_path)
    if not (instance / keys.KEY_FILE).exists():
        raise click.ClickException(f"no signing key in {instance}: run `assessor init` first")
    old, new = keys.rotate(instance)
    click.echo(f"retired {old} (still published), signing now with {new}")
    click.echo("Restart the application, and back up the instance folder's credential key files.")
