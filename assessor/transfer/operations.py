"""Carrying out a checked import (in batches, or at once from the command line), undoing one that failed, inviting
its trainees; and noting each export in the audit trail."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts.operations import create_user, invite
from assessor.cohorts.operations import create_cohort, enrol
from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require
from assessor.core.passwords import UNUSABLE
from assessor.domain import audit_records, policy
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import Role, TokenPurpose
from assessor.models import (
    AccountToken,
    Cohort,
    Enrolment,
    EnrolmentProgress,
    UnitVersion,
    User,
    cohort_coordinator,
    enrolment_assessor,
    pending,
)
from assessor.transfer.imports import Plan, PlannedEnrolment

ONLY_STAFF = "Only administrators and coordinators import."
IMPORT_DONE = "import"


def import_rows(
    session: so.Session,
    actor: User,
    plan: Plan,
    rows: Sequence[PlannedEnrolment],
    import_id: int | None = None,
    until: float | None = None,
) -> int:
    """Create the enrolments of these rows of a checked plan, with the cohorts and trainees (no password yet) they need
    that do not exist yet; how many of the rows it went through: all, or, once the monotonic clock passes `until`,
    those before (at least one).

    With `import_id`, the session is that import's (`pending.sees`): what it creates is the import's, hidden from
    everyone else until `finish_import`, and a row the import wrote already (in an attempt that was cut short) is not
    written again. Someone else taking a username or cohort name the plan counted as new, or enrolling a trainee
    meanwhile, is InvalidInput (or, in a race, an IntegrityError): the plan no longer holds."""
    require(policy.may_run_cohorts(actor_of(actor)), ONLY_STAFF)
    if plan.problems:
        raise InvalidInput({"file": "The file has problems: nothing was imported."})
    new_trainees = {t.username: t for t in plan.new_trainees}
    new_cohorts = set(plan.new_cohorts)
    names = {r.cohort for r in rows}
    cohorts = {c.name: c for c in session.scalars(sa.select(Cohort).where(Cohort.name.in_(names)))}
    usernames = {r.username for r in rows} | {a for r in rows for a in r.assessors}
    users = {u.username: u for u in session.scalars(sa.select(User).where(User.username.in_(usernames)))}
    # What the plan counts as new and is there already must be this import's own (written by an earlier attempt);
    # anything else is someone else's, made meanwhile, and creating it again is refused.
    made_cohorts = {c.name for c in cohorts.values() if import_id is not None and c.pending_import_id == import_id}
    made_users = {u.username for u in users.values() if import_id is not None and u.pending_import_id == import_id}
    written = set()
    if import_id is not None:
        query = sa.select(Enrolment.trainee_id, Enrolment.unit_version_id).where(
            Enrolment.pending_import_id == import_id, Enrolment.trainee_id.in_([u.id for u in users.values()])
        )
        written = {(trainee_id, version_id) for trainee_id, version_id in session.execute(query)}
    versions = {(v.unit_id, v.version): v for v in session.scalars(sa.select(UnitVersion))}
    done = 0
    for row in rows:
        if done and until is not None and time.monotonic() > until:
            break
        done += 1
        if row.cohort in new_cohorts and row.cohort not in made_cohorts:
            coordinators = [actor] if actor.role == Role.COORDINATOR else []
            cohorts[row.cohort] = create_cohort(session, actor, row.cohort, coordinators)
            made_cohorts.add(row.cohort)
        if row.username in new_trainees and row.username not in made_users:
            planned = new_trainees[row.username]
            users[row.username] = create_user(
                session, actor, planned.username, planned.name, Role.TRAINEE, None, planned.email
            )
            made_users.add(row.username)
        cohort, trainee = cohorts.get(row.cohort), users.get(row.username)
        assessors = [users[name] for name in row.assessors if name in users]
        if cohort is None or trainee is None or len(assessors) != len(row.assessors):
            raise InvalidInput({"file": "An account or cohort the file names is gone: nothing was imported."})
        version = versions[row.unit_id, row.version]
        if (trainee.id, version.id) in written:
            continue
        enrol(session, actor, trainee, version, assessors, row.start_date, cohort)
    return done


def finish_import(session: so.Session, actor: User, counts: dict[str, int], import_id: int | None = None) -> list[int]:
    """The end of an import, in the caller's transaction: its rows become everyone's (one statement a table, however
    many there are), and the audit trail says the import is done. The ids of its new trainees with an e-mail address,
    to invite."""
    require(policy.may_run_cohorts(actor_of(actor)), ONLY_STAFF)
    invited: list[int] = []
    if import_id is not None:
        mine = sa.select(User.id).where(User.pending_import_id == import_id, User.email.is_not(None))
        invited = list(pending.sees(session, import_id).scalars(mine.order_by(User.id)))
        for model in pending.MARKED:
            session.execute(sa.update(model).where(model.pending_import_id == import_id).values(pending_import_id=None))
    audit.record(session, actor, IMPORT_DONE, "import", import_id or "-", None, counts)
    return invited


def undo_import(session: so.Session, import_id: int, limit: int) -> int:
    """Remove up to `limit` of the rows an unfinished import wrote (its enrolments first, then its accounts, then its
    cohorts), in the caller's transaction, and say which in the audit trail; how many were removed, 0 when none is
    left. Nobody but the import ever saw them, so nothing else refers to them."""
    pending.sees(session, import_id)
    removed: dict[str, list[int]] = {name: [] for name in audit_records.UNDONE}

    def first(model: type[User | Cohort | Enrolment]) -> list[int]:
        query = sa.select(model.id).where(model.pending_import_id == import_id).order_by(model.id).limit(limit)
        return list(session.scalars(query))

    if enrolments := first(Enrolment):
        session.execute(sa.delete(EnrolmentProgress).where(EnrolmentProgress.enrolment_id.in_(enrolments)))
        session.execute(sa.delete(enrolment_assessor).where(enrolment_assessor.c.enrolment_id.in_(enrolments)))
        session.execute(sa.delete(Enrolment).where(Enrolment.id.in_(enrolments)))
        removed["enrolments"] = enrolments
    elif accounts := first(User):
        session.execute(sa.delete(User).where(User.id.in_(accounts)))
        removed["accounts"] = accounts
    elif cohorts := first(Cohort):
        session.execute(sa.delete(cohort_coordinator).where(cohort_coordinator.c.cohort_id.in_(cohorts)))
        session.execute(sa.delete(Cohort).where(Cohort.id.in_(cohorts)))
        removed["cohorts"] = cohorts
    count = sum(len(ids) for ids in removed.values())
    if count:
        audit.record(session, None, audit_records.IMPORT_UNDO, "import", import_id, None, removed)
    return count


def invite_trainees(session: so.Session, actor: User, ids: Sequence[int], until: float | None = None) -> int:
    """E-mail an invitation to each of these trainees who has an address and still no password nor invitation (so
    that asking twice invites once); how many of the ids it went through: all, or, once the monotonic clock passes
    `until`, those before (at least one)."""
    invitable = session.scalars(
        sa.select(User).where(
            User.id.in_(ids),
            User.role == Role.TRAINEE,
            User.active,
            User.email.is_not(None),
            User.password_hash == UNUSABLE,
            ~sa.exists().where(AccountToken.user_id == User.id, AccountToken.purpose == TokenPurpose.INVITATION),
        )
    )
    by_id = {user.id: user for user in invitable}
    done = 0
    for user_id in ids:
        if done and until is not None and time.monotonic() > until:
            break
        done += 1
        if user_id in by_id:
            invite(session, actor, by_id[user_id])
    return done


def apply_import(session: so.Session, actor: User, plan: Plan) -> tuple[int, int, int]:
    """Create what a checked import plan lists, all in the caller's transaction (the command line's import): cohorts,
    trainees (no password yet: those with an e-mail address are sent an invitation to set one) and enrolments."""
    import_rows(session, actor, plan, plan.new_enrolments)
    counts = {
        "cohorts": len(plan.new_cohorts),
        "trainees": len(plan.new_trainees),
        "enrolments": len(plan.new_enrolments),
    }
    finish_import(session, actor, counts)
    usernames = [t.username for t in plan.new_trainees]
    invite_trainees(session, actor, list(session.scalars(sa.select(User.id).where(User.username.in_(usernames)))))
    return len(plan.new_cohorts), len(plan.new_trainees), len(plan.new_enrolments)


def record_export(session: so.Session, actor: User, kind: str, filters: dict[str, Any]) -> None:
    """Note in the audit trail who exported what."""
    require(policy.may_run_cohorts(actor_of(actor)), "Only administrators and coordinators export.")
    audit.record(session, actor, "export", "export", kind, None, filters)
