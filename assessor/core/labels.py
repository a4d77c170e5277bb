"""The words the pages and exports use for the codes the domain returns."""

from __future__ import annotations

from assessor.domain.completion import Obstacle, Reason
from assessor.domain.progress import Status
from assessor.models import Context, EnrolmentStatus, Method, Role, Verdict

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
}
ROLE = {Role.ADMIN: "Administrator", Role.COORDINATOR: "Training coordinator", Role.ASSESSOR: "Assessor", Role.TRAINEE: "Trainee"}


def obstacle(found: Obstacle) -> str:
    """One reason a unit cannot be signed off yet, as a sentence."""
    target = found.target or ""
    evidence = ", ".join(f"#{i}" for i in found.evidence_ids)
    match found.reason:
        case Reason.NOT_ACTIVE:
            return "The enrolment is not open for sign-off (it is completed or withdrawn)."
        case Reason.CRITERION_NOT_MET:
            return f"Criterion {target} is not yet met."
        case Reason.ITEM_NOT_MET:
            return f"Evidence item {target} is not yet covered."
        case Reason.TOO_FEW_OCCASIONS:
            return f"{target} needs {found.need} satisfied occasions; it has {found.have}."
        case Reason.CONTEXT_NOT_ACCEPTED:
            return f"Evidence {evidence} for {target} comes from a context this unit does not accept, so it does not count."
    return str(found.reason)
