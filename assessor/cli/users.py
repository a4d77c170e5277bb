"""`assessor users`: accounts from the command line."""

from __future__ import annotations

import sys
from typing import TextIO

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from assessor.accounts import second_factor
from assessor.accounts.operations import create_user, set_password
from assessor.cli.database import require_schema
from assessor.core.database import database
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import RUNS_COHORTS, Role
from assessor.models import User

users = AppGroup("users", help="Manage accounts.")


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="What the account may do.")
@click.option("--name", "display_name", help="The person's name as shown to others (default: the username).")
@click.option("--email", help="Email address.")
@click.option(
    "--password-file",
    type=click.File("r"),
    help="Read the password from this file's first line ('-' for standard input).",
)
def create_user_command(
    username: str, role: str, display_name: str | None, email: str | None, password_file: TextIO | None
) -> None:
    """Create an account; the password is prompted for unless --password-file is given."""
    require_schema()
    password = _new_password(password_file)
    try:
        with database().sessions.begin() as session:
            user = create_user(session, None, username, display_name or username, Role(role), password, email)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role.value} {user.username}")


@users.command("set-password")
@click.argument("username")
@click.option(
    "--password-file",
    type=click.File("r"),
    help="Read the password from this file's first line ('-' for standard input).",
)
def set_password_command(username: str, password_file: TextIO | None) -> None:
    """Set an account's password, for whoever runs the server (an administrator locked out, say): every session of
    the account ends, and its open links and codes stop working. Audited, with no person as the actor."""
    require_schema()
    password = _new_password(password_file)
    try:
        with database().sessions.begin() as session:
            user = session.scalar(sa.select(User).where(User.username == username.lower()))
            if user is None:
                raise click.ClickException(f"there is no account {username}")
            set_password(session, None, user, password, "set on the command line")
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"password set for {user.username}; its sessions are ended")


@users.command("remove-second-factor")
@click.argument("username")
def remove_second_factor_command(username: str) -> None:
    """Remove an account's second factor, for whoever runs the server (the only administrator lost their phone and
    their recovery codes, say): it signs in with its password, and sets a new one up. Audited, with no person as the
    actor."""
    require_schema()
    with database().sessions.begin() as session:
        user = session.scalar(sa.select(User).where(User.username == username.lower()))
        if user is None:
            raise click.ClickException(f"there is no account {username}")
        second_factor.turn_off(session, None, user)
    click.echo(f"second factor removed from {user.username}")


def _new_password(password_file: TextIO | None) -> str:
    if password_file is not None:
        return password_file.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    raise click.UsageError("not on a terminal: give the password with --password-file")


def admin_account(session: sa.orm.Session, username: str) -> User:
    """The active administrator account a command is recorded under."""
    return _active(session, username, {Role.ADMIN}, "an active administrator's username")


def staff_account(session: sa.orm.Session, username: str) -> User:
    """The active coordinator or administrator account a bulk command is recorded under."""
    return _active(session, username, set(RUNS_COHORTS), "an active coordinator or admin account")


def _active(session: sa.orm.Session, username: str, roles: set[Role], wanted: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None or user.role not in roles or not user.active:
        raise click.ClickException(f"{username} is not {wanted}")
    return user
