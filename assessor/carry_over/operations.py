"""Moving open enrolments to a newer version of their unit: one enrolment, or every one of a cohort in one step.

The preview is the same computation as the move: what it shows is what is written, and a move whose enrolment changed
after its preview is refused, to be looked at again.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.cohorts.operations import state_of
from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import enrolment_facts, require
from assessor.core.database import flush_or_changed
from assessor.domain import carry_over, policy
from assessor.domain.audit_states import logbook_state
from assessor.domain.errors import ChangedMeanwhile, InvalidInput
from assessor.domain.progress import Progress, assess
from assessor.domain.standards import Usage
from assessor.domain.vocabulary import OPEN, EnrolmentStatus, ReviewState
from assessor.evidence.operations import mapping_state_of
from assessor.models import (
    Cohort,
    Enrolment,
    EnrolmentProgress,
    EvidenceMapping,
    LogbookEntry,
    SampleReview,
    UnitVersion,
    User,
)
from assessor.progress.operations import reassess
from assessor.progress.queries import progress_of, tally_columns
from assessor.standards.queries import unit_of, usage_of


@dataclass(frozen=True)
class Move:
    """One enrolment and what moving it to `newer` would carry, or why it cannot move."""

    enrolment: Enrolment
    newer: UnitVersion
    plan: carry_over.Plan
    progress: Progress  # where the enrolment stands now, in the earlier version
    carrying: dict[str, list[EvidenceMapping]]  # earlier target -> the mappings copied with it
    refused: str | None
    fingerprint: str  # of the enrolment and every mapping it has: a move previewed before a change is refused
    hours: list[LogbookEntry]  # its logbook, which goes with it where the newer version keeps one

    @property
    def copies(self) -> int:
        """How many mappings (with their judgements) are copied."""
        return sum(len(self.carrying[source]) for source, _ in self.plan.carried())


@dataclass(frozen=True)
class Target:
    """The version enrolments move to, what carries from the version they are in, and whether it takes them."""

    newer: UnitVersion
    plan: carry_over.Plan
    usage: Usage


def target(session: so.Session, earlier: UnitVersion, newer: UnitVersion) -> Target:
    """What moving from `earlier` to `newer` carries: the same for every enrolment in `earlier`."""
    before, later = unit_of(earlier), unit_of(newer)
    if not carry_over.follows(later, before):
        raise InvalidInput(
            {"to": f"{later.key} is not a newer version of {before.key}, and its mapping table does not name it."}
        )
    return Target(newer, carry_over.plan(before, later), usage_of(session, newer))


def preview(
    session: so.Session, actor: User, enrolment: Enrolment, newer: UnitVersion, to: Target | None = None
) -> Move:
    """What moving the enrolment to `newer` would carry and leave outstanding, or why it cannot move."""
    _require_manager(actor, enrolment)
    to = to or target(session, enrolment.unit_version, newer)
    mappings = list(
        session.scalars(
            sa.select(EvidenceMapping).where(EvidenceMapping.enrolment_id == enrolment.id).order_by(EvidenceMapping.id)
        )
    )
    carrying: dict[str, list[EvidenceMapping]] = {source: [] for source, _ in to.plan.carried()}
    for mapping in mappings:
        carrying.setdefault(mapping.target, []).append(mapping)
    hours = list(
        session.scalars(
            sa.select(LogbookEntry).where(LogbookEntry.enrolment_id == enrolment.id).order_by(LogbookEntry.id)
        )
    )
    logged = [f"h{e.id}.{e.verified_by_id}" for e in hours]
    seal = "|".join(
        [f"{enrolment.id}.{enrolment.version}", str(newer.id), *(f"{m.id}.{m.version}" for m in mappings), *logged]
    )
    return Move(
        enrolment=enrolment,
        newer=newer,
        plan=to.plan,
        progress=progress_of(session, enrolment),
        carrying=carrying,
        refused=_refusal(session, enrolment, to),
        fingerprint=hashlib.sha256(seal.encode()).hexdigest()[:32],
        hours=hours if unit_of(newer).logbook else [],
    )


def move(session: so.Session, actor: User, enrolment: Enrolment, newer: UnitVersion, fingerprint: str) -> Enrolment:
    """Move an open enrolment to `newer` as previewed: a new enrolment with what carries copied to it (each copy
    pointing at its original, audited), the earlier one closed as transferred. Nothing is lost, and it is one
    transaction: the caller commits."""
    return _move(session, actor, preview(session, actor, enrolment, newer), fingerprint)


def _move(session: so.Session, actor: User, planned: Move, fingerprint: str) -> Enrolment:
    enrolment, newer = planned.enrolment, planned.newer
    if planned.fingerprint != fingerprint:
        raise ChangedMeanwhile("enrolment")
    if planned.refused:
        raise InvalidInput({"to": planned.refused})
    later = unit_of(newer)
    moved = Enrolment(
        trainee=enrolment.trainee,
        unit_version=newer,
        assessors=[a for a in enrolment.assessors if a.active],
        start_date=enrolment.start_date,
        cohort=enrolment.cohort,
    )
    session.add(moved)
    try:
        with session.begin_nested():  # another move of the same enrolment got there first
            session.flush()
    except sa.exc.IntegrityError:
        raise ChangedMeanwhile("enrolment") from None
    session.add(EnrolmentProgress.of(moved, **tally_columns(assess(later, []).tally())))
    after = {**state_of(moved), "carried_from": enrolment.id}
    audit.record(session, actor, "enrolment.create", "enrolment", moved.id, None, after)
    kinds = {t.target: t.kind for t in planned.plan.targets}
    for source, target in planned.plan.carried():
        for original in planned.carrying[source]:
            copy = EvidenceMapping(
                evidence_id=original.evidence_id,
                enrolment_id=moved.id,
                target_kind=kinds[target],
                target=target,
                verdict=original.verdict,
                comment=original.comment,
                judged_by_id=original.judged_by_id,
                judged_at=original.judged_at,
                carried_from_id=original.id,
            )
            session.add(copy)
            session.flush()
            state = {**mapping_state_of(copy), "carried_from": original.id}
            audit.record(session, actor, "mapping.carry_over", "evidence", copy.evidence_id, None, state)
    for kept in planned.hours:
        entry = LogbookEntry(
            enrolment_id=moved.id,
            worked_on=kept.worked_on,
            minutes=kept.minutes,
            description=kept.description,
            recorded_by_id=kept.recorded_by_id,
            recorded_at=kept.recorded_at,
            submission=secrets.token_hex(16),
            verified_by_id=kept.verified_by_id,
            verified_at=kept.verified_at,
        )
        session.add(entry)
        session.flush()
        state = {**logbook_state(moved.id, entry.worked_on, entry.minutes, entry.description, entry.verified_by_id)}
        state["carried_from"] = kept.id
        audit.record(session, actor, "logbook.carry_over", "logbook_entry", entry.id, None, state)
    before = state_of(enrolment)
    enrolment.status = EnrolmentStatus.TRANSFERRED
    enrolment.end_date = datetime.date.today()
    enrolment.transferred_to = moved
    flush_or_changed(session, "enrolment")
    after = {**state_of(enrolment), "transferred_to": moved.id}
    audit.record(session, actor, "enrolment.transfer", "enrolment", enrolment.id, before, after)
    reassess(session, actor, moved)
    return moved


def preview_cohort(
    session: so.Session, actor: User, cohort: Cohort, earlier: UnitVersion, newer: UnitVersion
) -> list[Move]:
    """A preview for every open enrolment of the cohort in `earlier`, by trainee name."""
    enrolments = session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.unit_version_id == earlier.id, Enrolment.status.in_(OPEN))
        .order_by(Enrolment.id)
    )
    to = target(session, earlier, newer)
    moves = [preview(session, actor, e, newer, to) for e in enrolments]
    return sorted(moves, key=lambda m: m.enrolment.trainee.display_name.casefold())


def cohort_fingerprint(moves: Sequence[Move]) -> str:
    """One fingerprint of every move of a cohort's preview."""
    seal = "|".join(f"{m.enrolment.id}:{m.fingerprint}:{m.refused or ''}" for m in moves)
    return hashlib.sha256(seal.encode()).hexdigest()[:32]


