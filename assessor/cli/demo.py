"""`assessor demo`: a database with demo accounts and records, and generated cohorts at scale."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from assessor.cli.database import load_units
from assessor.core import migrate
from assessor.core.database import database
from assessor.demo.generate import generate, parse_cohort_size
from assessor.demo.sample import create_demo
from assessor.domain.errors import InvalidInput
from assessor.models import User


@click.command("demo")
@with_appcontext
@click.option("--password", default="try the demo today", show_default=True, help="Password of every demo account.")
@click.option(
    "--trainees",
    type=click.IntRange(min=1),
    help="Also generate this many trainees in cohorts, with assessors, evidence and completions.",
)
@click.option("--cohort-size", default="25-40", show_default=True, help="Trainees per generated cohort: N or MIN-MAX.")
@click.option("--seed", type=int, default=1, show_default=True, help="Makes the generated records reproducible.")
def demo_command(password: str, trainees: int | None, cohort_size: str, seed: int) -> None:
    """Initialise the database if needed and fill it with a realistic demo: one account per role, both units; --trainees
    adds generated cohorts."""
    try:
        sizes = parse_cohort_size(cohort_size)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--cohort-size") from None
    db = database()
    migrate.upgrade(db.engine)
    load_units()
    with db.sessions.begin() as session:
        exists = session.scalar(sa.select(User.id).where(User.username == "assessor")) is not None
        if not exists:
            try:
                create_demo(session, password)
            except InvalidInput as exc:
                raise click.ClickException(str(exc)) from None
    if exists and not trainees:
        click.echo("demo data exists already: nothing changed")
        return
    if not exists:
        click.echo(f"demo accounts (password: {password}): admin, coordinator, assessor, qa, trainee, trainee2")
    if trainees:
        with click.progressbar(length=trainees, label="generated trainees", show_pos=True, file=sys.stderr) as bar:
            try:
                summary = generate(
                    db.sessions,
                    trainees,
                    password,
                    seed=seed,
                    cohort_size=sizes,
                    on_batch=lambda s: bar.update(s.trainees - bar.pos),
                )
            except InvalidInput as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(
            f"generated {summary.trainees} trainees (password: {password}) in {summary.cohorts} cohorts "
            f"with {summary.assessors} assessors: {summary.enrolments} enrolments, "
            f"{summary.evidence} pieces of evidence, {summary.mappings} judgements, "
            f"{summary.completions} completion records"
        )
