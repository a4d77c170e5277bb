"""The words the pages and exports use for the codes the domain returns, and the `label` filter templates use."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import SelectChoice

from assessor.domain.carry_over import Carry
from assessor.domain.completion import Obstacle, Reason
from assessor.domain.standards import Criterion, blocks
from assessor.domain.standards.units import BOLD
from assessor.domain.vocabulary import (
    ActionState,
    Context,
    EnrolmentStatus,
    JobStatus,
    MailStatus,
    Method,
    Outcome,
    PlanBasis,
    ReviewState,
    Role,
    Stage,
    Status,
    TokenPurpose,
    TokenScope,
    Verdict,
)
from assessor.models.columns import as_utc

STATUS = {
    Status.NOT_STARTED: "Not started",
    Status.EVIDENCE_RECORDED: "Evidence recorded",
    Status.SATISFIED: "Satisfied",
    Status.NOT_YET_SATISFIED: "Not yet satisfied",
}
METHOD = {
    Method.DIRECT_OBSERVATION: "Direct observation",
    Method.QUESTIONING: "Questioning",
    Method.THIRD_PARTY_REPORT: "Third-party report",
    Method.WORK_PRODUCT: "Work product",
    Method.SIMULATION: "Simulation",
    Method.RECOGNISED_PRIOR_LEARNING: "Recognised prior learning",
}
CONTEXT = {
    Context.WORKPLACE: "Workplace",
    Context.SIMULATED_WORKPLACE: "Simulated workplace",
    Context.OFF_THE_JOB: "Off the job (classroom or training setting)",
}
VERDICT = {Verdict.SATISFIED: "Satisfied", Verdict.NOT_YET: "Not yet satisfied", None: "Awaiting judgement"}
ENROLMENT_STATUS = {
    EnrolmentStatus.ACTIVE: "Active",
    EnrolmentStatus.READY_FOR_SIGN_OFF: "Ready for sign-off",
    EnrolmentStatus.COMPLETED: "Completed",
    EnrolmentStatus.WITHDRAWN: "Withdrawn",
    EnrolmentStatus.TRANSFERRED: "Moved to a newer version",
}
CARRY = {
    Carry.CARRIED: "Carries over",
    Carry.CHANGED: "Changed: assessed afresh",
    Carry.NEW: "New: assessed afresh",
}
ROLE = {
    Role.ADMIN: "Administrator",
    Role.COORDINATOR: "Training coordinator",
    Role.ASSESSOR: "Assessor",
    Role.TRAINEE: "Trainee",
    Role.QUALITY_ASSURER: "Quality assurer",  # the organisation's own word replaces it (QUALITY_ASSURER_TITLE)
}

MAIL_STATUS = {
    MailStatus.WAITING: "Waiting to be sent",
    MailStatus.SENT: "Sent",
    MailStatus.IN_OUTBOX: "In the outbox (no SMTP server is set)",
}
JOB_STATUS = {
    JobStatus.QUEUED: "Waiting",
    JobStatus.RUNNING: "Running",
    JobStatus.DONE: "Done",
    JobStatus.FAILED: "Failed",
}

PLAN_BASIS = {
    PlanBasis.ASSESSOR_RATE: "Internal quality assurance",
    PlanBasis.VALIDATION: "Validation (ASQA sample size)",
    PlanBasis.MODERATION: "Moderation (NZQA samples per standard)",
}
STAGE = {Stage.INTERIM: "Interim", Stage.SUMMATIVE: "Summative"}
REVIEW_STATE = {
    ReviewState.PROPOSED: "Proposed",
    ReviewState.UNDER_REVIEW: "Under review",
    ReviewState.ACTIONS_OPEN: "Assessor to act",
    ReviewState.CLOSED: "Closed",
}
TOKEN_SCOPE = {TokenScope.READ: "Read", TokenScope.WRITE: "Read and write"}
OUTCOME = {Outcome.AGREE: "Agree", Outcome.ACT: "Assessor to act", Outcome.DISAGREE: "Disagree"}
ACTION_STATE = {
    ActionState.OPEN: "Waiting for the assessor",
    ActionState.DONE: "Done, to confirm",
    ActionState.CONFIRMED: "Confirmed",
}


_WORDS: dict[type[StrEnum], Mapping[Any, str]] = {
    Status: STATUS,
    Method: METHOD,
    Context: CONTEXT,
    Verdict: VERDICT,
    EnrolmentStatus: ENROLMENT_STATUS,
    Role: ROLE,
    JobStatus: JOB_STATUS,
    MailStatus: MAIL_STATUS,
    PlanBasis: PLAN_BASIS,
    Stage: STAGE,
    ReviewState: REVIEW_STATE,
    Outcome: OUTCOME,
    ActionState: ACTION_STATE,
    Carry: CARRY,
    TokenScope: TOKEN_SCOPE,
}


def label(code: StrEnum | None) -> str:
    """The words for a code of the vocabulary; None stands for a judgement not yet made."""
    if code is None:
        return VERDICT[None]
    if code == Role.QUALITY_ASSURER and has_app_context():
        return str(current_app.config["QUALITY_ASSURER_TITLE"])
    return _WORDS[type(code)][code]


_KINDS: dict[str, type[StrEnum]] = {"method": Method, "context": Context, "status": Status, "verdict": Verdict}


def label_of(value: str, kind: str) -> str:
    """The words for a code kept as plain text (in a completion record's frozen snapshot), by its kind."""
    return label(_KINDS[kind](value))


def home_label(role: Role | None) -> str:
    """What each role's starting list is called."""
    return {Role.ASSESSOR: "My trainees", Role.TRAINEE: "My units"}.get(role, "Enrolments") if role else "Enrolments"


def choices(members: Iterable[StrEnum]) -> list[SelectChoice]:
    """Codes and their words, for a form's select field."""
    return [SelectChoice(m.value, label(m)) for m in members]


def when(moment: datetime.datetime) -> str:
    """A moment for people: `3 December 2026 at 14:05 UTC`."""
    moment = as_utc(moment).astimezone(datetime.UTC)
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def condition_anchor(number: str, term: str) -> str:
    """The id of the list a criterion's Range of Conditions term links to, shown with the criterion."""
    return f"range-{number}-" + re.sub(r"[^\w]+", "-", term.casefold()).strip("-")


def marked(criterion: Criterion) -> Markup:
    """A criterion's text with each Range of Conditions term in bold, linked to its list."""
    if not criterion.marked:
        return escape(criterion.text)
    parts, start = [], 0
    for found in BOLD.finditer(criterion.marked):
        parts.append(escape(criterion.marked[start : found.start()]))
        anchor = condition_anchor(criterion.number, found.group(1))
        parts.append(Markup('<a href="#{}"><strong>{}</strong></a>').format(anchor, found.group(1)))
        start = found.end()
    parts.append(escape(criterion.marked[start:]))
    return Markup("").join(parts)


def init_app(app: Flask) -> None:
    """Let templates word codes: `{{ status|label }}`, and name the user's home list."""
    app.add_template_filter(label)
    app.add_template_filter(blocks)
    app.add_template_filter(label_of)
    app.add_template_filter(when)
    app.add_template_filter(marked)
    app.add_template_filter(hours)
    app.add_template_global(condition_anchor)
    # Templates compare codes with the vocabulary's own members, never with strings of their own.
    app.jinja_env.globals.update(
        Status=Status,
        Verdict=Verdict,
        EnrolmentStatus=EnrolmentStatus,
        JobStatus=JobStatus,
        MailStatus=MailStatus,
        TokenPurpose=TokenPurpose,
        TokenScope=TokenScope,
        Role=Role,
        ReviewState=ReviewState,
        ActionState=ActionState,
        Outcome=Outcome,
        PlanBasis=PlanBasis,
    )

    @app.context_processor
    def words() -> dict[str, str]:
        return {"home_label": home_label(current_user.role if current_user.is_authenticated else None)}


def hours(minutes: int) -> str:
    """Minutes as hours for people, never rounded up to a whole it has not reached: `120`, `7 h 30 min`."""
    whole, rest = divmod(minutes, 60)
    return f"{whole} h {rest} min" if rest else str(whole)


def obstacle(found: Obstacle) -> str:
    """One reason a unit cannot be signed off yet, as a sentence."""
    target = found.target or ""
    evidence = ", ".join(f"#{i}" for i in found.evidence_ids)
    match found.reason:
        case Reason.NOT_ACTIVE:
            return "The enrolment is not open for sign-off (it is completed or withdrawn)."
        case Reason.UNDER_REVIEW:
            return "A quality assurer is reviewing this enrolment: it can be signed off when the review ends."
        case Reason.AWAITING_COUNTERSIGNATURE:
            return "It is signed off and waits for a quality assurer's countersignature before the record is issued."
        case Reason.PREREQUISITE_NOT_HELD:
            return (
                f"The trainee holds no completion record of {target}, nor a credit for it, which this unit requires "
                "first."
            )
        case Reason.CRITERION_NOT_MET:
            return f"Criterion {target} is not yet met."
        case Reason.ITEM_NOT_MET:
            return f"Evidence item {target} is not yet covered."
        case Reason.TOO_FEW_OCCASIONS:
            return f"{target} needs {found.need} satisfied occasions; it has {found.have}."
        case Reason.TOO_FEW_DIFFERENT:
            what = (found.detail or "").lower()
            return f"{target} needs occasions with {found.need} different values of {what}; it has {found.have}."
        case Reason.HOURS_NOT_VERIFIED:
            return (
                f"The logbook needs {hours(found.need)} hours of {found.detail} verified by an assessor; "
                f"it has {hours(found.have)}."
            )
        case Reason.QUOTA_NOT_MET:
            return f"{target} needs at least {found.need} of its occasions to be {found.detail}; it has {found.have}."
        case Reason.CONTEXT_NOT_ACCEPTED:
            return (
                f"Evidence {evidence} for {target} comes from a context this unit does not accept, "
                "so it does not count."
            )
    return str(found.reason)
