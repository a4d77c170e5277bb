"""What assessors and trainees do to evidence: record it, map and judge it, edit it, acknowledge it; each audited."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import enrolment_facts, evidence_facts, require, trainee_enrolment_facts
from assessor.core.database import flush_or_changed
from assessor.domain import limits, policy
from assessor.domain.audit_states import evidence_state, mapping_state
from assessor.domain.dates import observed_on_problem
from assessor.domain.errors import ChangedMeanwhile, InvalidInput, Locked, NotAllowed
from assessor.domain.vocabulary import Context, EnrolmentStatus, Method, Verdict
from assessor.models import (
    Acknowledgement,
    Attachment,
    Enrolment,
    Evidence,
    EvidenceMapping,
    GroupObservation,
    User,
    utcnow,
)
from assessor.progress.operations import reassess
from assessor.standards.queries import targets_of, unit_of

# A form's submission token: 32 hexadecimal digits, made when the form is shown.
SUBMISSION = re.compile(r"[0-9a-f]{32}")
OUT_OF_DATE = "This form is out of date: open it again."


@dataclass(frozen=True)
class EvidenceInput:
    """What an assessor (or trainee) says about one piece of evidence."""

    method: Method
    context: Context
    observed_on: datetime.date
    narrative: str
    location: str = ""
    # What the occasion was with, by dimension: (value, kinds), for criteria whose occasions must differ.
    values: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class MappingInput:
    """A criterion or evidence item of an enrolment, with the judgement the evidence supports."""

    enrolment_id: int
    target: str
    verdict: Verdict | None
    comment: str = ""


@dataclass(frozen=True)
class AttachmentInput:
    """A file already checked and stored, to be recorded against evidence."""

    original_name: str
    size: int
    content_type: str
    sha256: str
    stored_name: str


def record_evidence(
    session: so.Session,
    actor: User,
    trainee: User,
    data: EvidenceInput,
    mappings: Sequence[MappingInput] = (),
    attachments: Sequence[AttachmentInput] = (),
    today: datetime.date | None = None,
    group: GroupObservation | None = None,
    submission: str | None = None,
) -> Evidence:
    """Record evidence about a trainee, map it to criteria and items of their enrolments and judge each; as their part
    of a group observation where one is given. The same form sent twice (its `submission` token) records it once: the
    second time, the evidence the first recorded is returned and nothing is written."""
    by_trainee = actor.id == trainee.id
    who = actor_of(actor)
    if by_trainee:
        require(policy.may_submit_evidence(who), "Only a trainee submits evidence of their own.")
        if any(m.verdict is not None for m in mappings):
            raise NotAllowed("Only an assessor judges evidence.")
    else:
        require(
            policy.may_record_evidence(who, tuple(trainee_enrolment_facts(session, trainee.id).values())),
            "Only an assessor assigned to one of the trainee's open enrolments records evidence about them.",
        )
    _check_evidence(data, today or datetime.date.today())
    values = _check_values(session, data.values, [(m.enrolment_id, m.target) for m in mappings])
    if submission is not None:
        if not SUBMISSION.fullmatch(submission):
            raise InvalidInput({"submission": OUT_OF_DATE})
        if (earlier := _sent_before(session, actor, trainee, submission)) is not None:
            return earlier
    evidence = Evidence(
        trainee=trainee,
        recorded_by=actor,
        submitted_by_trainee=by_trainee,
        method=data.method,
        context=data.context,
        observed_on=data.observed_on,
        location=data.location.strip(),
        narrative=data.narrative.strip(),
        group=group,
        dimensions=values,
        submission=submission,
    )
    session.add(evidence)
    try:
        with session.begin_nested():  # the same form sent twice at once: the unique token keeps one
            session.flush()
    except sa.exc.IntegrityError:
        session.expunge(evidence)
        earlier = _sent_before(session, actor, trainee, submission) if submission is not None else None
        if earlier is None:
            raise
        return earlier
    for item in attachments:
        _attach(session, actor, evidence, item)
    audit.record(session, actor, "evidence.record", "evidence", evidence.id, None, state_of(evidence))
    _apply_mappings(session, actor, evidence, mappings, allow_judgement=not by_trainee)
    return evidence


def _sent_before(session: so.Session, actor: User, trainee: User, submission: str) -> Evidence | None:
    """The evidence this form recorded already, if it did; refused when the token came with someone else's form."""
    earlier = session.scalar(sa.select(Evidence).where(Evidence.submission == submission))
    if earlier is not None and (earlier.recorded_by_id != actor.id or earlier.trainee_id != trainee.id):
        raise InvalidInput({"submission": "This form was sent from someone else's page: open it again."})
    return earlier


