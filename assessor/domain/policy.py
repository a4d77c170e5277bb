"""Who may see or change which record: the one access policy, as pure functions of plain facts.

Views, operations, the command line and templates all ask these functions; `core.access` gathers the facts
from the database and turns the same rules into SQL for lists. Each rule is written once, here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from assessor.domain.vocabulary import RUNS_COHORTS, SEES_QUALITY, EnrolmentStatus, Role, TokenScope


@dataclass(frozen=True)
class Actor:
    """The person asking."""

    id: int
    role: Role
    active: bool = True


@dataclass(frozen=True)
class EnrolmentFacts:
    """What the rules need to know of an enrolment."""

    trainee_id: int
    assessor_ids: frozenset[int]
    coordinator_ids: frozenset[int]  # those who run its cohort; none when it is in no cohort
    status: EnrolmentStatus = EnrolmentStatus.ACTIVE
    sampled: bool = False  # in a quality assurance sample, so quality assurers read it
    under_review: bool = False  # a quality assurer is reviewing it: its evidence and judgements are locked


@dataclass(frozen=True)
class EvidenceFacts:
    """What the rules need to know of a piece of evidence."""

    trainee_id: int
    mapped_to: tuple[EnrolmentFacts, ...]  # the enrolments it is mapped to
    of_trainee: tuple[EnrolmentFacts, ...] = ()  # every enrolment of its trainee, for evidence mapped to none
    erased: bool = False  # its content was erased under retention

    @property
    def signed_off(self) -> bool:
        """Whether it supports a signed-off record, and so cannot change unless that record is revoked."""
        return any(e.status == EnrolmentStatus.COMPLETED for e in self.mapped_to)

    @property
    def under_review(self) -> bool:
        """Whether it is mapped to an enrolment a quality assurer is reviewing, and so locked until the review ends."""
        return any(e.under_review for e in self.mapped_to)

    @property
    def reach(self) -> tuple[EnrolmentFacts, ...]:
        """The enrolments through which people reach it: those it is mapped to, or all its trainee's when none."""
        return self.mapped_to or self.of_trainee


@dataclass(frozen=True)
class CohortFacts:
    """What the rules need to know of a cohort."""

    coordinator_ids: frozenset[int]


def _staff(actor: Actor, *roles: Role) -> bool:
    return actor.active and actor.role in roles


# --- enrolments and completion records ----------------------------------------------------------


def may_see_enrolment(actor: Actor, enrolment: EnrolmentFacts) -> bool:
    """The trainee, its assessors, the coordinators of its cohort, administrators, and quality assurers once it is in
    a sample see an enrolment and its records."""
    if not actor.active:
        return False
    match actor.role:
        case Role.ADMIN:
            return True
        case Role.TRAINEE:
            return enrolment.trainee_id == actor.id
        case Role.ASSESSOR:
            return actor.id in enrolment.assessor_ids
        case Role.COORDINATOR:
            return actor.id in enrolment.coordinator_ids
        case Role.QUALITY_ASSURER:
            return enrolment.sampled
    return False


def may_assess(actor: Actor, enrolment: EnrolmentFacts) -> bool:
    """Only an assessor assigned to an enrolment maps evidence to it, judges it and signs it off."""
    return _staff(actor, Role.ASSESSOR) and actor.id in enrolment.assessor_ids


def may_manage_enrolment(actor: Actor, enrolment: EnrolmentFacts) -> bool:
    """Administrators and the coordinators of its cohort assign assessors, withdraw, and revoke its completion
    record."""
    return _staff(actor, Role.ADMIN) or (_staff(actor, Role.COORDINATOR) and actor.id in enrolment.coordinator_ids)


def may_take_credential(actor: Actor, enrolment: EnrolmentFacts) -> bool:
    """Only the trainee downloads (and so first issues) the Open Badges credential of their completion record: it
    identifies them, and they decide where it goes. Nobody else, staff included, takes it in their place."""
    return actor.active and actor.role == Role.TRAINEE and enrolment.trainee_id == actor.id


def may_enrol(actor: Actor, cohort: CohortFacts, trainee_enrolments: tuple[EnrolmentFacts, ...]) -> bool:
    """Enrol a trainee in a cohort: an administrator, or a coordinator who runs the cohort and already reaches every
    enrolment the trainee has (a trainee in another coordinator's cohort, or in none, is theirs to enrol)."""
    if _staff(actor, Role.ADMIN):
        return True
    return may_run_cohort(actor, cohort) and all(actor.id in e.coordinator_ids for e in trainee_enrolments)


