"""The assessor's vocabulary: every set of codes the records, rules, pages and exports share, defined once."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What an account may do."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    ASSESSOR = "assessor"
    TRAINEE = "trainee"
    # Internal verifier, validator or moderator, as the organisation calls them (QUALITY_ASSURER_TITLE).
    QUALITY_ASSURER = "quality_assurer"


# Those who run cohorts: create them, enrol, import and export.
RUNS_COHORTS = (Role.ADMIN, Role.COORDINATOR)
# Those who read sampling plans, reviews and the validation and moderation report.
SEES_QUALITY = (Role.QUALITY_ASSURER, Role.ADMIN)


class EnrolmentStatus(StrEnum):
    """Where a trainee's enrolment in a unit stands."""

    ACTIVE = "active"
    READY_FOR_SIGN_OFF = "ready_for_sign_off"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    TRANSFERRED = "transferred"  # moved to a newer version of its unit, with what carried

    @property
    def is_open(self) -> bool:
        """Open for assessment: evidence, judgements and sign-off can still change it."""
        return self in OPEN


# The statuses of an enrolment that is still being assessed; completed, withdrawn and transferred ones never change.
OPEN = frozenset({EnrolmentStatus.ACTIVE, EnrolmentStatus.READY_FOR_SIGN_OFF})


class Method(StrEnum):
    """How a piece of evidence was gathered."""

    DIRECT_OBSERVATION = "direct_observation"
    QUESTIONING = "questioning"
    THIRD_PARTY_REPORT = "third_party_report"
    WORK_PRODUCT = "work_product"
    SIMULATION = "simulation"
    RECOGNISED_PRIOR_LEARNING = "recognised_prior_learning"


# What a trainee may submit themselves; observations, questioning and simulations are the assessor's.
TRAINEE_METHODS = (Method.WORK_PRODUCT, Method.THIRD_PARTY_REPORT, Method.RECOGNISED_PRIOR_LEARNING)


class Context(StrEnum):
    """Where the performance a piece of evidence shows took place."""

    WORKPLACE = "workplace"
    SIMULATED_WORKPLACE = "simulated_workplace"
    OFF_THE_JOB = "off_the_job"


class Verdict(StrEnum):
    """The assessor's judgement of evidence against one criterion or evidence item."""

    SATISFIED = "satisfied"
    NOT_YET = "not_yet"


class TargetKind(StrEnum):
    """What evidence is mapped to: a performance criterion or an evidence requirement item."""

    CRITERION = "criterion"
    ITEM = "item"


class Status(StrEnum):
    """Where one criterion or evidence item of an enrolment stands (see `domain.progress.status_of`)."""

    NOT_STARTED = "not_started"
    EVIDENCE_RECORDED = "evidence_recorded"
    SATISFIED = "satisfied"
    NOT_YET_SATISFIED = "not_yet_satisfied"


class JobStatus(StrEnum):
    """Where a job (work that outlasts a request, done by the worker) stands."""

    QUEUED = "queued"  # waiting for a worker, or for its next attempt
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # every attempt failed: an administrator sees why, and may send it again


class MailStatus(StrEnum):
    """Where an e-mail stands."""

    WAITING = "waiting"  # for the worker to send it (or to try again)
    SENT = "sent"  # the SMTP server accepted it; its text is no longer kept
    IN_OUTBOX = "in_outbox"  # no SMTP server is set: it stays in the outbox, for an administrator to read


class TokenPurpose(StrEnum):
    """What a single-use account link or code is for."""

    INVITATION = "invitation"  # setting the first password of a new account
    RESET = "reset"  # setting a new password after "Forgot your password?"


class TokenScope(StrEnum):
    """What a personal access token lets another system do through the API in its owner's name."""

    READ = "read"  # read what the owner may see
    WRITE = "write"  # read, and record evidence, acknowledge and enrol as the owner may


class PlanBasis(StrEnum):
    """How a sampling plan sizes its sample."""

    ASSESSOR_RATE = "assessor_rate"  # internal quality assurance: a share of each assessor's learners, and of units
    VALIDATION = "validation"  # ASQA's validation sample size, per unit, from confidence level and error margin
    MODERATION = "moderation"  # NZQA's moderation: up to eight samples per standard


class Stage(StrEnum):
    """When in an enrolment its assessment is sampled."""

    INTERIM = "interim"  # still being assessed: judgements made in the period
    SUMMATIVE = "summative"  # signed off in the period


class ReviewState(StrEnum):
    """Where the quality assurer's review of one sampled enrolment stands."""

    PROPOSED = "proposed"  # in the sample the plan proposed; the quality assurer may still take it out
    UNDER_REVIEW = "under_review"  # its evidence and judgements are locked until the review ends
    ACTIONS_OPEN = "actions_open"  # the assessor was asked to act: unlocked for them until the actions are confirmed
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Reviewed now: the enrolment cannot be signed off past it."""
        return self in OPEN_REVIEWS


# The states of a review that is under way: the enrolment cannot be signed off past it.
OPEN_REVIEWS = frozenset({ReviewState.UNDER_REVIEW, ReviewState.ACTIONS_OPEN})


class Outcome(StrEnum):
    """The quality assurer's decision on a judgement or a piece of evidence they sampled."""

    AGREE = "agree"
    ACT = "act"  # the assessor is to act, with a reason and a due date; the quality assurer confirms what they did
    DISAGREE = "disagree"


class ActionState(StrEnum):
    """Where an action asked of the assessor stands."""

    OPEN = "open"  # for the assessor to do
    DONE = "done"  # the assessor says what they did; the quality assurer is to confirm it
    CONFIRMED = "confirmed"
