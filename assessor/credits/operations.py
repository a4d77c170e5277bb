"""Credits for units a trainee achieved elsewhere, recorded so that units requiring them can be signed off; each
recorded and withdrawn with an audit event, never deleted."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require, trainee_enrolment_facts
from assessor.domain import limits, policy
from assessor.domain.audit_states import credit_state
from assessor.domain.dates import spoken
from assessor.domain.errors import InvalidInput, Locked
from assessor.domain.vocabulary import Role
from assessor.models import Credit, User, utcnow
from assessor.progress.operations import reassess_requiring

UNIT = 64  # a publisher's code or catalogue id
EARLIEST = datetime.date(1950, 1, 1)  # a qualification held for a working life


def record_credit(
    session: so.Session,
    actor: User,
    trainee: User,
    unit: str,
    awarded_on: datetime.date,
    source: str,
    today: datetime.date,
) -> Credit:
    """Record that the trainee holds `unit` (as a prerequisite names it), awarded elsewhere on `awarded_on`, with
    where it was achieved and what was seen of it."""
    _require_recorder(session, actor, trainee.id)
    unit, source = unit.strip(), source.strip()
    problems = limits.too_long({"unit": (unit, UNIT), "source": (source, limits.REASON)})
    if trainee.role != Role.TRAINEE:
        problems["trainee"] = f"{trainee.username} is not a trainee."
    if not unit:
        problems["unit"] = "Name the unit, by its code."
    if not source:
        problems["source"] = "Say where it was achieved and what you saw of it (a record of achievement, a transcript)."
    if awarded_on > today:
        problems["awarded_on"] = "The date it was awarded cannot be in the future."
    elif awarded_on < EARLIEST:
        problems["awarded_on"] = f"Check the year: the date it was awarded cannot be before {spoken(EARLIEST)}."
    already = f"{trainee.display_name} has a credit for {unit} already."
    standing = sa.select(Credit.id).where(
        Credit.trainee_id == trainee.id, Credit.unit_key == unit.casefold(), Credit.withdrawn_at.is_(None)
    )
    if unit and session.scalar(standing) is not None:
        problems["unit"] = already
    if problems:
        raise InvalidInput(problems)
    credit = Credit(
        trainee_id=trainee.id,
        unit=unit,
        unit_key=unit.casefold(),
        awarded_on=awarded_on,
        source=source,
        recorded_by_id=actor.id,
    )
    session.add(credit)
    try:
        with session.begin_nested():  # the same credit sent twice at once: the unique index keeps one
            session.flush()
    except sa.exc.IntegrityError:
        raise InvalidInput({"unit": already}) from None
    audit.record(session, actor, "credit.record", "credit", credit.id, None, _state(credit))
    reassess_requiring(session, actor, trainee.id)
    return credit


def withdraw_credit(session: so.Session, actor: User, credit: Credit, reason: str) -> Credit:
    """Withdraw a credit recorded in error, with why; units requiring it wait for it again."""
    _require_recorder(session, actor, credit.trainee_id)
    if credit.withdrawn_at is not None:
        raise Locked(f"The credit for {credit.unit} was withdrawn already.")
    reason = reason.strip()
    if not reason:
        raise InvalidInput({"reason": "Say why the credit is withdrawn."})
    if problems := limits.too_long({"reason": (reason, limits.REASON)}):
        raise InvalidInput(problems)
    before = _state(credit)
    credit.withdrawn_at, credit.withdrawn_by_id, credit.withdrawn_because = utcnow(), actor.id, reason
    session.flush()
    audit.record(session, actor, "credit.withdraw", "credit", credit.id, before, _state(credit))
    reassess_requiring(session, actor, credit.trainee_id)
    return credit


def _state(credit: Credit) -> dict[str, object]:
    return credit_state(credit.trainee_id, credit.unit, credit.awarded_on, credit.source, credit.withdrawn_because)


def _require_recorder(session: so.Session, actor: User, trainee_id: int) -> None:
    require(
        policy.may_record_credit(actor_of(actor), tuple(trainee_enrolment_facts(session, trainee_id).values())),
        "Only an administrator or a coordinator of the trainee's cohort records or withdraws a credit.",
    )
