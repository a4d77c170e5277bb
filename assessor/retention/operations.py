"""Legal holds placed and released, and evidence content erased; each audited.

An erasure keeps the evidence row (who, what method, when, which criteria it was mapped to and how it was judged) and
its attachments' names, sizes and SHA-256s: the evidence summary completion records froze. It removes the narrative
and the attachment files, and rewrites the audit events that held the narrative so that each keeps only its SHA-256;
its own audit event vouches for every event it rewrote (see `domain.audit_chain`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require
from assessor.core.database import flush_or_changed
from assessor.domain import audit_records, limits, policy
from assessor.domain.audit_states import attachment_state
from assessor.domain.errors import InvalidInput
from assessor.domain.retention import Decision, Rule, decide
from assessor.evidence.operations import state_of
from assessor.models import Attachment, Cohort, Evidence, User, utcnow
from assessor.models.retention import LegalHold
from assessor.progress.operations import reassess
from assessor.retention.queries import holdings_of, holds_in_force

ERASED_FIELDS = ("narrative", "values")  # values: the names of the people and places an occasion was with
ONLY_ADMINS = "Only an administrator governs retention."


def place_hold(
    session: so.Session, actor: User, reason: str, trainee: User | None = None, cohort: Cohort | None = None
) -> LegalHold:
    """Keep a trainee's or a cohort's evidence, whatever its age, until the hold is released."""
    require(policy.may_govern_retention(actor_of(actor)), ONLY_ADMINS)
    problems = _reason_problems(reason)
    if (trainee is None) == (cohort is None):
        problems["subject"] = "Name either a trainee or a cohort."
    if problems:
        raise InvalidInput(problems)
    hold = LegalHold(trainee=trainee, cohort=cohort, reason=reason.strip(), placed_by=actor)
    session.add(hold)
    session.flush()
    subject = {"trainee": trainee.id} if trainee else {"cohort": cohort.id if cohort else None}
    audit.record(session, actor, "hold.place", "legal_hold", hold.id, None, {**subject, "reason": hold.reason})
    return hold


def release_hold(session: so.Session, actor: User, hold: LegalHold, reason: str) -> LegalHold:
    """End a legal hold: the evidence it kept falls due again by its own rules."""
    require(policy.may_govern_retention(actor_of(actor)), ONLY_ADMINS)
    if hold.released_at is not None:
        raise InvalidInput({"hold": f"Hold {hold.id} was released already."})
    if problems := _reason_problems(reason):
        raise InvalidInput(problems)
    hold.released_at = utcnow()
    hold.released_by_id = actor.id
    hold.release_reason = reason.strip()
    session.flush()
    audit.record(session, actor, "hold.release", "legal_hold", hold.id, None, {"reason": hold.release_reason})
    return hold


@dataclass(frozen=True)
class Erasure:
    """What one erasure did: why, the files to remove once committed, how many audit events it rewrote."""

    because: str
    files: tuple[str, ...]
    events: int


def erase_if_due(
    session: so.Session,
    actor: User | None,
    evidence: Evidence,
    rules: Mapping[str, Rule],
    today: datetime.date,
    legal: bool = False,
    request: str = "",
) -> Erasure | Decision:
    """Erase the content of one piece of evidence if it is due on `today` (past the legal minimum when `legal`, for a
    privacy request saying `request`) and under no hold; otherwise change nothing and return the decision that keeps
    it. Decided again here, in the erasing transaction, so a hold placed since a plan was made is obeyed."""
    require(policy.may_govern_retention(actor_of(actor) if actor else None), ONLY_ADMINS)
    if legal and (problem := request_problems(request)):
        raise InvalidInput({"request": problem})
    if evidence.erased_on is not None:
        raise InvalidInput({"evidence": f"The content of evidence {evidence.id} was erased on {evidence.erased_on}."})
    (holding,) = holdings_of(session, [evidence.id])
    decision = decide(holding, rules, holds_in_force(session), legal)
    if not decision.past(today) or decision.holds:
        return decision
    why = decision.why(legal)
    because = f"privacy request: {request.strip()}; {why}" if legal else f"retention: {why}"
    return _erase(session, actor, evidence, because, today)


def _erase(session: so.Session, actor: User | None, evidence: Evidence, because: str, today: datetime.date) -> Erasure:
    rewrites = audit.erase_content(session, "evidence", evidence.id, audit_records.EVIDENCE_ACTIONS, ERASED_FIELDS)
    evidence.narrative = ""
    named, evidence.dimensions = evidence.dimensions, None
    evidence.erased_on = today
    evidence.erased_because = because
    files = []
    for attachment in evidence.attachments:
        if attachment.erased_on is None:
            attachment.erased_on = today
            files.append(attachment.stored_name)
    flush_or_changed(session, "evidence")
    attachments = [
        {
            "attachment": a.id,
            **attachment_state(
                evidence.id, a.original_name, a.size, a.content_type, a.sha256, a.stored_name, a.erased_on
            ),
        }
        for a in evidence.attachments
    ]
    after = {
        "state": state_of(evidence),
        "attachments": attachments,
        "events": [{"seq": r.seq, "hash": r.hash, "rewritten": r.rewritten} for r in rewrites],
    }
    audit.record(session, actor, audit_records.ERASE, "evidence", evidence.id, None, after)
    if named:  # with the names gone, its occasions no longer count as different ones
        for enrolment in sorted({m.enrolment for m in evidence.mappings}, key=lambda e: e.id):
            reassess(session, actor, enrolment)
    return Erasure(because, tuple(files), len(rewrites))


def erased_files_left(session: so.Session) -> list[str]:
    """The stored names of every erased attachment, for removing files an interrupted run left behind."""
    return list(session.scalars(sa.select(Attachment.stored_name).where(Attachment.erased_on.is_not(None))))


def request_problems(request: str) -> str:
    """What is wrong with the words of a privacy request, if anything."""
    return " ".join(_reason_problems(request).values())


def _reason_problems(reason: str) -> dict[str, str]:
    if not reason.strip():
        return {"reason": "Say why."}
    return limits.too_long({"reason": (reason.strip(), limits.REASON)})
