"""Evidence about a trainee, its attachments, its mappings to criteria with judgements, and acknowledgements."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.domain.vocabulary import Context, Method, TargetKind, Verdict
from assessor.models.accounts import User
from assessor.models.columns import Timestamp, enum_column, utcnow
from assessor.models.enrolments import Cohort, Enrolment
from assessor.models.standards import UnitVersion


class GroupObservation(Base):
    """One activity observed for several trainees at once (a workshop, a team exercise, a case conference).

    Each trainee's part is a piece of evidence of their own, with the shared account and a copy of each attachment,
    and their own judgements and comments: a trainee sees only their part."""

    __tablename__ = "group_observation"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    activity: so.Mapped[str] = so.mapped_column(sa.String(200))
    unit_version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit_version.id"))
    cohort_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cohort.id"))
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    # The random token of the form it came from: the same form sent twice records it once.
    submission: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)

    unit_version: so.Mapped[UnitVersion] = so.relationship()
    cohort: so.Mapped[Cohort | None] = so.relationship()
    recorded_by: so.Mapped[User] = so.relationship()
    parts: so.Mapped[list[Evidence]] = so.relationship(back_populates="group", order_by="Evidence.id")


class Evidence(Base):
    """One piece of evidence about one trainee: an observation, a report, a work product..."""

    __tablename__ = "evidence"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    trainee_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    method: so.Mapped[Method] = so.mapped_column(enum_column(Method, "evidence_method"))
    context: so.Mapped[Context] = so.mapped_column(enum_column(Context, "evidence_context"))
    observed_on: so.Mapped[datetime.date]
    location: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    narrative: so.Mapped[str] = so.mapped_column(sa.Text)
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    submitted_by_trainee: so.Mapped[bool] = so.mapped_column(default=False)
    version: so.Mapped[int] = so.mapped_column(default=1)
    # Set when the narrative and attachments were erased (retention, or a privacy request), with why.
    erased_on: so.Mapped[datetime.date | None]
    erased_because: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # What the occasion was with, for criteria whose occasions must differ: {dimension: {"value": ..., "kinds": [...]}}.
    dimensions: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    # Set when this is one trainee's part of a group observation.
    group_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("group_observation.id"), index=True)
    # The random token of the form it came from: the same form sent twice records it once.
    submission: so.Mapped[str | None] = so.mapped_column(sa.String(32), unique=True)

    group: so.Mapped[GroupObservation | None] = so.relationship(back_populates="parts")
    trainee: so.Mapped[User] = so.relationship(foreign_keys=[trainee_id])
    recorded_by: so.Mapped[User] = so.relationship(foreign_keys=[recorded_by_id])
    attachments: so.Mapped[list[Attachment]] = so.relationship(back_populates="evidence", order_by="Attachment.id")
    mappings: so.Mapped[list[EvidenceMapping]] = so.relationship(
        back_populates="evidence", order_by="EvidenceMapping.id"
    )
    acknowledgements: so.Mapped[list[Acknowledgement]] = so.relationship(back_populates="evidence")

    __mapper_args__ = {"version_id_col": version}


class Attachment(Base):
    """A file attached to evidence, stored under a random name outside the static files."""

    __tablename__ = "attachment"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    evidence_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("evidence.id"), index=True)
    original_name: so.Mapped[str] = so.mapped_column(sa.String(255))
    size: so.Mapped[int]
    content_type: so.Mapped[str] = so.mapped_column(sa.String(127))
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    stored_name: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    uploaded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    erased_on: so.Mapped[datetime.date | None]  # the file was erased; what it was (name, size, SHA-256) stays

    evidence: so.Mapped[Evidence] = so.relationship(back_populates="attachments")


class EvidenceMapping(Base):
    """Evidence mapped to a criterion or evidence item of an enrolment, with the assessor's judgement."""

    __tablename__ = "evidence_mapping"
    __table_args__ = (sa.UniqueConstraint("evidence_id", "enrolment_id", "target"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    evidence_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("evidence.id"), index=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id"), index=True)
    target_kind: so.Mapped[TargetKind] = so.mapped_column(enum_column(TargetKind, "target_kind"))
    target: so.Mapped[str] = so.mapped_column(sa.String(32))
    verdict: so.Mapped[Verdict | None] = so.mapped_column(enum_column(Verdict, "verdict"))
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    judged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    judged_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    # Set on a mapping copied when its enrolment moved to a newer version of the unit: the one it was copied from.
    carried_from_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("evidence_mapping.id"))
    version: so.Mapped[int] = so.mapped_column(default=1)

    evidence: so.Mapped[Evidence] = so.relationship(back_populates="mappings")
    carried_from: so.Mapped[EvidenceMapping | None] = so.relationship(remote_side=[id])
    enrolment: so.Mapped[Enrolment] = so.relationship(back_populates="mappings")
    judged_by: so.Mapped[User | None] = so.relationship()

    __mapper_args__ = {"version_id_col": version}


class Acknowledgement(Base):
    """The trainee's declaration that evidence, at a given version, is an accurate account."""

    __tablename__ = "acknowledgement"
    __table_args__ = (sa.UniqueConstraint("evidence_id", "evidence_version"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    evidence_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("evidence.id"))
    evidence_version: so.Mapped[int]
    trainee_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    acknowledged_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)

    evidence: so.Mapped[Evidence] = so.relationship(back_populates="acknowledgements")