def edit_evidence(
    session: so.Session,
    actor: User,
    evidence: Evidence,
    expected_version: int,
    data: EvidenceInput,
    mappings: Sequence[MappingInput] | None = None,
    attachments: Sequence[AttachmentInput] = (),
    today: datetime.date | None = None,
    seen: Mapping[tuple[int, str], int] | None = None,
) -> Evidence:
    """Change evidence and its mappings, refusing a stale version or a signed-off enrolment.

    `seen` holds the version of each mapping (enrolment id, target) as the caller read it, 0 for none: a mapping that
    would change but was added, judged or removed by someone else since is refused, so no judgement is lost."""
    _refuse_if_signed_off(evidence.mappings)
    facts = evidence_facts(session, evidence)
    require(
        policy.may_edit_evidence(actor_of(actor), facts),
        "Only an assessor of an enrolment this evidence is mapped to can change it.",
    )
    if evidence.version != expected_version:
        raise ChangedMeanwhile("evidence")
    _check_evidence(data, today or datetime.date.today())
    targets = [(m.enrolment_id, m.target) for m in (evidence.mappings if mappings is None else mappings)]
    values = _check_values(session, data.values, targets)
    before = state_of(evidence)
    evidence.method = data.method
    evidence.context = data.context
    evidence.observed_on = data.observed_on
    evidence.location = data.location.strip()
    evidence.narrative = data.narrative.strip()
    evidence.dimensions = values
    for item in attachments:
        _attach(session, actor, evidence, item)
    after = state_of(evidence)
    if after != before:
        require(
            policy.may_change_evidence_details(actor_of(actor), facts),
            "This evidence also counts toward units you do not assess: only their assessors can change its details "
            "and attachments. You can still judge it against your own units.",
        )
        # A new version even when only attachments changed, so that an acknowledgement is of what the trainee saw.
        so.attributes.flag_modified(evidence, "narrative")
        flush_or_changed(session, "evidence")
        audit.record(session, actor, "evidence.edit", "evidence", evidence.id, before, after)
    if mappings is not None:
        _apply_mappings(session, actor, evidence, mappings, allow_judgement=True, seen=seen)
    if any(after.get(k) != before.get(k) for k in ("context", "observed_on", "values")):
        # Whether the evidence counts, how recent each enrolment's evidence is, and how many different values its
        # occasions have may all have changed.
        for enrolment in sorted({m.enrolment for m in evidence.mappings}, key=lambda e: e.id):
            reassess(session, actor, enrolment)
    return evidence


def judge(
    session: so.Session,
    actor: User,
    mapping: EvidenceMapping,
    expected_version: int,
    verdict: Verdict | None,
    comment: str = "",
) -> EvidenceMapping:
    """Judge one mapping of evidence to a criterion or item."""
    _require_assessor(actor, mapping.enrolment)
    if mapping.version != expected_version:
        raise ChangedMeanwhile("judgement")
    _refuse_if_signed_off([mapping])
    _refuse_if_under_review(mapping.enrolment)
    if problems := limits.too_long({"comment": (comment, limits.COMMENT)}):
        raise InvalidInput(problems)
    before = mapping_state_of(mapping)
    mapping.verdict = verdict
    mapping.comment = comment.strip()
    mapping.judged_by = actor if verdict is not None else None
    mapping.judged_at = utcnow() if verdict is not None else None
    flush_or_changed(session, "judgement")
    audit.record(session, actor, "mapping.judge", "evidence", mapping.evidence_id, before, mapping_state_of(mapping))
    reassess(session, actor, mapping.enrolment)
    return mapping


def acknowledge(session: so.Session, actor: User, evidence: Evidence) -> Acknowledgement:
    """The trainee declares that this evidence, as it stands now, is an accurate account."""
    require(
        policy.may_acknowledge(actor_of(actor), evidence_facts(session, evidence)),
        "Only the trainee the evidence is about can acknowledge it.",
    )
    existing = session.scalar(
        sa.select(Acknowledgement).where(
            Acknowledgement.evidence_id == evidence.id, Acknowledgement.evidence_version == evidence.version
        )
    )
    if existing is not None:
        return existing
    ack = Acknowledgement(evidence=evidence, evidence_version=evidence.version, trainee_id=actor.id)
    session.add(ack)
    session.flush()
    audit.record(session, actor, "evidence.acknowledge", "evidence", evidence.id, None, {"version": evidence.version})
    return ack


