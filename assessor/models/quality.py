"""Quality assurance: sampling plans, the enrolments sampled and their reviews, the decisions taken on them, and the
units whose completion records wait for a quality assurer's countersignature."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.domain.vocabulary import ActionState, Outcome, PlanBasis, ReviewState, Stage
from assessor.models.accounts import User
from assessor.models.columns import Timestamp, enum_column, utcnow
from assessor.models.enrolments import Enrolment
from assessor.models.evidence import Evidence

# The countersigning rule that covers every unit.
EVERY_UNIT = "*"


class SamplingPlan(Base):
    """What a quality assurer means to sample over a period, and how the sample is sized."""

    __tablename__ = "sampling_plan"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    basis: so.Mapped[PlanBasis] = so.mapped_column(enum_column(PlanBasis, "plan_basis"))
    stage: so.Mapped[Stage] = so.mapped_column(enum_column(Stage, "sample_stage"))
    period_from: so.Mapped[datetime.date]
    period_to: so.Mapped[datetime.date]
    assessor_percent: so.Mapped[int]
    unit_percent: so.Mapped[int]
    confidence: so.Mapped[int]
    margin: so.Mapped[int]
    per_standard: so.Mapped[int]
    seed: so.Mapped[int]
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    # When the quality assurer confirmed the sample: its reviews begin and its evidence is locked.
    confirmed_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)

    created_by: so.Mapped[User] = so.relationship()
    reviews: so.Mapped[list[SampleReview]] = so.relationship(back_populates="plan", order_by="SampleReview.id")


class SampleReview(Base):
    """One enrolment in a sample, and the quality assurer's review of it.

    A review with no plan is a countersignature request: the assessor signed off a unit that needs a quality
    assurer's countersignature, and the completion record is issued when they give it.
    """

    __tablename__ = "sample_review"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "enrolment_id"),
        # One countersignature under way per enrolment: a sign-off sent twice at once makes one request, not two.
        sa.Index(
            "uq_sample_review_countersigning",
            "enrolment_id",
            unique=True,
            sqlite_where=sa.text("plan_id IS NULL AND state IN ('under_review', 'actions_open')"),
            postgresql_where=sa.text("plan_id IS NULL AND state IN ('under_review', 'actions_open')"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    plan_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("sampling_plan.id"), index=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id"), index=True)
    stage: so.Mapped[Stage] = so.mapped_column(enum_column(Stage, "sample_stage"))
    state: so.Mapped[ReviewState] = so.mapped_column(enum_column(ReviewState, "review_state"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(32))  # why it is in the sample: the plan's words for it
    added_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    added_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    closed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    closed_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    # A countersignature request: who signed off, the date they signed for, and what became of it.
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    signed_on: so.Mapped[datetime.date | None]
    record_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("completion_record.id"))
    declined_because: so.Mapped[str | None] = so.mapped_column(sa.Text)
    version: so.Mapped[int] = so.mapped_column(default=1)

    plan: so.Mapped[SamplingPlan | None] = so.relationship(back_populates="reviews")
    enrolment: so.Mapped[Enrolment] = so.relationship(back_populates="reviews")
    requested_by: so.Mapped[User | None] = so.relationship(foreign_keys=[requested_by_id])
    closed_by: so.Mapped[User | None] = so.relationship(foreign_keys=[closed_by_id])
    decisions: so.Mapped[list[ReviewDecision]] = so.relationship(back_populates="review", order_by="ReviewDecision.id")

    __mapper_args__ = {"version_id_col": version}

    @property
    def countersigning(self) -> bool:
        return self.plan_id is None


class ReviewDecision(Base):
    """A quality assurer's decision on one judgement (a criterion or evidence item) or one piece of evidence of a
    sampled enrolment; when the assessor is to act, the action's progress to the quality assurer's confirmation."""

    __tablename__ = "review_decision"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    review_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("sample_review.id"), index=True)
    target: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    evidence_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("evidence.id"))
    outcome: so.Mapped[Outcome] = so.mapped_column(enum_column(Outcome, "review_outcome"))
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    due_on: so.Mapped[datetime.date | None]
    decided_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    decided_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    action: so.Mapped[ActionState | None] = so.mapped_column(enum_column(ActionState, "action_state"))
    action_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    sent_back_because: so.Mapped[str | None] = so.mapped_column(sa.Text)  # why the last answer was not enough
    acted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    acted_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    confirmed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    confirmed_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    version: so.Mapped[int] = so.mapped_column(default=1)

    review: so.Mapped[SampleReview] = so.relationship(back_populates="decisions")
    evidence: so.Mapped[Evidence | None] = so.relationship()
    decided_by: so.Mapped[User] = so.relationship(foreign_keys=[decided_by_id])
    acted_by: so.Mapped[User | None] = so.relationship(foreign_keys=[acted_by_id])

    __mapper_args__ = {"version_id_col": version}


class CountersignRule(Base):
    """A unit whose completion records a quality assurer countersigns before they are issued (EVERY_UNIT: all)."""

    __tablename__ = "countersign_rule"

    unit_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    set_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    set_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
