"""Recording a group observation: the shared account once, each trainee's part as evidence of their own, audited."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import enrolment_facts
from assessor.domain import limits, policy
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import Verdict
from assessor.evidence.operations import AttachmentInput, EvidenceInput, MappingInput, record_evidence
from assessor.models import Cohort, Enrolment, GroupObservation, UnitVersion, User
from assessor.standards.queries import targets_of

SUBMISSION = re.compile(r"[0-9a-f]{32}")
GROUP_LIMIT = 100  # trainees in one group observation: a large workshop, not a whole organisation


@dataclass(frozen=True)
class Part:
    """One trainee's part: their enrolment in the unit, their judgement on each target the activity showed, and the
    assessor's comment to them."""

    enrolment: Enrolment
    judgements: dict[str, Verdict] = field(default_factory=dict)
    comment: str = ""


def record_group_observation(
    session: so.Session,
    actor: User,
    unit_version: UnitVersion,
    activity: str,
    data: EvidenceInput,
    parts: Sequence[Part],
    submission: str,
    attachments: Sequence[AttachmentInput] = (),
    copy: Callable[[AttachmentInput], AttachmentInput] = lambda item: item,
    cohort: Cohort | None = None,
    today: datetime.date | None = None,
) -> GroupObservation:
    """Record the activity once and each trainee's part as their own evidence, all or nothing; the same submission
    (the random token of one form) sent again returns what it recorded the first time.

    Each part gets its own copy of every attachment (`copy` makes one from a stored file), so that erasing one
    trainee's evidence never takes another's."""
    earlier = session.scalar(sa.select(GroupObservation).where(GroupObservation.submission == submission))
    if earlier is not None:
        if earlier.recorded_by_id != actor.id:
            raise InvalidInput({"submission": "This form is out of date: open it again."})
        return earlier
    parts = [part for part in parts if part.judgements or part.comment.strip()]
    _check(actor, unit_version, activity, parts, submission)
    group = GroupObservation(
        activity=activity.strip(),
        unit_version=unit_version,
        cohort=cohort,
        recorded_by_id=actor.id,
        submission=submission,
    )
    session.add(group)
    session.flush()
    for number, part in enumerate(parts):
        judged = part.judgements.items()
        mappings = [MappingInput(part.enrolment.id, key, verdict, part.comment) for key, verdict in judged]
        files = attachments if number == 0 else [copy(item) for item in attachments]
        record_evidence(session, actor, part.enrolment.trainee, data, mappings, files, today, group=group)
    audit.record(
        session,
        actor,
        "group_observation.record",
        "group_observation",
        group.id,
        None,
        {
            "activity": group.activity,
            "unit_version": unit_version.key,
            "cohort": cohort.id if cohort else None,
            "evidence": [evidence.id for evidence in group.parts],
        },
    )
    return group


def _check(actor: User, unit_version: UnitVersion, activity: str, parts: Sequence[Part], submission: str) -> None:
    """Every problem at once: the activity's name, who is in the group, and each part's enrolment and targets."""
    problems: dict[str, str] = {}
    if not SUBMISSION.fullmatch(submission):
        problems["submission"] = "This form is out of date: open it again."
    if not activity.strip():
        problems["activity"] = "Name the activity, for example: case conference role play."
    problems.update(limits.too_long({"activity": (activity, limits.NAME)}))
    if not parts:
        problems["parts"] = "Judge at least one criterion or item for at least one trainee."
    elif len(parts) > GROUP_LIMIT:
        problems["parts"] = f"Record at most {GROUP_LIMIT} trainees in one group observation."
    if len({part.enrolment.trainee_id for part in parts}) < len(parts):
        problems["parts"] = "Each trainee takes part once."
    targets = targets_of(unit_version)
    for part in parts:
        enrolment, key = part.enrolment, f"part-{part.enrolment.id}"
        name = enrolment.trainee.display_name
        facts = enrolment_facts(enrolment)
        if enrolment.unit_version_id != unit_version.id or not policy.may_assess(actor_of(actor), facts):
            problems[key] = f"You do not assess {name} in {unit_version.title}."
        elif not enrolment.status.is_open:
            problems[key] = f"{name}'s enrolment is {enrolment.status.value.replace('_', ' ')}: it cannot change."
        elif facts.under_review:
            problems[key] = f"A quality assurer is reviewing {name}'s enrolment: leave them out for now."
        elif unknown := sorted(set(part.judgements) - set(targets)):
            problems[key] = f"{', '.join(unknown)} is not a criterion or evidence item of {unit_version.key}."
        elif not part.judgements:
            problems[key] = f"Judge at least one criterion or item for {name}, or leave out the comment."
        elif len(part.comment) > limits.COMMENT:
            problems[key] = f"Use at most {limits.COMMENT:,} characters in the comment to {name}."
    if problems:
        raise InvalidInput(problems)