def state_of(evidence: Evidence) -> dict[str, object]:
    """What the audit trail keeps of a piece of evidence."""
    return evidence_state(
        evidence.trainee_id,
        evidence.method,
        evidence.context,
        evidence.observed_on,
        evidence.location,
        evidence.narrative,
        (a.sha256 for a in evidence.attachments),
        evidence.erased_on,
        evidence.erased_because,
        evidence.dimensions,
    )


def mapping_state_of(mapping: EvidenceMapping) -> dict[str, object]:
    """What the audit trail keeps of a mapping and its judgement."""
    return mapping_state(mapping.id, mapping.enrolment_id, mapping.target, mapping.verdict, mapping.comment)


# --- helpers -----------------------------------------------------------------------------------


def _check_evidence(data: EvidenceInput, today: datetime.date) -> None:
    problems = {}
    if date_problem := observed_on_problem(data.observed_on, today):
        problems["observed_on"] = date_problem
    if not data.narrative.strip():
        problems["narrative"] = "Describe what was observed or provided."
    lengths = {"narrative": (data.narrative, limits.NARRATIVE), "location": (data.location, limits.NAME)}
    problems.update(limits.too_long(lengths))
    if problems:
        raise InvalidInput(problems)


def _check_values(
    session: so.Session, values: Mapping[str, tuple[str, tuple[str, ...]]], targets: Iterable[tuple[int, str]]
) -> dict[str, Any] | None:
    """The dimension values to keep with evidence mapped to `targets`: required where a mapped criterion or item
    counts occasions with different values, each kind one its unit names; values of dimensions no mapped unit has
    are not kept."""
    dimensions: dict[str, tuple[str, set[str]]] = {}
    needed: dict[str, list[str]] = {}
    for enrolment_id, target in targets:
        enrolment = session.get(Enrolment, enrolment_id)
        if enrolment is None:
            continue
        unit = unit_of(enrolment.unit_version)
        for d in unit.dimensions:
            dimensions.setdefault(d.id, (d.label, set()))[1].update(d.kinds)
        requirement = unit.targets().get(target)
        if requirement is not None and requirement.distinct:
            needed.setdefault(requirement.distinct, []).append(f"{target} of {unit.display_code}")
    problems: dict[str, str] = {}
    kept: dict[str, Any] = {}
    for dimension, (value, kinds) in values.items():
        value = " ".join(value.split())
        if dimension not in dimensions or not value:
            continue
        label, known = dimensions[dimension]
        if len(value) > limits.NAME:
            problems[f"value-{dimension}"] = f"{label}: use at most {limits.NAME} characters."
        elif unknown := sorted(set(kinds) - known):
            problems[f"value-{dimension}"] = f"{label}: {unknown[0]} is not one of {', '.join(sorted(known))}."
        kept[dimension] = {"label": label, "value": value, "kinds": sorted(set(kinds))}
    for dimension, wanting in needed.items():
        if dimension not in kept and f"value-{dimension}" not in problems:
            label = dimensions[dimension][0]
            problems[f"value-{dimension}"] = (
                f"{label}: say who or what this evidence was with; {', '.join(wanting)} counts occasions that differ "
                "in it."
            )
    if problems:
        raise InvalidInput(problems)
    return kept or None


def _attach(session: so.Session, actor: User, evidence: Evidence, item: AttachmentInput) -> None:
    attachment = Attachment(evidence=evidence, uploaded_by_id=actor.id, **vars(item))
    session.add(attachment)
    session.flush()
    after = {"attachment": attachment.id, **vars(item)}
    audit.record(session, actor, "attachment.add", "evidence", evidence.id, None, after)


