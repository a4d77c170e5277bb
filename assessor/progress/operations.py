"""Keeping an enrolment's tally and status current whenever its judgements change."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.cohorts.operations import state_of
from assessor.core import audit
from assessor.core.database import flush_or_changed
from assessor.domain.completion import obstacles
from assessor.domain.vocabulary import OPEN, EnrolmentStatus
from assessor.models import Enrolment, EnrolmentProgress, User
from assessor.progress.queries import not_held, prerequisites_held, progress_of, tally_columns, verified_minutes
from assessor.standards.queries import unit_of


def reassess(session: so.Session, actor: User | None, enrolment: Enrolment) -> None:
    """After its judgements change: rewrite the enrolment's tally, and move an open one between active and ready for
    sign-off."""
    # Locked first (PostgreSQL), so that the judgements read next include those of any writer that got here before.
    stored = session.scalars(
        sa.select(EnrolmentProgress).where(EnrolmentProgress.enrolment_id == enrolment.id).with_for_update()
    ).one()
    progress = progress_of(session, enrolment)
    for column, value in tally_columns(progress.tally()).items():
        setattr(stored, column, value)
    if not enrolment.status.is_open:
        return
    unit = unit_of(enrolment.unit_version)
    missing = not_held(prerequisites_held(session, enrolment.trainee_id, unit))
    ready = not obstacles(unit, progress, enrolment.status, missing, verified_minutes(session, enrolment))
    status = EnrolmentStatus.READY_FOR_SIGN_OFF if ready else EnrolmentStatus.ACTIVE
    if status != enrolment.status:
        before = state_of(enrolment)
        enrolment.status = status
        flush_or_changed(session, "enrolment")
        audit.record(session, actor, "enrolment.status", "enrolment", enrolment.id, before, state_of(enrolment))


def reassess_requiring(session: so.Session, actor: User, trainee_id: int, done: Enrolment | None = None) -> None:
    """After a completion record of `done` is issued or revoked, or a credit recorded or withdrawn: the trainee's
    (other) open enrolments whose units require one, which may have become ready for sign-off or stopped being."""
    query = sa.select(Enrolment).where(Enrolment.trainee_id == trainee_id, Enrolment.status.in_(OPEN))
    others = session.scalars(query.where(Enrolment.id != done.id) if done else query)
    for other in others:
        if unit_of(other.unit_version).prerequisites:
            reassess(session, actor, other)
