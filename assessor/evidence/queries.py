"""Reads behind the evidence pages: the enrolments a checklist offers, and a piece of evidence's history in words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.access import visible_enrolments
from assessor.core.labels import label
from assessor.domain.vocabulary import OPEN, Role, Status, Verdict
from assessor.models import AuditEvent, Enrolment, Evidence, UnitVersion, User, enrolment_assessor
from assessor.progress.queries import progress_of


def checklist_enrolments(session: so.Session, user: User, trainee: User) -> list[Enrolment]:
    """The enrolments a checklist offers: the trainee's open ones that the user assesses, or a trainee's own."""
    query = sa.select(Enrolment).where(Enrolment.trainee_id == trainee.id, Enrolment.status.in_(OPEN))
    if user.role != Role.TRAINEE:
        assessed = sa.select(enrolment_assessor.c.enrolment_id).where(enrolment_assessor.c.user_id == user.id)
        query = query.where(Enrolment.id.in_(assessed))
    return list(session.scalars(query.order_by(Enrolment.id)))


@dataclass(frozen=True)
class Entry:
    """One change to evidence as a sentence: when, and what was done, by whom."""

    occurred_at: str
    sentence: str


def target_statuses(session: so.Session, enrolments: list[Enrolment]) -> dict[tuple[int, str], Status]:
    """Where each criterion and item of each enrolment stands, for the checklist."""
    return {
        (enrolment.id, key): target.status
        for enrolment in enrolments
        for key, target in progress_of(session, enrolment).targets.items()
    }


def history_of(session: so.Session, evidence: Evidence, viewer: User) -> list[Entry]:
    """Every audited change to the evidence, oldest first, in words; its mappings only into enrolments the viewer
    sees (a trainee sees their own, an assessor those they assess)."""
    events = session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "evidence", AuditEvent.entity_id == str(evidence.id))
        .order_by(AuditEvent.seq)
    ).all()
    names = {
        u.id: u.display_name
        for u in session.scalars(sa.select(User).where(User.id.in_({e.actor_id for e in events if e.actor_id})))
    }
    visible = {
        e.id: e.unit_version
        for e in session.scalars(
            visible_enrolments(viewer)
            .where(Enrolment.trainee_id == evidence.trainee_id)
            .options(so.selectinload(Enrolment.unit_version))
        )
    }
    entries = []
    for event in events:
        who = names.get(event.actor_id or 0, event.actor)
        sentence = describe(event.action, who, json.loads(event.before), json.loads(event.after), visible)
        if sentence:
            entries.append(Entry(event.occurred_at[:16].replace("T", " "), sentence))
    return entries


FIELDS = {
    "method": "the method",
    "context": "the context",
    "observed_on": "the date observed",
    "location": "the location",
    "narrative": "the account of what was observed",
    "attachments": "the attachments",
    "values": "who or what it was with",
}


def describe(
    action: str, who: str, before: dict[str, Any], after: dict[str, Any], units: dict[int, UnitVersion]
) -> str | None:
    """One audited change in words (None for a mapping into an enrolment not in `units`, those the viewer sees)."""
    mapping = after or before
    if action.startswith("mapping."):
        unit = units.get(mapping.get("enrolment", 0))
        if unit is None:
            return None
        target = f"{mapping['target']} of {unit.code or unit.title}"
        verdict = label(Verdict(after["verdict"])) if after.get("verdict") else None
        comment = f": {after['comment']}" if after.get("comment") else ""
        if action == "mapping.add":
            return f"{who} mapped it to {target}" + (f", judged {verdict}{comment}" if verdict else "") + "."
        if action == "mapping.judge":
            return (
                f"{who} judged {target} {verdict}{comment}."
                if verdict
                else f"{who} withdrew the judgement of {target}."
            )
        if action == "mapping.carry_over":
            judged = f", judged {verdict}{comment}" if verdict else ""
            return f"{who} carried it over to {target} from the earlier version{judged}."
        return f"{who} took it off {target}."
    match action:
        case "evidence.record":
            return f"{who} recorded it."
        case "evidence.edit":
            changed = [words for key, words in FIELDS.items() if before.get(key) != after.get(key)]
            return f"{who} changed {_listed(changed)}." if changed else None
        case "attachment.add":
            return f"{who} attached {after.get('original_name', 'a file')}."
        case "evidence.acknowledge":
            return f"{who} acknowledged it as an accurate account."
        case "evidence.erase":
            because = after.get("state", {}).get("erased", {}).get("because")
            return f"{who} erased the account and attachments" + (f": {because}." if because else ".")
    return f"{who}: {action}."


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
