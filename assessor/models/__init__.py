"""The records: accounts, unit versions, cohorts, enrolments, evidence, judgements, completion records, audit events."""

from __future__ import annotations

import datetime
import enum
import secrets
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.db import Base


def utcnow() -> datetime.datetime:
    """The current time in UTC (called per row, never once at import)."""
    return datetime.datetime.now(datetime.UTC)


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    ASSESSOR = "assessor"
    TRAINEE = "trainee"


class EnrolmentStatus(enum.StrEnum):
    ACTIVE = "active"
    READY_FOR_SIGN_OFF = "ready_for_sign_off"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class Method(enum.StrEnum):
    DIRECT_OBSERVATION = "direct_observation"
    QUESTIONING = "questioning"
    THIRD_PARTY_REPORT = "third_party_report"
    WORK_PRODUCT = "work_product"
    SIMULATION = "simulation"
    RECOGNISED_PRIOR_LEARNING = "recognised_prior_learning"


class Context(enum.StrEnum):
    WORKPLACE = "workplace"
    SIMULATED_WORKPLACE = "simulated_workplace"
    OFF_THE_JOB = "off_the_job"


class Verdict(enum.StrEnum):
    SATISFIED = "satisfied"
    NOT_YET = "not_yet"


class TargetKind(enum.StrEnum):
    CRITERION = "criterion"
    ITEM = "item"


def _enum(kind: type[enum.StrEnum], name: str) -> sa.Enum:
    """An enum stored as its value in a VARCHAR with a CHECK constraint, the same on SQLite and PostgreSQL."""
    return sa.Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


Timestamp = sa.DateTime(timezone=True)


class User(Base):
    __tablename__ = "user_account"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[Role] = so.mapped_column(_enum(Role, "role"))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    # Part of every session cookie; a new token ends every session of the user on the server side.
    session_token: so.Mapped[str] = so.mapped_column(sa.String(64), default=lambda: secrets.token_urlsafe(32))

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    # Flask-Login's user interface.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """End every session of this user, on every device."""
        self.session_token = secrets.token_urlsafe(32)


class LoginFailure(Base):
    """A failed sign-in, kept briefly so that throttling holds across server processes."""

    __tablename__ = "login_failure"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    address: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow, index=True)


class UnitVersion(Base):
    """One version of a unit standard as loaded, with its exact source text so records cite the words judged."""

    __tablename__ = "unit_version"
    __table_args__ = (sa.UniqueConstraint("unit_id", "version"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    unit_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    version: so.Mapped[int]
    code: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(500))
    framework: so.Mapped[str] = so.mapped_column(sa.String(32))
    source_sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    source_text: so.Mapped[str] = so.mapped_column(sa.Text)
    loaded_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)

    @property
    def key(self) -> str:
        return f"{self.unit_id}@{self.version}"


cohort_coordinator = sa.Table(
    "cohort_coordinator",
    Base.metadata,
    sa.Column("cohort_id", sa.ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user_account.id"), primary_key=True),
)

enrolment_assessor = sa.Table(
    "enrolment_assessor",
    Base.metadata,
    sa.Column("enrolment_id", sa.ForeignKey("enrolment.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user_account.id"), primary_key=True, index=True),
)


class Cohort(Base):
    __tablename__ = "cohort"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)

    coordinators: so.Mapped[list[User]] = so.relationship(secondary=cohort_coordinator)


