"""`assessor retention`: what is due for erasure and why, erasing it, privacy requests, and legal holds."""

from __future__ import annotations

import datetime
import sys
from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from assessor.cli.database import require_schema
from assessor.cli.users import admin_account
from assessor.core.audit import NotSealed, TrailBroken
from assessor.core.database import database
from assessor.domain.errors import InvalidInput, NotAllowed
from assessor.domain.retention import Decision, Rule, rules_with
from assessor.domain.vocabulary import Role
from assessor.evidence.attachments import stored_path
from assessor.models import Cohort, Evidence, User
from assessor.models.retention import LegalHold
from assessor.retention.operations import (
    Erasure,
    erase_if_due,
    erased_files_left,
    place_hold,
    release_hold,
    request_problems,
)
from assessor.retention.queries import Plan, plan

retention = AppGroup("retention", help="Keep evidence as long as the law says, and erase it after.")

SHOWN = 200  # pieces of evidence listed one by one in a plan; the rest are counted


def rules() -> dict[str, Rule]:
    """The retention rules: the regulators' minimums with this organisation's periods (ASSESSOR_RETENTION_MONTHS)."""
    try:
        return rules_with(current_app.config.get("RETENTION_MONTHS") or {})
    except (ValueError, AttributeError) as exc:
        raise click.ClickException(f"ASSESSOR_RETENTION_MONTHS: {exc}") from None


@retention.command("plan")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), help="Plan for this day instead of today.")
@click.option("--trainee", help="Only this trainee's evidence.")
@click.option("--privacy", is_flag=True, help="Plan a privacy request: erase what is past the legal minimum.")
def plan_command(on: datetime.datetime | None, trainee: str | None, privacy: bool) -> None:
    """List the evidence whose content is due for erasure, and why; and what a legal hold keeps."""
    require_schema()
    today = on.date() if on else datetime.date.today()
    the_rules = rules()
    with database().read_sessions() as session:
        trainee_id = _trainee(session, trainee).id if trainee else None
        found = plan(session, the_rules, today, trainee_id, legal=privacy)
    for rule in the_rules.values():
        months = rule.legal_months if privacy else rule.months
        click.echo(f"rule {rule.framework}: {months} months after the result ({rule.basis})")
    click.echo("completion records and the evidence summaries they froze are never erased")
    _say_plan(found)


def _say_plan(found: Plan) -> None:
    for decision in found.due[:SHOWN]:
        click.echo(f"due: {_evidence(decision)} since {decision.due_on}: {decision.why(found.legal)}")
    if len(found.due) > SHOWN:
        click.echo(f"due: ... and {len(found.due) - SHOWN} more")
    for decision in found.held[:SHOWN]:
        holds = "; ".join(f"hold {h.id}: {h.reason}" for h in decision.holds)
        click.echo(f"held: {_evidence(decision)} was due on {decision.due_on}, kept by {holds}")
    if len(found.held) > SHOWN:
        click.echo(f"held: ... and {len(found.held) - SHOWN} more")
    click.echo(
        f"{len(found.due)} due for erasure, {len(found.held)} held, {len(found.kept)} kept "
        f"(on {found.today.isoformat()})"
    )


def _evidence(decision: Decision) -> str:
    holding = decision.holding
    files = (
        f", {holding.attachments} attachment{'s' if holding.attachments != 1 else ''}" if holding.attachments else ""
    )
    return f"evidence {holding.evidence_id} of {holding.trainee} (narrative{files})"


@retention.command("apply")
def apply_command() -> None:
    """Erase the narrative and attachments of every piece of evidence due today, under no hold; each erasure is an
    audit event, and the audit trail stays verifiable. Run it daily (cron or a systemd timer)."""
    require_schema()
    the_rules = rules()
    today = datetime.date.today()
    with database().read_sessions() as session:
        due = [d.holding.evidence_id for d in plan(session, the_rules, today).due]
    _remove_files_left()
    erased = _erase_each(due, lambda session, evidence: erase_if_due(session, None, evidence, the_rules, today))
    click.echo(f"erased the content of {len(erased)} piece(s) of evidence")


