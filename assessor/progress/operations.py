"""Keeping an enrolment's tally and status current whenever its judgements change."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.cohorts.operations import state_of
from assessor.core import audit
from assessor.core.database import flush_or_changed
from assessor.domain.completion import obstacles
from assessor.domain.vocabulary import EnrolmentStatus
from assessor.models import Enrolment, EnrolmentProgress, User
from assessor.progress.queries import progress_of, tally_columns
from assessor.standards.queries import unit_of


def reassess(session: so.Session, actor: User, enrolment: Enrolment) -> None:
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
    found = obstacles(unit_of(enrolment.unit_version), progress, enrolment.status)
    status = EnrolmentStatus.ACTIVE if found else EnrolmentStatus.READY_FOR_SIGN_OFF
    if status != enrolment.status:
        before = state_of(enrolment)
        enrolment.status = status
        flush_or_changed(session, "enrolment")
        audit.record(session, actor, "enrolment.status", "enrolment", enrolment.id, before, state_of(enrolment))
