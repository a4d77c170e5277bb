"""Jobs of this feature: checking the whole audit trail, which takes minutes on a large site."""

from __future__ import annotations

from typing import Any

from assessor.core import audit_verify
from assessor.core.database import database
from assessor.core.jobs import Finish, Work, handles

AUDIT_CHECK = "audit.verify"
PROBLEMS_KEPT = 200  # problems kept on the job; `assessor audit verify` names every one


@handles(AUDIT_CHECK, "Check of the audit trail")
def check_audit_trail(work: Work) -> Finish:
    """`assessor audit verify`, run by the worker: its report is the job's result."""
    with database().read_sessions() as session:
        report = audit_verify.verify(session)
    result: dict[str, Any] = {
        "intact": report.intact,
        "events": report.events,
        "records": report.records,
        "problems": report.problems[:PROBLEMS_KEPT],
        "more_problems": max(0, len(report.problems) - PROBLEMS_KEPT),
        "notes": report.notes,
    }
    return lambda _session: result