def may_log_hours(actor: Actor, enrolment: EnrolmentFacts) -> bool:
    """Log hours of work toward an open enrolment: its trainee, or one of its assessors on their behalf."""
    if not enrolment.status.is_open:
        return False
    return (actor.active and actor.role == Role.TRAINEE and actor.id == enrolment.trainee_id) or may_assess(
        actor, enrolment
    )


def may_verify_hours(actor: Actor, enrolment: EnrolmentFacts, recorded_by: int) -> bool:
    """Verify logged hours: an assessor of the open enrolment who did not log them."""
    return enrolment.status.is_open and may_assess(actor, enrolment) and actor.id != recorded_by


def may_record_credit(actor: Actor, trainee_enrolments: Iterable[EnrolmentFacts]) -> bool:
    """Record (or withdraw) a credit for a unit the trainee achieved elsewhere: an administrator, or a coordinator who
    runs the cohort of every enrolment the trainee has (a credit counts toward every unit of theirs that requires it,
    so it is not one coordinator's to give where another's cohorts would feel it)."""
    if _staff(actor, Role.ADMIN):
        return True
    if not _staff(actor, Role.COORDINATOR):
        return False  # (without reading the trainee's enrolments, which may be read lazily)
    enrolments = tuple(trainee_enrolments)
    return bool(enrolments) and all(actor.id in e.coordinator_ids for e in enrolments)


def may_enrol_in_retired_unit(actor: Actor) -> bool:
    """Only an administrator records an enrolment that began before its unit was deleted or superseded (a trainee
    carried over from earlier records to finish the unit); anyone else's new enrolment starts in a current unit."""
    return _staff(actor, Role.ADMIN)


# --- evidence and attachments -------------------------------------------------------------------


def may_see_evidence(actor: Actor, evidence: EvidenceFacts) -> bool:
    """The trainee it is about, and whoever sees an enrolment it is mapped to (any enrolment of the trainee while it is
    mapped to none); its attachments go with it."""
    if actor.active and actor.role == Role.TRAINEE:
        return evidence.trainee_id == actor.id
    return _staff(actor, Role.ADMIN) or any(may_see_enrolment(actor, e) for e in evidence.reach)


def may_observe_groups(actor: Actor) -> bool:
    """An assessor records group observations (of the trainees they assess, each part checked as evidence)."""
    return _staff(actor, Role.ASSESSOR)


def may_see_group_observation(actor: Actor, parts: Iterable[EvidenceFacts]) -> bool:
    """Staff who see at least one trainee's part see the group observation, with those parts only; a trainee sees
    their own part as evidence, never the group."""
    return actor.role != Role.TRAINEE and any(may_see_evidence(actor, part) for part in parts)


def may_record_evidence(actor: Actor, trainee_enrolments: tuple[EnrolmentFacts, ...]) -> bool:
    """An assessor assigned to one of the trainee's open enrolments records evidence about them."""
    return any(may_assess(actor, e) and e.status.is_open for e in trainee_enrolments)


def may_submit_evidence(actor: Actor) -> bool:
    """A trainee submits evidence of their own, for their assessor to review."""
    return _staff(actor, Role.TRAINEE)


def may_edit_evidence(actor: Actor, evidence: EvidenceFacts) -> bool:
    """An assessor of an enrolment it is mapped to (of any of the trainee's, while it is mapped to none) edits it and
    its judgements there, until it supports a signed-off record or its content is erased, and not while a quality
    assurer reviews it."""
    return (
        not evidence.signed_off
        and not evidence.erased
        and not evidence.under_review
        and any(may_assess(actor, e) for e in evidence.reach)
    )


def may_change_evidence_details(actor: Actor, evidence: EvidenceFacts) -> bool:
    """Its date, method, context, narrative and attachments count toward every enrolment it is mapped to, so only
    someone who assesses all of them changes those."""
    return may_edit_evidence(actor, evidence) and all(may_assess(actor, e) for e in evidence.mapped_to)


def may_acknowledge(actor: Actor, evidence: EvidenceFacts) -> bool:
    """Only the trainee it is about acknowledges evidence."""
    return _staff(actor, Role.TRAINEE) and evidence.trainee_id == actor.id


# --- cohorts, accounts, spreadsheets -------------------------------------------------------------


def may_run_cohorts(actor: Actor) -> bool:
    """Administrators and coordinators create cohorts, import, export and see the cohort pages."""
    return _staff(actor, *RUNS_COHORTS)


