"""Reads behind the evidence pages: the enrolments a checklist offers, and a piece of evidence's history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.domain.vocabulary import OPEN, Role
from assessor.models import AuditEvent, Enrolment, Evidence, User, enrolment_assessor


@dataclass(frozen=True)
class Change:
    """One audited change to evidence: who, when, what, and each field before and after."""

    event: AuditEvent
    fields: list[tuple[str, Any, Any]]


def checklist_enrolments(session: so.Session, user: User, trainee: User) -> list[Enrolment]:
    """The enrolments a checklist offers: the trainee's open ones that the user assesses, or a trainee's own."""
    query = sa.select(Enrolment).where(Enrolment.trainee_id == trainee.id, Enrolment.status.in_(OPEN))
    if user.role != Role.TRAINEE:
        assessed = sa.select(enrolment_assessor.c.enrolment_id).where(enrolment_assessor.c.user_id == user.id)
        query = query.where(Enrolment.id.in_(assessed))
    return list(session.scalars(query.order_by(Enrolment.id)))


def history_of(session: so.Session, evidence: Evidence) -> list[Change]:
    """Every audited change to the evidence, oldest first, field by field."""
    events = session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.entity_type == "evidence", AuditEvent.entity_id == str(evidence.id))
        .order_by(AuditEvent.seq)
    )
    return [Change(e, _fields(e)) for e in events]


def _fields(event: AuditEvent) -> list[tuple[str, Any, Any]]:
    before, after = json.loads(event.before), json.loads(event.after)
    keys = sorted(set(before) | set(after))
    return [(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)]
