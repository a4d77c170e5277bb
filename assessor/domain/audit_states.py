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
) -> dict[str, Any]:
    """A piece of evidence, its attachments by SHA-256."""
    return {
        "trainee": trainee_id,
        "method": method.value,
        "context": context.value,
        "observed_on": observed_on.isoformat(),
        "location": location,
        "narrative": narrative,
        "attachments": list(attachment_hashes),
    }


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
    enrolment_id: int, result: str, assessor_id: int, signed_on: datetime.date, snapshot: dict[str, Any]
) -> dict[str, Any]:
    """A completion record as signed off, with its frozen snapshot."""
    return {
        "enrolment": enrolment_id,
        "result": result,
        "assessor": assessor_id,
        "signed_on": signed_on.isoformat(),
        "declaration": list(DECLARATION),
        "snapshot": snapshot,
    }
