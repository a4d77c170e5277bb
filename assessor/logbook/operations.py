"""The logbook of hours a unit asks for: the trainee (or an assessor for them) logs work, an assessor verifies it;
each audited, and sign-off counts only what is verified."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import enrolment_facts, require
from assessor.domain import limits, policy
from assessor.domain.audit_states import logbook_state
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
    if not problems:
        that_day = sa.select(sa.func.coalesce(sa.func.sum(LogbookEntry.minutes), 0)).where(
            LogbookEntry.enrolment_id == enrolment.id,
            LogbookEntry.worked_on == worked_on,
            LogbookEntry.submission != submission,
        )
        if int(session.scalar(that_day) or 0) + minutes > MOST_MINUTES:
            problems["minutes"] = f"{worked_on} has hours logged already: a day holds at most 24 hours."
    if problems:
        raise InvalidInput(problems)
    if (existing := _sent_before(session, actor, enrolment, submission)) is not None:
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
    try:
        with session.begin_nested():  # the same form sent twice at once: the unique token keeps one
            session.flush()
    except sa.exc.IntegrityError:
        session.expunge(entry)
        found = _sent_before(session, actor, enrolment, submission)
        assert found is not None
        return found
    audit.record(session, actor, "logbook.log", "logbook_entry", entry.id, None, _state(entry))
    return entry


def verify_hours(session: so.Session, actor: User, enrolment: Enrolment, entry: LogbookEntry) -> LogbookEntry:
    """An assessor of the enrolment who did not log the hours vouches for them; they then count toward sign-off."""
    require(
        policy.may_verify_hours(actor_of(actor), enrolment_facts(enrolment), entry.recorded_by_id),
        "Only an assessor of this open enrolment who did not log these hours verifies them.",
    )
    if entry.enrolment_id != enrolment.id:
        raise InvalidInput({"entry": "That entry is not in this enrolment's logbook."})
    before = _state(entry)
    # One verification however many arrive at once: only the first finds it unverified.
    verified: sa.CursorResult[Any] = session.execute(  # type: ignore[assignment]
        sa.update(LogbookEntry)
        .where(LogbookEntry.id == entry.id, LogbookEntry.verified_at.is_(None))
        .values(verified_by_id=actor.id, verified_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if verified.rowcount != 1:
        raise Locked(f"The hours of {entry.worked_on} were verified already.")
    session.refresh(entry)
    audit.record(session, actor, "logbook.verify", "logbook_entry", entry.id, before, _state(entry))
    reassess(session, actor, enrolment)
    return entry


def _sent_before(session: so.Session, actor: User, enrolment: Enrolment, submission: str) -> LogbookEntry | None:
    """The entry this form logged already, if it did; refused when the token is someone else's."""
    existing = session.scalar(sa.select(LogbookEntry).where(LogbookEntry.submission == submission))
    if existing is not None and (existing.enrolment_id != enrolment.id or existing.recorded_by_id != actor.id):
        raise InvalidInput({"submission": "This form was sent by someone else: open the logbook again."})
    return existing


def _state(entry: LogbookEntry) -> dict[str, object]:
    return logbook_state(entry.enrolment_id, entry.worked_on, entry.minutes, entry.description, entry.verified_by_id)
