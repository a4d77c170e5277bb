"""What coordinators do: create cohorts, enrol trainees, assign assessors and withdraw, each audited."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import cohort_facts, enrolment_facts, require, trainee_enrolment_facts
from assessor.core.database import flush_or_changed
from assessor.domain import limits, policy
from assessor.domain.audit_states import cohort_state, enrolment_state
from assessor.domain.dates import start_date_problem
from assessor.domain.errors import InvalidInput, Locked
from assessor.domain.progress import assess
from assessor.domain.vocabulary import EnrolmentStatus, Role
from assessor.models import Cohort, Enrolment, EnrolmentProgress, UnitVersion, User
from assessor.progress.queries import tally_columns
from assessor.standards.queries import unit_of, usage_of


def create_cohort(session: so.Session, actor: User, name: str, coordinators: Iterable[User] = ()) -> Cohort:
    """Create a cohort run by the given coordinators."""
    require(policy.may_run_cohorts(actor_of(actor)), "Only administrators and coordinators create cohorts.")
    if not name.strip():
        raise InvalidInput({"name": "Enter a name for the cohort."})
    if problems := limits.too_long({"name": (name.strip(), limits.NAME)}):
        raise InvalidInput(problems)
    if session.scalar(sa.select(Cohort.id).where(Cohort.name == name.strip())) is not None:
        raise InvalidInput({"name": f"A cohort called {name.strip()!r} exists already."})
    cohort = Cohort(name=name.strip(), coordinators=list(coordinators))
    session.add(cohort)
    session.flush()
    after = cohort_state(cohort.name, [u.username for u in cohort.coordinators])
    audit.record(session, actor, "cohort.create", "cohort", cohort.id, None, after)
    return cohort


def enrol(
    session: so.Session,
    actor: User,
    trainee: User,
    unit_version: UnitVersion,
    assessors: Sequence[User],
    start_date: datetime.date,
    cohort: Cohort | None = None,
) -> Enrolment:
    """Enrol a trainee in a unit version, within a cohort (only an administrator enrols outside one), with assessors."""
    who = actor_of(actor)
    cohort_rules = cohort_facts(cohort) if cohort is not None else policy.CohortFacts(frozenset())
    require(
        policy.may_enrol(who, cohort_rules, tuple(trainee_enrolment_facts(session, trainee.id).values())),
        "You can enrol trainees only in cohorts you run, and only trainees whose every enrolment is in a cohort "
        "you run.",
    )
    problems = {}
    if trainee.role != Role.TRAINEE:
        problems["trainee"] = f"{trainee.username} is not a trainee."
    if not assessors:
        problems["assessors"] = "Assign at least one assessor."
    elif any(a.role != Role.ASSESSOR or not a.active for a in assessors):
        problems["assessors"] = "Every assessor must be an active assessor account."
    if date_problem := start_date_problem(start_date, datetime.date.today()):
        problems["start_date"] = date_problem
    unit, usage = unit_of(unit_version), usage_of(session, unit_version)
    if not usage.accepts_enrolment_starting(start_date):
        problems["unit"] = (
            f"{unit.display_code} was {usage.status} on {usage.since}: enrolments that started before then "
            "continue, new ones are refused."
        )
    elif not usage.is_current and not policy.may_enrol_in_retired_unit(who):
        problems["unit"] = (
            f"{unit.display_code} was {usage.status} on {usage.since}: only an administrator records an "
            "enrolment that began before then."
        )
    duplicate = session.scalar(
        sa.select(Enrolment.id).where(Enrolment.trainee_id == trainee.id, Enrolment.unit_version_id == unit_version.id)
    )
    if duplicate is not None:
        problems["unit"] = f"{trainee.username} is already enrolled in {unit.key}."
    if problems:
        raise InvalidInput(problems)
    enrolment = Enrolment(
        trainee=trainee, unit_version=unit_version, assessors=list(assessors), start_date=start_date, cohort=cohort
    )
    session.add(enrolment)
    session.flush()
    session.add(EnrolmentProgress.of(enrolment, **tally_columns(assess(unit, []).tally())))
    audit.record(session, actor, "enrolment.create", "enrolment", enrolment.id, None, state_of(enrolment))
    return enrolment


def assign_assessors(session: so.Session, actor: User, enrolment: Enrolment, assessors: Sequence[User]) -> Enrolment:
    """Replace the assessors of an open enrolment."""
    _require_manager(actor, enrolment)
    if not enrolment.status.is_open:
        raise Locked(f"The enrolment is {enrolment.status.value}: its assessors cannot change.")
    if not assessors:
        raise InvalidInput({"assessors": "Assign at least one assessor."})
    if any(a.role != Role.ASSESSOR or not a.active for a in assessors):
        raise InvalidInput({"assessors": "Every assessor must be an active assessor account."})
    before = state_of(enrolment)
    enrolment.assessors = list(assessors)
    flush_or_changed(session, "enrolment")
    after = state_of(enrolment)
    if after != before:
        audit.record(session, actor, "enrolment.assign", "enrolment", enrolment.id, before, after)
    return enrolment


def withdraw(session: so.Session, actor: User, enrolment: Enrolment, reason: str) -> Enrolment:
    """Withdraw a trainee from an open enrolment, with the reason recorded."""
    _require_manager(actor, enrolment)
    if not enrolment.status.is_open:
        raise Locked(f"The enrolment is {enrolment.status.value} already.")
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the trainee is withdrawn."})
    if problems := limits.too_long({"reason": (reason.strip(), limits.REASON)}):
        raise InvalidInput(problems)
    before = state_of(enrolment)
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.end_date = datetime.date.today()
    flush_or_changed(session, "enrolment")
    after = {**state_of(enrolment), "reason": reason.strip()}
    audit.record(session, actor, "enrolment.withdraw", "enrolment", enrolment.id, before, after)
    return enrolment


def state_of(enrolment: Enrolment) -> dict[str, object]:
    """What the audit trail keeps of an enrolment."""
    return enrolment_state(
        enrolment.trainee_id,
        enrolment.unit_version.key,
        enrolment.cohort_id,
        (a.id for a in enrolment.assessors),
        enrolment.status,
        enrolment.start_date,
        enrolment.end_date,
    )


def _require_manager(actor: User, enrolment: Enrolment) -> None:
    require(
        policy.may_manage_enrolment(actor_of(actor), enrolment_facts(enrolment)),
        "You can only manage enrolments in cohorts you coordinate.",
    )