def _apply_mappings(
    session: so.Session,
    actor: User,
    evidence: Evidence,
    wanted: Sequence[MappingInput],
    allow_judgement: bool,
    seen: Mapping[tuple[int, str], int] | None = None,
) -> None:
    """Make the evidence's mappings match `wanted`: add, re-judge and remove, each audited; refuse any change to a
    mapping whose version is not the one `seen`."""
    enrolment_ids = {m.enrolment_id for m in wanted} | {m.enrolment_id for m in evidence.mappings}
    enrolments = {e.id: e for e in session.scalars(sa.select(Enrolment).where(Enrolment.id.in_(enrolment_ids)))}
    current = {(m.enrolment_id, m.target): m for m in evidence.mappings}
    problems = {}
    for m in wanted:
        enrolment = enrolments.get(m.enrolment_id)
        if enrolment is None or enrolment.trainee_id != evidence.trainee_id:
            raise NotAllowed("Evidence can only be mapped to the enrolments of the trainee it is about.")
        unchanged = (m.enrolment_id, m.target) in current and _same(
            current[m.enrolment_id, m.target], m, allow_judgement
        )
        if unchanged:
            continue
        if allow_judgement:  # a trainee's submission waits, unjudged, beside a review; an assessor's change does not
            _require_assessor(actor, enrolment)
            _refuse_if_under_review(enrolment)
        if not enrolment.status.is_open:
            raise Locked(
                f"The enrolment in {enrolment.unit_version.key} is {enrolment.status.value.replace('_', ' ')}: "
                "it cannot change."
            )
        if m.target not in targets_of(enrolment.unit_version):
            problems[f"{m.enrolment_id}:{m.target}"] = (
                f"{m.target} is not a criterion or evidence item of {enrolment.unit_version.key}."
            )
        elif len(m.comment) > limits.COMMENT:
            problems[f"{m.enrolment_id}:{m.target}"] = f"Use at most {limits.COMMENT:,} characters in a comment."
    if problems:
        raise InvalidInput(problems)
    wanted_keys = {(m.enrolment_id, m.target) for m in wanted}
    if seen is not None:
        changing = {key for key in current if key not in wanted_keys} | {
            (m.enrolment_id, m.target)
            for m in wanted
            if (m.enrolment_id, m.target) not in current
            or not _same(current[m.enrolment_id, m.target], m, allow_judgement)
        }
        stale = sorted(key for key in changing if seen.get(key, 0) != (current[key].version if key in current else 0))
        if stale:
            raise ChangedMeanwhile("judgement", tuple(stale))
    touched = set()
    for key, mapping in current.items():
        if key not in wanted_keys:
            _require_assessor(actor, mapping.enrolment)
            _refuse_if_signed_off([mapping])
            _refuse_if_under_review(mapping.enrolment)
            audit.record(session, actor, "mapping.remove", "evidence", evidence.id, mapping_state_of(mapping), None)
            evidence.mappings.remove(mapping)
            session.delete(mapping)
            touched.add(mapping.enrolment_id)
    for m in wanted:
        existing = current.get((m.enrolment_id, m.target))
        verdict = m.verdict if allow_judgement else None
        if existing is None:
            mapping = EvidenceMapping(
                evidence=evidence,
                enrolment_id=m.enrolment_id,
                target_kind=targets_of(enrolments[m.enrolment_id].unit_version)[m.target],
                target=m.target,
                verdict=verdict,
                comment=m.comment.strip(),
                judged_by_id=actor.id if verdict else None,
                judged_at=utcnow() if verdict else None,
            )
            session.add(mapping)
            session.flush()
            audit.record(session, actor, "mapping.add", "evidence", evidence.id, None, mapping_state_of(mapping))
        elif not _same(existing, m, allow_judgement):
            mapping = existing
            before = mapping_state_of(mapping)
            mapping.verdict = verdict
            mapping.comment = m.comment.strip()
            mapping.judged_by_id = actor.id if verdict else None
            mapping.judged_at = utcnow() if verdict else None
            flush_or_changed(session, "judgement")
            audit.record(session, actor, "mapping.judge", "evidence", evidence.id, before, mapping_state_of(mapping))
        else:
            continue
        touched.add(m.enrolment_id)
    session.flush()
    for enrolment_id in sorted(touched):
        reassess(session, actor, enrolments[enrolment_id])


def _same(mapping: EvidenceMapping, wanted: MappingInput, allow_judgement: bool) -> bool:
    verdict = wanted.verdict if allow_judgement else None
    return (mapping.verdict, mapping.comment) == (verdict, wanted.comment.strip())


def _require_assessor(actor: User, enrolment: Enrolment) -> None:
    require(
        policy.may_assess(actor_of(actor), enrolment_facts(enrolment)),
        "Only an assessor assigned to this enrolment can do this.",
    )


def _refuse_if_under_review(enrolment: Enrolment) -> None:
    if enrolment_facts(enrolment).under_review:
        raise Locked(
            f"A quality assurer is reviewing the enrolment in {enrolment.unit_version.key}: its evidence and "
            "judgements cannot change until the review ends or they ask you to act."
        )


def _refuse_if_signed_off(mappings: Iterable[EvidenceMapping]) -> None:
    for mapping in mappings:
        if mapping.enrolment.status == EnrolmentStatus.COMPLETED:
            raise Locked(
                f"This evidence supports the signed-off record for {mapping.enrolment.unit_version.key}: "
                "it cannot change unless that record is revoked."
            )
