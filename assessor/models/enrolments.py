"""Cohorts, enrolments with their assessors, and each enrolment's tally."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.database import Base
from assessor.domain.vocabulary import EnrolmentStatus
from assessor.models.accounts import User, search_name_of
from assessor.models.columns import Timestamp, enum_column, pending_import_index, utcnow
from assessor.models.standards import UnitVersion

if TYPE_CHECKING:
    from assessor.models.evidence import EvidenceMapping
    from assessor.models.quality import SampleReview
    from assessor.models.records import CompletionRecord


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
    __table_args__ = (pending_import_index("cohort"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    created_at: so.Mapped[datetime.datetime] = so.mapped_column(Timestamp, default=utcnow)
    # The import still writing this cohort (see models.pending): nobody else sees it until that import is done.
    pending_import_id: so.Mapped[int | None]

    coordinators: so.Mapped[list[User]] = so.relationship(secondary=cohort_coordinator)


TRANSFERRED = sa.text("transferred_to_id IS NOT NULL")


class Enrolment(Base):
    """A trainee working toward one version of one unit."""

    __tablename__ = "enrolment"
    __table_args__ = (
        sa.UniqueConstraint("trainee_id", "unit_version_id"),
        pending_import_index("enrolment"),
        # The few enrolments carried over to a later version, found from the later one (its page shows where its
        # evidence came from): without it, every view of an enrolment page read every enrolment.
        sa.Index(
            "ix_enrolment_transferred_to_id",
            "transferred_to_id",
            sqlite_where=TRANSFERRED,
            postgresql_where=TRANSFERRED,
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    trainee_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    unit_version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("unit_version.id"), index=True)
    cohort_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("cohort.id"), index=True)
    status: so.Mapped[EnrolmentStatus] = so.mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.ACTIVE
    )
    start_date: so.Mapped[datetime.date]
    end_date: so.Mapped[datetime.date | None]
    # Set when the enrolment moved to a newer version of its unit: the enrolment that carries on.
    transferred_to_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("enrolment.id"))
    version: so.Mapped[int] = so.mapped_column(default=1)
    # The import still writing this enrolment (see models.pending): nobody else sees it until that import is done.
    pending_import_id: so.Mapped[int | None]

    trainee: so.Mapped[User] = so.relationship(foreign_keys=[trainee_id])
    unit_version: so.Mapped[UnitVersion] = so.relationship()
    cohort: so.Mapped[Cohort | None] = so.relationship()
    transferred_to: so.Mapped[Enrolment | None] = so.relationship(remote_side=[id])
    assessors: so.Mapped[list[User]] = so.relationship(secondary=enrolment_assessor)
    mappings: so.Mapped[list[EvidenceMapping]] = so.relationship(back_populates="enrolment")
    completion_records: so.Mapped[list[CompletionRecord]] = so.relationship(
        back_populates="enrolment", order_by="CompletionRecord.id"
    )
    # Its quality assurance reviews: in a sample, and under review while one is open.
    reviews: so.Mapped[list[SampleReview]] = so.relationship(back_populates="enrolment", order_by="SampleReview.id")

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
    # Copied from the unit version and the trainee, so that the unit and trainee sorts are each served by one index
    # instead of a sort across three tables. A version's title never changes; a rename rewrites trainee_name.
    unit_title: so.Mapped[str] = so.mapped_column(sa.String(500))
    trainee_name: so.Mapped[str] = so.mapped_column(sa.String(300))

    @classmethod
    def of(cls, enrolment: Enrolment, **tally: Any) -> EnrolmentProgress:
        """A new enrolment's row, with its tally's columns (see progress.queries.tally_columns)."""
        trainee = enrolment.trainee
        return cls(
            enrolment_id=enrolment.id,
            unit_title=enrolment.unit_version.title,
            trainee_name=search_name_of(trainee.display_name, trainee.username),
            **tally,
        )


@sa.event.listens_for(User, "before_update")
def _keep_trainee_name(_mapper: object, connection: sa.Connection, user: User) -> None:
    """A renamed trainee's enrolments sort under the new name."""
    attributes = sa.inspect(user).attrs
    if attributes.display_name.history.has_changes() or attributes.username.history.has_changes():
        connection.execute(
            sa.update(EnrolmentProgress)
            .where(EnrolmentProgress.enrolment_id.in_(sa.select(Enrolment.id).where(Enrolment.trainee_id == user.id)))
            .values(trainee_name=search_name_of(user.display_name, user.username))
        )


# An index for each sort of the enrolment lists: a page anywhere in a list of any length reads about a page of rows.
# Outstanding sorts most first, so its list walks this index backwards. NULL (no evidence yet) sorts first: SQLite's
# indexes put it there already; PostgreSQL's must be told.
sa.Index("ix_enrolment_progress_trainee", EnrolmentProgress.trainee_name, EnrolmentProgress.enrolment_id)
sa.Index("ix_enrolment_progress_percent", EnrolmentProgress.percent, EnrolmentProgress.enrolment_id)
sa.Index("ix_enrolment_progress_outstanding", EnrolmentProgress.outstanding, EnrolmentProgress.enrolment_id)
sa.Index(
    "ix_enrolment_progress_unit",
    EnrolmentProgress.unit_title,
    EnrolmentProgress.trainee_name,
    EnrolmentProgress.enrolment_id,
)
for _dialect, _first in (
    ("sqlite", EnrolmentProgress.last_evidence),
    ("postgresql", EnrolmentProgress.last_evidence.asc().nulls_first()),
):
    sa.Index(
        f"ix_enrolment_progress_last_evidence_{_dialect}",
        _first,
        EnrolmentProgress.enrolment_id,
        info={"only_on": _dialect},
    ).ddl_if(dialect=_dialect)
