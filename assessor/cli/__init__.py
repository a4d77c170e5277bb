"""The `assessor` command: Flask's command line with the project's own commands, one module per group."""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup

from assessor.cli.backup import backup_command, restore_command
from assessor.cli.credentials import credentials
from assessor.cli.database import audit_group, init_command
from assessor.cli.demo import demo_command
from assessor.cli.retention import retention
from assessor.cli.standards import standards
from assessor.cli.transfer import export_command, import_command
from assessor.cli.users import users
from assessor.cli.worker import worker_command

COMMANDS = (
    standards,
    init_command,
    users,
    demo_command,
    backup_command,
    restore_command,
    audit_group,
    credentials,
    import_command,
    export_command,
    retention,
    worker_command,
)


def register(app: Flask) -> None:
    """Make the project's commands available as `flask --app assessor ...`."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from assessor import create_app

    return create_app()


main = FlaskGroup(name="assessor", create_app=_create_app, help="Assessor: competency assessment records.")
main.add_command(standards)