class Enrolment(Base):
    """A trainee working toward one version of one unit."""

    __tablename__ = "enrolment"
    __table_args__ = (sa.UniqueConstraint("trainee_id", "unit_version_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    trainee_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    unit_version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit_version.id"), index=True)
    cohort_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cohort.id"), index=True)
    status: so.Mapped[EnrolmentStatus] = so.mapped_column(_enum(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.ACTIVE)
    start_date: so.Mapped[datetime.date]
    end_date: so.Mapped[datetime.date | None]
    version: so.Mapped[int] = so.mapped_column(default=1)

    trainee: so.Mapped[User] = so.relationship(foreign_keys=[trainee_id])
    unit_version: so.Mapped[UnitVersion] = so.relationship()
    cohort: so.Mapped[Cohort | None] = so.relationship()
    assessors: so.Mapped[list[User]] = so.relationship(secondary=enrolment_assessor)
    mappings: so.Mapped[list[EvidenceMapping]] = so.relationship(back_populates="enrolment")
    completion_records: so.Mapped[list[CompletionRecord]] = so.relationship(back_populates="enrolment", order_by="CompletionRecord.id")

    __mapper_args__ = {"version_id_col": version}


class EnrolmentProgress(Base):
    """An enrolment's tally (see domain.progress.Tally), rewritten by the operations whenever its judgements change.

    Derived, never edited: lists and heat maps read it instead of reassessing every judgement of every enrolment.
    """

    __tablename__ = "enrolment_progress"

    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id"), primary_key=True)
    tally: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    # Copied out of the tally so that enrolment lists can sort and page in SQL.
    percent: so.Mapped[int]
    outstanding: so.Mapped[int]
    last_evidence: so.Mapped[datetime.date | None]


class Evidence(Base):
    """One piece of evidence about one trainee: an observation, a report, a work product..."""

    __tablename__ = "evidence"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    trainee_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    method: so.Mapped[Method] = so.mapped_column(_enum(Method, "evidence_method"))
    context: so.Mapped[Context] = so.mapped_column(_enum(Context, "evidence_context"))
    observed_on: so.Mapped[datetime.date]
    location: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    narrative: so.Mapped[str] = so.mapped_column(sa.Text)
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    submitted_by_trainee: so.Mapped[bool] = so.mapped_column(default=False)
    version: so.Mapped[int] = so.mapped_column(default=1)

    trainee: so.Mapped[User] = so.relationship(foreign_keys=[trainee_id])
    recorded_by: so.Mapped[User] = so.relationship(foreign_keys=[recorded_by_id])
    attachments: so.Mapped[list[Attachment]] = so.relationship(back_populates="evidence", order_by="Attachment.id")
    mappings: so.Mapped[list[EvidenceMapping]] = so.relationship(back_populates="evidence", order_by="EvidenceMapping.id")
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

    evidence: so.Mapped[Evidence] = so.relationship(back_populates="attachments")


class EvidenceMapping(Base):
    """Evidence mapped to a criterion or evidence item of an enrolment, with the assessor's judgement."""

    __tablename__ = "evidence_mapping"
    __table_args__ = (sa.UniqueConstraint("evidence_id", "enrolment_id", "target"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    evidence_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("evidence.id"), index=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id"), index=True)
    target_kind: so.Mapped[TargetKind] = so.mapped_column(_enum(TargetKind, "target_kind"))
    target: so.Mapped[str] = so.mapped_column(sa.String(32))
    verdict: so.Mapped[Verdict | None] = so.mapped_column(_enum(Verdict, "verdict"))
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    judged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    judged_at: so.Mapped[datetime.datetime | None] = so.mapped_column(Timestamp)
    version: so.Mapped[int] = so.mapped_column(default=1)

    evidence: so.Mapped[Evidence] = so.relationship(back_populates="mappings")
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


class CompletionRecord(Base):
    """The signed-off result of an enrolment. Never updated or deleted; revoked only by a Revocation."""

    __tablename__ = "completion_record"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolment.id"), index=True)
    result: so.Mapped[str] = so.mapped_column(sa.String(64))
    declared_valid: so.Mapped[bool]
    declared_sufficient: so.Mapped[bool]
    declared_authentic: so.Mapped[bool]
    declared_current: so.Mapped[bool]
    assessor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    signed_on: so.Mapped[datetime.date]
    signed_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    snapshot: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    verification_code: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)

    enrolment: so.Mapped[Enrolment] = so.relationship(back_populates="completion_records")
    assessor: so.Mapped[User] = so.relationship()
    revocation: so.Mapped[Revocation | None] = so.relationship(back_populates="record")

    __table_args__ = (
        sa.CheckConstraint(
            "declared_valid AND declared_sufficient AND declared_authentic AND declared_current", name="declaration_complete"
        ),
    )


class Revocation(Base):
    """Why, when and by whom a completion record was revoked."""

    __tablename__ = "revocation"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    record_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("completion_record.id"), unique=True)
    revoked_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    revoked_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    reason: so.Mapped[str] = so.mapped_column(sa.Text)

    record: so.Mapped[CompletionRecord] = so.relationship(back_populates="revocation")
    revoked_by: so.Mapped[User] = so.relationship()


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_event"

    seq: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    occurred_at: so.Mapped[str] = so.mapped_column(sa.String(32))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    actor: so.Mapped[str] = so.mapped_column(sa.String(64))
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    entity_type: so.Mapped[str] = so.mapped_column(sa.String(64))
    entity_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    before: so.Mapped[str] = so.mapped_column(sa.Text)
    after: so.Mapped[str] = so.mapped_column(sa.Text)
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),)