def may_run_cohort(actor: Actor, cohort: CohortFacts) -> bool:
    """A coordinator runs the cohorts they coordinate; an administrator runs every cohort."""
    return _staff(actor, Role.ADMIN) or (_staff(actor, Role.COORDINATOR) and actor.id in cohort.coordinator_ids)


def may_create_account(actor: Actor | None, role: Role) -> bool:
    """Administrators (and the command line, with no actor) create any account; coordinators trainees and assessors."""
    if actor is None:
        return True
    return _staff(actor, Role.ADMIN) or (_staff(actor, Role.COORDINATOR) and role in (Role.TRAINEE, Role.ASSESSOR))


def may_manage_accounts(actor: Actor) -> bool:
    """Only administrators see every account and activate or deactivate them."""
    return _staff(actor, Role.ADMIN)


def may_govern_retention(actor: Actor | None) -> bool:
    """Administrators (and the command line's scheduled retention, with no actor) place and release legal holds and
    erase evidence whose time has passed."""
    return actor is None or _staff(actor, Role.ADMIN)


def may_load_standards(actor: Actor) -> bool:
    """Administrators load unit versions and change a unit's status."""
    return _staff(actor, Role.ADMIN)


@dataclass(frozen=True)
class UnitFacts:
    """What the rules need to know of a unit version."""

    loaded: bool  # registered in the database (by `assessor init`, or an administrator's confirmed upload)


def may_read_unit(actor: Actor | None, unit: UnitFacts) -> bool:
    """A loaded unit version is a published document: anyone reads it, signed in or not (`actor` None), whatever its
    status, since a deleted unit's text is still what its records were judged against. A unit file not loaded (an
    upload waiting for an administrator's confirmation, a file in the standards folder before `assessor init`) is
    nobody's to read through the application."""
    return unit.loaded


def may_see_job(actor: Actor, owner_id: int | None) -> bool:
    """Who asked for a job follows it and takes its result; administrators see every job, to mend failures."""
    return _staff(actor, Role.ADMIN) or (actor.active and owner_id == actor.id)


def may_manage_jobs(actor: Actor) -> bool:
    """Administrators list every job and send a failed one again."""
    return _staff(actor, Role.ADMIN)


def may_take_job_result(actor: Actor, owner_id: int | None) -> bool:
    """What a job made (an export's file) is for whoever asked for it alone: not even administrators take it."""
    return actor.active and owner_id == actor.id


# --- quality assurance ---------------------------------------------------------------------------


def may_assure_quality(actor: Actor) -> bool:
    """Quality assurers make sampling plans, adjust their samples and review what is sampled."""
    return _staff(actor, Role.QUALITY_ASSURER)


def may_see_quality_reports(actor: Actor) -> bool:
    """Quality assurers and administrators read the plans, the dashboard and the validation and moderation reports."""
    return _staff(actor, *SEES_QUALITY)


def may_review(actor: Actor, enrolment: EnrolmentFacts, assessed_by: frozenset[int]) -> bool:
    """A quality assurer decides on a sampled enrolment's judgements and countersigns it, unless they assessed it
    themselves (as its assessor, or by any judgement or sign-off of theirs): nobody reviews their own assessments."""
    return (
        may_assure_quality(actor)
        and enrolment.sampled
        and actor.id not in enrolment.assessor_ids
        and actor.id not in assessed_by
    )


def may_see_reviews(actor: Actor, enrolment: EnrolmentFacts) -> bool:
    """Staff who see an enrolment see its quality assurance reviews; they are the organisation's, not the trainee's."""
    return actor.role != Role.TRAINEE and may_see_enrolment(actor, enrolment)


def may_answer_review(actor: Actor, enrolment: EnrolmentFacts) -> bool:
    """An assessor of a reviewed enrolment says what they did about an action asked of them."""
    return may_assess(actor, enrolment)


def may_set_countersigning(actor: Actor) -> bool:
    """Administrators decide which units need a quality assurer's countersignature before a record is issued."""
    return _staff(actor, Role.ADMIN)


# --- personal access tokens ----------------------------------------------------------------------


def may_hold_tokens(actor: Actor) -> bool:
    """Anyone with an active account makes personal access tokens for other systems to act in their name, never
    with more than their own rights."""
    return actor.active


def may_revoke_token(actor: Actor, owner_id: int) -> bool:
    """A token is revoked by its owner alone (it is nobody else's to see)."""
    return actor.active and actor.id == owner_id


def scope_allows(granted: TokenScope, needed: TokenScope) -> bool:
    """A write token also reads; a read token only reads."""
    return granted == TokenScope.WRITE or needed == TokenScope.READ
