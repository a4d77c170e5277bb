"""What the audit trail keeps of each kind of record: one shape per kind, for the operations and the bulk writer
alike."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from assessor.domain.vocabulary import Context, EnrolmentStatus, Method, Role, Verdict

DECLARATION = ("valid", "sufficient", "authentic", "current")


def user_state(username: str, display_name: str, email: str | None, role: Role, active: bool) -> dict[str, Any]:
    """An account."""
    return {"username": username, "display_name": display_name, "email": email, "role": role.value, "active": active}


def cohort_state(name: str, coordinators: Iterable[str]) -> dict[str, Any]:
    """A cohort, with the usernames of those who run it."""
    return {"name": name, "coordinators": list(coordinators)}


def enrolment_state(
    trainee_id: int,
    unit_key: str,
    cohort_id: int | None,
    assessor_ids: Iterable[int],
    status: EnrolmentStatus,
    start_date: datetime.date,
    end_date: datetime.date | None,
) -> dict[str, Any]:
    """An enrolment."""
    return {
        "trainee": trainee_id,
        "unit": unit_key,
        "cohort": cohort_id,
        "assessors": sorted(assessor_ids),
        "status": status.value,
        "start_date": start_date.isoformat(),
        "end_date": end_date.isoformat() if end_date else None,
    }


def evidence_state(
    trainee_id: int,
    method: Method,
    context: Context,
    observed_on: datetime.date,
    location: str,
    narrative: str,
    attachment_hashes: Iterable[str],
    erased_on: datetime.date | None = None,
    erased_because: str | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A piece of evidence, its attachments by SHA-256, the values it names of what occasions must differ in (where
    it names any); once its content is erased, when and why."""
    state: dict[str, Any] = {
        "trainee": trainee_id,
        "method": method.value,
        "context": context.value,
        "observed_on": observed_on.isoformat(),
        "location": location,
        "narrative": narrative,
        "attachments": list(attachment_hashes),
    }
    if values:
        state["values"] = values
    if erased_on is not None:
        state["erased"] = {"on": erased_on.isoformat(), "because": erased_because}
    return state


def attachment_state(
    evidence_id: int,
    original_name: str,
    size: int,
    content_type: str,
    sha256: str,
    stored_name: str,
    erased_on: datetime.date | None = None,
) -> dict[str, Any]:
    """A file attached to evidence; once erased, since when."""
    state: dict[str, Any] = {
        "evidence": evidence_id,
        "original_name": original_name,
        "size": size,
        "content_type": content_type,
        "sha256": sha256,
        "stored_name": stored_name,
    }
    if erased_on is not None:
        state["erased_on"] = erased_on.isoformat()
    return state


def mapping_state(
    mapping_id: int, enrolment_id: int, target: str, verdict: Verdict | None, comment: str
) -> dict[str, Any]:
    """Evidence mapped to one criterion or item of an enrolment, with its judgement."""
    return {
        "mapping": mapping_id,
        "enrolment": enrolment_id,
        "target": target,
        "verdict": verdict.value if verdict else None,
        "comment": comment,
    }


def completion_state(
    enrolment_id: int,
    result: str,
    assessor_id: int,
    signed_on: datetime.date,
    snapshot: dict[str, Any],
    countersigned_by: int | None = None,
) -> dict[str, Any]:
    """A completion record as signed off, with its frozen snapshot (and who countersigned it, when someone did)."""
    state = {
        "enrolment": enrolment_id,
        "result": result,
        "assessor": assessor_id,
        "signed_on": signed_on.isoformat(),
        "declaration": list(DECLARATION),
        "snapshot": snapshot,
    }
    if countersigned_by is not None:
        state["countersigned_by"] = countersigned_by
    return state


def credit_state(
    trainee_id: int, unit: str, awarded_on: datetime.date, source: str, withdrawn_because: str | None = None
) -> dict[str, Any]:
    """A credit for a unit achieved elsewhere; once withdrawn, why."""
    state: dict[str, Any] = {
        "trainee": trainee_id,
        "unit": unit,
        "awarded_on": awarded_on.isoformat(),
        "source": source,
    }
    if withdrawn_because is not None:
        state["withdrawn_because"] = withdrawn_because
    return state


def logbook_state(
    enrolment_id: int, worked_on: datetime.date, minutes: int, description: str, verified_by: int | None
) -> dict[str, Any]:
    """A day's work logged toward an enrolment, and who verified it."""
    return {
        "enrolment": enrolment_id,
        "worked_on": worked_on.isoformat(),
        "minutes": minutes,
        "description": description,
        "verified_by": verified_by,
    }
