"""Signing off an enrolment into a completion record, and revoking a record; each audited, neither ever edited."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.cohorts.operations import state_of as enrolment_state_of
from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import enrolment_facts, require
from assessor.core.audit_confirm import completion_state_of
from assessor.core.database import flush_or_changed
from assessor.domain import limits, policy
from assessor.domain.audit_states import DECLARATION
from assessor.domain.completion import supporting_snapshot
from assessor.domain.dates import signed_on_problem
from assessor.domain.errors import ChangedMeanwhile, InvalidInput, NotReady
from assessor.domain.progress import Progress
from assessor.domain.vocabulary import EnrolmentStatus, ReviewState, Stage
from assessor.models import CompletionRecord, Enrolment, Evidence, Revocation, SampleReview, User
from assessor.progress.operations import reassess, reassess_requiring
from assessor.progress.queries import progress_of, sign_off_obstacles, verified_minutes
from assessor.quality.queries import COUNTERSIGN, needs_countersignature
from assessor.standards.queries import unit_of


@dataclass(frozen=True)
class Declaration:
    """The assessor's declaration that the evidence is valid, sufficient, authentic and current."""

    valid: bool
    sufficient: bool
    authentic: bool
    current: bool

    def missing(self) -> list[str]:
        return [name for name in DECLARATION if not getattr(self, name)]


def sign_off(
    session: so.Session, actor: User, enrolment: Enrolment, declaration: Declaration, signed_on: datetime.date
) -> CompletionRecord | SampleReview:
    """Sign off a ready enrolment: a completion record with a frozen snapshot of the evidence behind it; or, where its
    unit needs a quality assurer's countersignature, a request for it (the record is issued when it is given)."""
    require(
        policy.may_assess(actor_of(actor), enrolment_facts(enrolment)),
        "Only an assessor assigned to this enrolment can sign it off.",
    )
    progress = progress_of(session, enrolment)
    found = sign_off_obstacles(session, enrolment, progress)
    if found:
        raise NotReady(found)
    if missing := declaration.missing():
        raise InvalidInput({"declaration": f"Confirm that the evidence is {', '.join(missing)}."})
    if date_problem := signed_on_problem(signed_on, enrolment.start_date, datetime.date.today()):
        raise InvalidInput({"signed_on": date_problem})
    if needs_countersignature(session, enrolment.unit_version.unit_id):
        return _ask_for_countersignature(session, actor, enrolment, signed_on)
    return issue(session, actor, enrolment, signed_on, progress)


def issue(
    session: so.Session,
    assessor: User,
    enrolment: Enrolment,
    signed_on: datetime.date,
    progress: Progress,
    countersigned_by: User | None = None,
) -> CompletionRecord:
    """The completion record of an enrolment whose sign-off was checked (and countersigned, where that is needed);
    the enrolment is completed."""
    unit = unit_of(enrolment.unit_version)
    snapshot = supporting_snapshot(unit, progress)
    snapshot["evidence"] = _evidence_summaries(session, progress)
    if unit.logbook is not None:  # the hours the unit asks for, as verified when it was signed off
        snapshot["hours"] = {
            "required": unit.logbook.hours,
            "of": unit.logbook.context,
            "verified_minutes": verified_minutes(session, enrolment),
        }
    record = CompletionRecord(
        enrolment=enrolment,
        result=unit.results.achieved,
        declared_valid=True,
        declared_sufficient=True,
        declared_authentic=True,
        declared_current=True,
        assessor=assessor,
        signed_on=signed_on,
        snapshot=snapshot,
        verification_code=secrets.token_urlsafe(18),
        countersigned_by=countersigned_by,
    )
    session.add(record)
    before = enrolment_state_of(enrolment)
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.end_date = signed_on
    flush_or_changed(session, "enrolment")
    after = completion_state_of(record)
    actor = countersigned_by or assessor
    audit.record(session, actor, "completion.sign_off", "completion_record", record.id, None, after)
    audit.record(session, actor, "enrolment.complete", "enrolment", enrolment.id, before, enrolment_state_of(enrolment))
    reassess_requiring(session, actor, enrolment.trainee_id, enrolment)
    return record


def _ask_for_countersignature(
    session: so.Session, actor: User, enrolment: Enrolment, signed_on: datetime.date
) -> SampleReview:
    """The assessor's sign-off of a unit that needs countersigning: a review for a quality assurer, which locks the
    evidence until they countersign (and the record is issued) or decline."""
    review = SampleReview(
        plan_id=None,
        enrolment=enrolment,
        stage=Stage.SUMMATIVE,
        state=ReviewState.UNDER_REVIEW,
        reason=COUNTERSIGN,
        added_by_id=actor.id,
        requested_by=actor,
        signed_on=signed_on,
    )
    session.add(review)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # another sign-off of the same enrolment asked for it a moment ago
        raise ChangedMeanwhile("enrolment") from None
    after = {"enrolment": enrolment.id, "signed_on": signed_on.isoformat(), "declaration": list(DECLARATION)}
    audit.record(session, actor, "quality.countersign_asked", "sample_review", review.id, None, after)
    return review


def revoke(session: so.Session, actor: User, record: CompletionRecord, reason: str) -> Revocation:
    """Revoke a completion record with a reason; the enrolment is open for assessment again."""
    enrolment = record.enrolment
    require(
        policy.may_manage_enrolment(actor_of(actor), enrolment_facts(enrolment)),
        "Only an administrator or a coordinator of the enrolment's cohort revokes its completion record.",
    )
    if record.revocation is not None:
        raise InvalidInput({"record": "This completion record is already revoked."})
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the record is revoked."})
    if problems := limits.too_long({"reason": (reason.strip(), limits.REASON)}):
        raise InvalidInput(problems)
    revocation = Revocation(record=record, revoked_by=actor, reason=reason.strip())
    session.add(revocation)
    before = enrolment_state_of(enrolment)
    enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.end_date = None
    flush_or_changed(session, "enrolment")
    after = {"reason": revocation.reason}
    audit.record(session, actor, "completion.revoke", "completion_record", record.id, None, after)
    audit.record(session, actor, "enrolment.reopen", "enrolment", enrolment.id, before, enrolment_state_of(enrolment))
    reassess(session, actor, enrolment)
    reassess_requiring(session, actor, enrolment.trainee_id, enrolment)
    return revocation


def _evidence_summaries(session: so.Session, progress: Progress) -> list[dict[str, Any]]:
    ids = sorted({i for status in progress.targets.values() for i in status.supporting})
    rows = session.scalars(sa.select(Evidence).where(Evidence.id.in_(ids)).order_by(Evidence.id)).all() if ids else []
    return [
        {
            "id": e.id,
            "version": e.version,
            "method": e.method.value,
            "context": e.context.value,
            "observed_on": e.observed_on.isoformat(),
            "recorded_by": e.recorded_by.username,
            "attachments": [{"name": a.original_name, "sha256": a.sha256} for a in e.attachments],
        }
        for e in rows
    ]