@retention.command("erase")
@click.option("--trainee", required=True, help="The trainee whose request it is.")
@click.option("--request", "request", required=True, help="The request: who asked, when, its reference.")
@click.option("--by", "by", required=True, help="The administrator carrying it out.")
def erase_command(trainee: str, request: str, by: str) -> None:
    """A privacy request: erase the content of the trainee's evidence the law no longer requires (past the legal
    minimum, no enrolment open, no hold), and say why each piece that is kept is kept."""
    require_schema()
    if problems := request_problems(request):
        raise click.ClickException(f"--request: {problems}")
    the_rules = rules()
    today = datetime.date.today()
    with database().read_sessions() as session:
        found = plan(session, the_rules, today, _trainee(session, trainee).id, legal=True)
        admin_account(session, by)
    for decision in found.kept + found.held:
        holds = "; ".join(f"hold {h.id}: {h.reason}" for h in decision.holds)
        until = f"until {decision.due_on}: {decision.why(legal=True)}" if decision.due_on else decision.why()
        click.echo(f"kept: {_evidence(decision)} {holds or until}")
    due = [d.holding.evidence_id for d in found.due]

    def erase(session: sa.orm.Session, evidence: Evidence) -> Erasure | Decision:
        admin = admin_account(session, by)
        return erase_if_due(session, admin, evidence, the_rules, today, legal=True, request=request)

    erased = _erase_each(due, erase)
    click.echo(
        f"erased the content of {len(erased)} piece(s) of evidence of {trainee}; kept {len(found.kept + found.held)}"
    )


def _erase_each(ids: list[int], erase: Callable[[sa.orm.Session, Evidence], Erasure | Decision]) -> list[Erasure]:
    """Erase each piece in its own transaction, removing its files once committed; stop at the first refusal."""
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    erased = []
    for evidence_id in ids:
        try:
            with database().sessions.begin() as session:
                evidence = session.get(Evidence, evidence_id)
                result = erase(session, evidence) if evidence is not None and evidence.erased_on is None else None
        except (TrailBroken, NotSealed, NotAllowed, InvalidInput) as exc:
            click.echo(f"evidence {evidence_id}: {exc}", err=True)
            sys.exit(1)
        if isinstance(result, Erasure):
            for name in result.files:
                stored_path(upload_dir, name).unlink(missing_ok=True)
            click.echo(f"erased: evidence {evidence_id}: {result.because} ({result.events} audit events rewritten)")
            erased.append(result)
        elif isinstance(result, Decision):
            click.echo(f"kept: evidence {evidence_id}: no longer due ({result.why()})")
    return erased


def _remove_files_left() -> None:
    """Files of attachments erased by a run that stopped between its commit and removing them."""
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    with database().read_sessions() as session:
        names = erased_files_left(session)
    for name in names:
        stored_path(upload_dir, name).unlink(missing_ok=True)


# --- legal holds -------------------------------------------------------------------------------


@retention.command("hold")
@click.option("--trainee", help="Hold this trainee's evidence.")
@click.option("--cohort", help="Hold the evidence of this cohort's enrolments (its name).")
@click.option("--reason", required=True, help="Why: the matter, the request, its reference.")
@click.option("--by", "by", required=True, help="The administrator placing the hold.")
def hold_command(trainee: str | None, cohort: str | None, reason: str, by: str) -> None:
    """Place a legal hold: nothing of the trainee's or the cohort's evidence is erased until it is released."""
    require_schema()
    try:
        with database().sessions.begin() as session:
            subject = _trainee(session, trainee) if trainee else None
            group = _cohort(session, cohort) if cohort else None
            hold = place_hold(session, admin_account(session, by), reason, trainee=subject, cohort=group)
            said = f"hold {hold.id} placed on " + (f"trainee {trainee}" if trainee else f"cohort {cohort}")
    except (InvalidInput, NotAllowed) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(said)


@retention.command("release")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="Why the hold ends.")
@click.option("--by", "by", required=True, help="The administrator releasing it.")
def release_command(hold_id: int, reason: str, by: str) -> None:
    """Release a legal hold: the evidence it kept falls due again by its own rules."""
    require_schema()
    try:
        with database().sessions.begin() as session:
            hold = session.get(LegalHold, hold_id)
            if hold is None:
                raise click.ClickException(f"there is no hold {hold_id}")
            release_hold(session, admin_account(session, by), hold, reason)
    except (InvalidInput, NotAllowed) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"hold {hold_id} released")


@retention.command("holds")
def holds_command() -> None:
    """List the legal holds in force."""
    require_schema()
    with database().read_sessions() as session:
        query = sa.select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)
        holds = session.scalars(query).all()
        for hold in holds:
            subject = (
                f"trainee {hold.trainee.username}" if hold.trainee else f"cohort {hold.cohort and hold.cohort.name}"
            )
            placed = f"placed {hold.placed_at:%Y-%m-%d} by {hold.placed_by.username}"
            click.echo(f"hold {hold.id} on {subject}, {placed}: {hold.reason}")
        if not holds:
            click.echo("no legal holds in force")


def _trainee(session: sa.orm.Session, username: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username.strip().lower()))
    if user is None or user.role is not Role.TRAINEE:
        raise click.ClickException(f"{username} is not a trainee's username")
    return user


def _cohort(session: sa.orm.Session, name: str) -> Cohort:
    cohort = session.scalar(sa.select(Cohort).where(Cohort.name == name.strip()))
    if cohort is None:
        raise click.ClickException(f"there is no cohort named {name}")
    return cohort
