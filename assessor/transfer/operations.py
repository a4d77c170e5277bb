"""Carrying out a checked import, and noting each export in the audit trail."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts.operations import create_user, invite
from assessor.cohorts.operations import create_cohort, enrol
from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require
from assessor.domain import policy
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import Role
from assessor.models import Cohort, UnitVersion, User
from assessor.transfer.imports import Plan


def apply_import(session: so.Session, actor: User, plan: Plan) -> tuple[int, int, int]:
    """Create what a checked import plan lists: cohorts, trainees (no password yet: those with an e-mail address are
    sent an invitation to set one) and enrolments."""
    require(policy.may_run_cohorts(actor_of(actor)), "Only administrators and coordinators import.")
    if plan.problems:
        raise InvalidInput({"file": "The file has problems: nothing was imported."})
    cohorts = {c.name: c for c in session.scalars(sa.select(Cohort))}
    for name in plan.new_cohorts:
        cohorts[name] = create_cohort(session, actor, name, [actor] if actor.role == Role.COORDINATOR else [])
    users = {u.username: u for u in session.scalars(sa.select(User))}
    for trainee in plan.new_trainees:
        # No password yet, so none is hashed: nobody signs in as an imported trainee until theirs is set.
        users[trainee.username] = create_user(
            session, actor, trainee.username, trainee.name, Role.TRAINEE, None, trainee.email
        )
        if trainee.email:
            invite(session, actor, users[trainee.username])
    versions = {(v.unit_id, v.version): v for v in session.scalars(sa.select(UnitVersion))}
    for planned in plan.new_enrolments:
        enrol(
            session,
            actor,
            users[planned.username],
            versions[planned.unit_id, planned.version],
            [users[name] for name in planned.assessors],
            planned.start_date,
            cohorts[planned.cohort],
        )
    counts = {
        "cohorts": len(plan.new_cohorts),
        "trainees": len(plan.new_trainees),
        "enrolments": len(plan.new_enrolments),
    }
    audit.record(session, actor, "import", "import", "-", None, counts)
    return len(plan.new_cohorts), len(plan.new_trainees), len(plan.new_enrolments)


def record_export(session: so.Session, actor: User, kind: str, filters: dict[str, Any]) -> None:
    """Note in the audit trail who exported what."""
    require(policy.may_run_cohorts(actor_of(actor)), "Only administrators and coordinators export.")
    audit.record(session, actor, "export", "export", kind, None, filters)
