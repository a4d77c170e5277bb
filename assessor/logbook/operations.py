"""The logbook of hours a unit asks for: the trainee (or an assessor for them) logs work, an assessor verifies it;
each audited, and sign-off counts only what is verified."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import enrolment_facts, require
from assessor.domain import limits, policy
from assessor.domain.errors import InvalidInput, Locked
from assessor.models import Enrolment, LogbookEntry, User, utcnow
from assessor.progress.operations import reassess
from assessor.standards.queries import unit_of

MOST_MINUTES = 24 * 60  # one entry is one day's work at most


def log_hours(
    session: so.Session,
    actor: User,
    enrolment: Enrolment,
    worked_on: datetime.date,
    minutes: int,
    description: str,
    submission: str,
    today: datetime.date,
) -> LogbookEntry:
    """Log a day's work toward the enrolment's hours; the same form sent twice (its submission token) logs once."""
    require(
        policy.may_log_hours(actor_of(actor), enrolment_facts(enrolment)),
        "Only the trainee or an assessor of this open enrolment logs hours toward it.",
    )
    logbook = unit_of(enrolment.unit_version).logbook
    if logbook is None:
        raise InvalidInput({"minutes": f"{enrolment.unit_version.title} asks for no logged hours."})
    description = description.strip()
    problems = limits.too_long({"description": (description, limits.COMMENT)})
    if not description:
        problems["description"] = f"Say what the work was ({logbook.context})."
    if not 0 < minutes <= MOST_MINUTES:
        problems["minutes"] = "Log between a minute and 24 hours for one day."
    if worked_on > today:
        problems["worked_on"] = "The day worked cannot be in the future."
    elif worked_on < enrolment.start_date:
        problems["worked_on"] = f"The day worked cannot be before the enrolment started, on {enrolment.start_date}."
    if problems:
        raise InvalidInput(problems)
    existing = session.scalar(sa.select(LogbookEntry).where(LogbookEntry.submission == submission))
    if existing is not None:
        if existing.enrolment_id != enrolment.id or existing.recorded_by_id != actor.id:
            raise InvalidInput({"submission": "This form was sent by someone else: open the logbook again."})
        return existing
    entry = LogbookEntry(
        enrolment_id=enrolment.id,
        worked_on=worked_on,
        minutes=minutes,
        description=description,
        recorded_by_id=actor.id,
        submission=submission,
    )
    session.add(entry)
    session.flush()
    audit.record(session, actor, "logbook.log", "enrolment", enrolment.id, None, _state(entry))
    return entry


def verify_hours(session: so.Session, actor: User, enrolment: Enrolment, entry: LogbookEntry) -> LogbookEntry:
    """An assessor of the enrolment vouches for logged hours; they then count toward sign-off."""
    facts = enrolment_facts(enrolment)
    require(
        policy.may_assess(actor_of(actor), facts) and facts.status.is_open,
        "Only an assessor of this open enrolment verifies its hours.",
    )
    if entry.enrolment_id != enrolment.id:
        raise InvalidInput({"entry": "That entry is not in this enrolment's logbook."})
    if entry.verified_at is not None:
        raise Locked(f"The hours of {entry.worked_on} were verified already.")
    before = _state(entry)
    entry.verified_by_id, entry.verified_at = actor.id, utcnow()
    session.flush()
    audit.record(session, actor, "logbook.verify", "enrolment", enrolment.id, before, _state(entry))
    reassess(session, actor, enrolment)
    return entry


def _state(entry: LogbookEntry) -> dict[str, object]:
    return {
        "entry": entry.id,
        "worked_on": entry.worked_on.isoformat(),
        "minutes": entry.minutes,
        "description": entry.description,
        "verified_by": entry.verified_by_id,
    }