def move_cohort(
    session: so.Session, actor: User, cohort: Cohort, earlier: UnitVersion, newer: UnitVersion, fingerprint: str
) -> Sequence[Enrolment]:
    """Move every enrolment of the preview that can move, in one transaction: if any has changed since, none moves."""
    moves = preview_cohort(session, actor, cohort, earlier, newer)
    if cohort_fingerprint(moves) != fingerprint:
        raise ChangedMeanwhile("cohort")
    moves = [m for m in moves if not m.refused]
    if not moves:
        raise InvalidInput({"to": "No enrolment of this cohort can move to that version."})
    return [_move(session, actor, m, m.fingerprint) for m in moves]


def _refusal(session: so.Session, enrolment: Enrolment, to: Target) -> str | None:
    """Why the enrolment cannot move to the target, or None."""
    later = unit_of(to.newer)
    if enrolment.status == EnrolmentStatus.COMPLETED:
        return "It is signed off: its completion record stands for the version it was assessed against."
    if not enrolment.status.is_open:
        return f"It is {enrolment.status.value} already."
    reviews = sa.select(SampleReview.id).where(
        SampleReview.enrolment_id == enrolment.id, SampleReview.state != ReviewState.CLOSED
    )
    if session.scalar(reviews) is not None:
        return "It is sampled for quality assurance: it moves once the review ends."
    if not to.usage.is_current:
        return f"{later.key} is {to.usage.status} too: move to a current version."
    if not any(a.active for a in enrolment.assessors):
        return "None of its assessors is active: assign an active assessor first."
    taken = sa.select(Enrolment.id).where(
        Enrolment.trainee_id == enrolment.trainee_id, Enrolment.unit_version_id == to.newer.id
    )
    if session.scalar(taken) is not None:
        return f"{enrolment.trainee.display_name} is enrolled in {later.key} already."
    return None


def _require_manager(actor: User, enrolment: Enrolment) -> None:
    require(
        policy.may_manage_enrolment(actor_of(actor), enrolment_facts(enrolment)),
        "Only an administrator or a coordinator of its cohort moves an enrolment to a newer version.",
    )
