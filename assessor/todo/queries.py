"""What waits for someone: observations for a trainee to acknowledge; for an assessor, trainees' submissions to judge
and units ready to sign off; for a coordinator (or administrator), stale enrolments in their cohorts and accounts
still waiting for their first password. A fixed number of statements whoever asks, each list cut at SHOWN."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.orm.interfaces import ORMOption

from assessor.accounts.queries import invitable
from assessor.core.access import sees_enrolment
from assessor.domain.vocabulary import OPEN, EnrolmentStatus, Role
from assessor.models import (
    Acknowledgement,
    Enrolment,
    EnrolmentProgress,
    Evidence,
    EvidenceMapping,
    ReviewDecision,
    SampleReview,
    User,
    enrolment_assessor,
)
from assessor.quality.queries import OPEN_REVIEWS, actions_for, to_confirm, to_countersign

SHOWN = 10  # items of each list shown; the count says how many there are
# A count stops here and says "more than": counting every stale enrolment of a provider with 100,000 trainees read
# every one of them on every view of the coordinator's home.
COUNTED_TO = 1_000
# What the lists show of each item, loaded with the items: one person and one unit version each, joined in the same
# statement.
BY_WHOM = (so.joinedload(Evidence.recorded_by), so.joinedload(Evidence.trainee))
WHO_IN_WHAT = (so.joinedload(Enrolment.trainee), so.joinedload(Enrolment.unit_version))
REVIEWED = (so.selectinload(SampleReview.enrolment).options(*WHO_IN_WHAT),)
ABOUT_WHOM = (so.selectinload(ReviewDecision.review).selectinload(SampleReview.enrolment).options(*WHO_IN_WHAT),)
T = TypeVar("T")


@dataclass(frozen=True)
class Waiting(Generic[T]):
    """Some of what waits (the first SHOWN), and how many in all."""

    items: list[T] = field(default_factory=list)
    count: int = 0  # counted to COUNTED_TO + 1

    @property
    def said(self) -> str:
        """The count as a list says it: "More than 1,000" once it passes COUNTED_TO."""
        return f"More than {COUNTED_TO:,}" if self.count > COUNTED_TO else str(self.count)


@dataclass(frozen=True)
class ToDo:
    """Everything that waits for one person."""

    to_acknowledge: Waiting[Evidence] = field(default_factory=Waiting)
    to_judge: Waiting[Evidence] = field(default_factory=Waiting)
    to_sign_off: Waiting[Enrolment] = field(default_factory=Waiting)
    stale: Waiting[Enrolment] = field(default_factory=Waiting)
    accounts_waiting: Waiting[User] = field(default_factory=Waiting)  # counted, not listed
    actions: Waiting[ReviewDecision] = field(default_factory=Waiting)  # asked of an assessor by a quality assurer
    to_countersign: Waiting[SampleReview] = field(default_factory=Waiting)
    to_confirm: Waiting[ReviewDecision] = field(default_factory=Waiting)  # actions an assessor says are done

    @property
    def empty(self) -> bool:
        return not (
            self.to_acknowledge.count
            or self.to_judge.count
            or self.to_sign_off.count
            or self.stale.count
            or self.accounts_waiting.count
            or self.actions.count
            or self.to_countersign.count
            or self.to_confirm.count
        )


def to_do(session: so.Session, user: User, today: datetime.date, stale_after_days: int) -> ToDo:
    """What waits for `user`."""
    if user.role == Role.TRAINEE:
        return ToDo(to_acknowledge=_waiting(session, _to_acknowledge(user), Evidence.recorded_at.desc(), BY_WHOM))
    if user.role == Role.ASSESSOR:
        return ToDo(
            to_judge=_waiting(session, _to_judge(user), Evidence.recorded_at, BY_WHOM),
            to_sign_off=_waiting(session, _to_sign_off(user), Enrolment.id, WHO_IN_WHAT),
            actions=_waiting(session, actions_for(user), ReviewDecision.due_on, ABOUT_WHOM),
        )
    if user.role == Role.QUALITY_ASSURER:
        return ToDo(
            to_countersign=_waiting(session, to_countersign(), SampleReview.added_at, REVIEWED),
            to_confirm=_waiting(session, to_confirm(), ReviewDecision.acted_at, ABOUT_WHOM),
        )
    stale_since = today - datetime.timedelta(days=stale_after_days)
    # Longest without evidence first (none at all first of those), in the order of an index: no sort of them all.
    oldest = (EnrolmentProgress.last_evidence.asc().nulls_first(), EnrolmentProgress.enrolment_id)
    stale = _stale(user, stale_since)
    counted = _count(session, stale)
    if counted > COUNTED_TO:  # many: walk the index of last evidence rather than sort them all
        stale = _stale(user, stale_since, many=True)
    return ToDo(
        stale=_waiting(session, stale, oldest, WHO_IN_WHAT, counted),
        accounts_waiting=Waiting(count=_count(session, invitable(user))),
    )


Order = sa.ColumnElement[Any] | so.InstrumentedAttribute[Any]


def _waiting(
    session: so.Session,
    query: sa.Select[T],
    order: Order | tuple[Order, ...],
    shown_with: Sequence[ORMOption],
    counted: int | None = None,
) -> Waiting[T]:
    """How many `query` finds (to COUNTED_TO + 1, unless already `counted`), and the first SHOWN with what the lists
    show of them (so that they are read at once, not one query an item)."""
    count = _count(session, query) if counted is None else counted
    if not count:
        return Waiting()
    ordered = query.options(*shown_with).order_by(*(order if isinstance(order, tuple) else (order,)))
    return Waiting(list(session.scalars(ordered.limit(SHOWN))), count)


def _count(session: so.Session, query: sa.Select[Any]) -> int:
    """How many rows `query` finds, counted to COUNTED_TO + 1 at most."""
    return session.scalar(sa.select(sa.func.count()).select_from(query.limit(COUNTED_TO + 1).subquery())) or 0


def _to_acknowledge(user: User) -> sa.Select[Evidence]:
    """Observations about the trainee, by others, not yet acknowledged at their current version."""
    acknowledged = sa.exists().where(
        Acknowledgement.evidence_id == Evidence.id, Acknowledgement.evidence_version == Evidence.version
    )
    return sa.select(Evidence).where(
        Evidence.trainee_id == user.id,
        Evidence.recorded_by_id != user.id,
        Evidence.erased_on.is_(None),
        ~acknowledged,
    )


def _to_judge(user: User) -> sa.Select[Evidence]:
    """What trainees submitted that waits for a judgement in an open enrolment the user assesses."""
    pending = (
        sa.select(EvidenceMapping.evidence_id)
        .join(Enrolment, Enrolment.id == EvidenceMapping.enrolment_id)
        .join(enrolment_assessor, enrolment_assessor.c.enrolment_id == Enrolment.id)
        .where(
            enrolment_assessor.c.user_id == user.id,
            EvidenceMapping.verdict.is_(None),
            Enrolment.status.in_(OPEN),
        )
    )
    return sa.select(Evidence).where(Evidence.submitted_by_trainee, Evidence.id.in_(pending))


def _to_sign_off(user: User) -> sa.Select[Enrolment]:
    """The user's enrolments whose every criterion and item is satisfied, and that no quality assurer is reviewing
    (or countersigning)."""
    reviewed = sa.select(SampleReview.enrolment_id).where(SampleReview.state.in_(OPEN_REVIEWS))
    return (
        sa.select(Enrolment)
        .join(enrolment_assessor, enrolment_assessor.c.enrolment_id == Enrolment.id)
        .where(
            enrolment_assessor.c.user_id == user.id,
            Enrolment.status == EnrolmentStatus.READY_FOR_SIGN_OFF,
            Enrolment.id.not_in(reviewed),
        )
    )


def _stale(user: User, since: datetime.date, many: bool = False) -> sa.Select[Enrolment]:
    """Open enrolments in the user's cohorts (every cohort, for an administrator) with no evidence since `since`
    (none at all, for one that started before it). `many`: see access.visible_enrolments."""
    query = (
        sa.select(Enrolment)
        .join(EnrolmentProgress, EnrolmentProgress.enrolment_id == Enrolment.id)
        .where(
            Enrolment.status.in_(OPEN),
            sa.or_(  # the date on its own, so that the index of last_evidence can find them
                EnrolmentProgress.last_evidence < since,
                sa.and_(EnrolmentProgress.last_evidence.is_(None), Enrolment.start_date < since),
            ),
        )
    )
    if user.role != Role.ADMIN:
        query = query.where(sees_enrolment(user, many))  # in a coordinator's cohorts
    return query
