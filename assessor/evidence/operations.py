"""What users do to the records: each operation checks the rules, writes an audit event and never commits."""

from __future__ import annotations

import datetime
import functools
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor import audit
from assessor.domain.catalogue import Catalogue
from assessor.domain.completion import Obstacle, obstacles, supporting_snapshot
from assessor.domain.progress import Judgement, Progress, Tally, assess
from assessor.domain.standards import Unit, parse_unit
from assessor.models import (
    Acknowledgement,
    Attachment,
    Cohort,
    CompletionRecord,
    Context,
    Enrolment,
    EnrolmentProgress,
    EnrolmentStatus,
    Evidence,
    EvidenceMapping,
    Method,
    Revocation,
    Role,
    TargetKind,
    UnitVersion,
    User,
    Verdict,
    utcnow,
)
from assessor.passwords import hash_password, password_problem


class OperationError(Exception):
    """An operation was refused; nothing was changed."""


class NotAllowed(OperationError):
    """The actor may not do this to this record."""


class InvalidInput(OperationError):
    """The input breaks a rule; `problems` maps field names to what is wrong."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__(" ".join(problems.values()))


class ChangedMeanwhile(OperationError):
    """The record was changed by someone else since it was read."""

    def __init__(self, what: str):
        super().__init__(f"This {what} was changed by someone else meanwhile. Reload it and make your change again.")


class Locked(OperationError):
    """The enrolment is signed off: nothing changes except by revocation."""


class NotReady(OperationError):
    """Sign-off refused: `obstacles` says every reason."""

    def __init__(self, found: Sequence[Obstacle]):
        self.obstacles = tuple(found)
        super().__init__(f"not ready for sign-off: {len(found)} reasons")


class StandardChanged(OperationError):
    """A unit file's text changed under a version that is already loaded."""


# --- unit versions ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _parse_stored(text: str) -> Unit:
    return parse_unit(text, "<stored unit>")


def unit_of(unit_version: UnitVersion) -> Unit:
    """The unit exactly as it was loaded, parsed from the text stored with the version."""
    return _parse_stored(unit_version.source_text)


def register_units(session: so.Session, catalogue: Catalogue, actor: User | None = None) -> list[UnitVersion]:
    """Load new unit versions from the catalogue; refuse any whose text changed under a loaded version."""
    existing = {(v.unit_id, v.version): v for v in session.scalars(sa.select(UnitVersion))}
    changed = [u.key for u in catalogue.units if (u.id, u.version) in existing and existing[u.id, u.version].source_sha256 != u.source_sha256]
    if changed:
        raise StandardChanged(
            f"The text of {', '.join(changed)} differs from the text already loaded under the same version. "
            "Loaded versions never change: raise the version number in the file to load the new text beside the old."
        )
    added = []
    for unit in catalogue.units:
        if (unit.id, unit.version) in existing:
            continue
        version = UnitVersion(
            unit_id=unit.id,
            version=unit.version,
            code=unit.code,
            title=unit.title,
            framework=unit.framework,
            source_sha256=unit.source_sha256,
            source_text=unit.source_text,
        )
        session.add(version)
        session.flush()
        audit.record(session, actor, "unit_version.load", "unit_version", version.id, None, {"unit": unit.key, "sha256": unit.source_sha256})
        added.append(version)
    return added


# --- accounts, cohorts, enrolments -------------------------------------------------------------


def create_user(
    session: so.Session, actor: User | None, username: str, display_name: str, role: Role, password: str, email: str | None = None
) -> User:
    """Create an account with a hashed password; coordinators may create trainees and assessors only."""
    if actor is not None:
        _require_role(actor, Role.ADMIN, Role.COORDINATOR)
        if actor.role == Role.COORDINATOR and role not in (Role.TRAINEE, Role.ASSESSOR):
            raise NotAllowed("A coordinator can create trainee and assessor accounts only.")
    username = username.strip().lower()
    problems = {}
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        problems["username"] = "Use letters, digits, dots, hyphens or underscores."
    elif session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        problems["username"] = f"The username {username!r} is taken."
    if not display_name.strip():
        problems["display_name"] = "Enter the person's name."
    if (why := password_problem(password)) is not None:
        problems["password"] = why
    if problems:
        raise InvalidInput(problems)
    user = User(username=username, display_name=display_name.strip(), role=role, email=email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, None, _user_state(user))
    return user


def set_active(session: so.Session, actor: User, user: User, active: bool) -> User:
    """Activate or deactivate an account; deactivating ends every session of it at its next request."""
    _require_role(actor, Role.ADMIN)
    if user.id == actor.id and not active:
        raise InvalidInput({"user": "You cannot deactivate your own account."})
    if user.active == active:
        return user
    before = _user_state(user)
    user.active = active
    if not active:
        user.end_sessions()
    session.flush()
    audit.record(session, actor, "user.activate" if active else "user.deactivate", "user", user.id, before, _user_state(user))
    return user


def create_cohort(session: so.Session, actor: User, name: str, coordinators: Iterable[User] = ()) -> Cohort:
    """Create a cohort run by the given coordinators."""
    _require_role(actor, Role.ADMIN, Role.COORDINATOR)
    if not name.strip():
        raise InvalidInput({"name": "Enter a name for the cohort."})
    if session.scalar(sa.select(Cohort.id).where(Cohort.name == name.strip())) is not None:
        raise InvalidInput({"name": f"A cohort called {name.strip()!r} exists already."})
    cohort = Cohort(name=name.strip(), coordinators=list(coordinators))
    session.add(cohort)
    session.flush()
    audit.record(session, actor, "cohort.create", "cohort", cohort.id, None, {"name": cohort.name, "coordinators": [u.username for u in cohort.coordinators]})
    return cohort


def enrol(
    session: so.Session,
    actor: User,
    trainee: User,
    unit_version: UnitVersion,
    assessors: Sequence[User],
    start_date: datetime.date,
    cohort: Cohort | None = None,
) -> Enrolment:
    """Enrol a trainee in a unit version, with one or more assessors."""
    _require_role(actor, Role.ADMIN, Role.COORDINATOR)
    _require_cohort(actor, cohort)
    problems = {}
    if trainee.role != Role.TRAINEE:
        problems["trainee"] = f"{trainee.username} is not a trainee."
    if not assessors:
        problems["assessors"] = "Assign at least one assessor."
    elif any(a.role != Role.ASSESSOR or not a.active for a in assessors):
        problems["assessors"] = "Every assessor must be an active assessor account."
    unit = unit_of(unit_version)
    if not unit.usage.accepts_enrolment_starting(start_date):
        problems["unit"] = (
            f"{unit.display_code} was {unit.usage.status} on {unit.usage.since}: enrolments that started before then continue, "
            "new ones are refused."
        )
    duplicate = session.scalar(sa.select(Enrolment.id).where(Enrolment.trainee_id == trainee.id, Enrolment.unit_version_id == unit_version.id))
    if duplicate is not None:
        problems["unit"] = f"{trainee.username} is already enrolled in {unit.key}."
    if problems:
        raise InvalidInput(problems)
    enrolment = Enrolment(trainee=trainee, unit_version=unit_version, assessors=list(assessors), start_date=start_date, cohort=cohort)
    session.add(enrolment)
    session.flush()
    session.add(EnrolmentProgress(enrolment_id=enrolment.id, **tally_columns(assess(unit, []).tally())))
    audit.record(session, actor, "enrolment.create", "enrolment", enrolment.id, None, _enrolment_state(enrolment))
    return enrolment


def assign_assessors(session: so.Session, actor: User, enrolment: Enrolment, assessors: Sequence[User]) -> Enrolment:
    """Replace the assessors of an open enrolment."""
    _require_role(actor, Role.ADMIN, Role.COORDINATOR)
    _require_cohort(actor, enrolment.cohort)
    if enrolment.status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.WITHDRAWN):
        raise Locked(f"The enrolment is {enrolment.status.value}: its assessors cannot change.")
    if not assessors:
        raise InvalidInput({"assessors": "Assign at least one assessor."})
    if any(a.role != Role.ASSESSOR or not a.active for a in assessors):
        raise InvalidInput({"assessors": "Every assessor must be an active assessor account."})
    before = _enrolment_state(enrolment)
    enrolment.assessors = list(assessors)
    _flush_or_changed(session, "enrolment")
    after = _enrolment_state(enrolment)
    if after != before:
        audit.record(session, actor, "enrolment.assign", "enrolment", enrolment.id, before, after)
    return enrolment


def withdraw(session: so.Session, actor: User, enrolment: Enrolment, reason: str) -> Enrolment:
    """Withdraw a trainee from an open enrolment, with the reason recorded."""
    _require_role(actor, Role.ADMIN, Role.COORDINATOR)
    _require_cohort(actor, enrolment.cohort)
    if enrolment.status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.WITHDRAWN):
        raise Locked(f"The enrolment is {enrolment.status.value} already.")
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the trainee is withdrawn."})
    before = _enrolment_state(enrolment)
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.end_date = datetime.date.today()
    _flush_or_changed(session, "enrolment")
    audit.record(session, actor, "enrolment.withdraw", "enrolment", enrolment.id, before, {**_enrolment_state(enrolment), "reason": reason.strip()})
    return enrolment


def apply_import(session: so.Session, actor: User, plan: Any) -> tuple[int, int, int]:
    """Create what a checked import plan lists: cohorts, trainees (no usable password yet) and enrolments."""
    _require_role(actor, Role.ADMIN, Role.COORDINATOR)
    if plan.problems:
        raise InvalidInput({"file": "The file has problems: nothing was imported."})
    cohorts = {c.name: c for c in session.scalars(sa.select(Cohort))}
    for name in plan.new_cohorts:
        cohorts[name] = create_cohort(session, actor, name, [actor] if actor.role == Role.COORDINATOR else [])
    users = {u.username: u for u in session.scalars(sa.select(User))}
    for trainee in plan.new_trainees:
        # Imported trainees get a random password nobody knows; a coordinator sets their first one.
        users[trainee.username] = create_user(session, actor, trainee.username, trainee.name, Role.TRAINEE, secrets.token_urlsafe(24), trainee.email)
    versions = {(v.unit_id, v.version): v for v in session.scalars(sa.select(UnitVersion))}
    for planned in plan.new_enrolments:
        enrol(
            session,
            actor,
            users[planned.username],
            versions[planned.unit_id, planned.version],
            [users[name] for name in planned.assessors],
            planned.start_date,
            cohorts[planned.cohort],
        )
    audit.record(
        session, actor, "import", "import", "-", None,
        {"cohorts": len(plan.new_cohorts), "trainees": len(plan.new_trainees), "enrolments": len(plan.new_enrolments)},
    )
    return len(plan.new_cohorts), len(plan.new_trainees), len(plan.new_enrolments)


def record_export(session: so.Session, actor: User, kind: str, filters: dict[str, Any]) -> None:
    """Note in the audit trail who exported what."""
    audit.record(session, actor, "export", "export", kind, None, filters)


# --- evidence and judgements -------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceInput:
    """What an assessor (or trainee) says about one piece of evidence."""

    method: Method
    context: Context
    observed_on: datetime.date
    narrative: str
    location: str = ""


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
) -> Evidence:
    """Record evidence about a trainee, map it to criteria and items of their enrolments and judge each."""
    by_trainee = actor.id == trainee.id
    if by_trainee:
        if any(m.verdict is not None for m in mappings):
            raise NotAllowed("Only an assessor judges evidence.")
    else:
        _require_role(actor, Role.ASSESSOR)
    _check_evidence(data, today or datetime.date.today())
    evidence = Evidence(
        trainee=trainee,
        recorded_by=actor,
        submitted_by_trainee=by_trainee,
        method=data.method,
        context=data.context,
        observed_on=data.observed_on,
        location=data.location.strip(),
        narrative=data.narrative.strip(),
    )
    session.add(evidence)
    session.flush()
    for item in attachments:
        _attach(session, actor, evidence, item)
    audit.record(session, actor, "evidence.record", "evidence", evidence.id, None, _evidence_state(evidence))
    _apply_mappings(session, actor, evidence, mappings, allow_judgement=not by_trainee)
    return evidence


def edit_evidence(
    session: so.Session,
    actor: User,
    evidence: Evidence,
    expected_version: int,
    data: EvidenceInput,
    mappings: Sequence[MappingInput] | None = None,
    attachments: Sequence[AttachmentInput] = (),
    today: datetime.date | None = None,
) -> Evidence:
    """Change evidence and its mappings, refusing a stale version or a signed-off enrolment."""
    _require_assessor_of_trainee(session, actor, evidence.trainee_id)
    if evidence.version != expected_version:
        raise ChangedMeanwhile("evidence")
    _refuse_if_signed_off(evidence.mappings)
    _check_evidence(data, today or datetime.date.today())
    before = _evidence_state(evidence)
    evidence.method = data.method
    evidence.context = data.context
    evidence.observed_on = data.observed_on
    evidence.location = data.location.strip()
    evidence.narrative = data.narrative.strip()
    for item in attachments:
        _attach(session, actor, evidence, item)
    after = _evidence_state(evidence)
    if after != before:
        # A new version even when only attachments changed, so that an acknowledgement is of what the trainee saw.
        so.attributes.flag_modified(evidence, "narrative")
        _flush_or_changed(session, "evidence")
        audit.record(session, actor, "evidence.edit", "evidence", evidence.id, before, after)
    if mappings is not None:
        _apply_mappings(session, actor, evidence, mappings, allow_judgement=True)
    if (after["context"], after["observed_on"]) != (before["context"], before["observed_on"]):
        # Whether the evidence counts, and how recent each enrolment's evidence is, may both have changed.
        for enrolment in sorted({m.enrolment for m in evidence.mappings}, key=lambda e: e.id):
            _reassess(session, actor, enrolment)
    return evidence


def judge(
    session: so.Session, actor: User, mapping: EvidenceMapping, expected_version: int, verdict: Verdict | None, comment: str = ""
) -> EvidenceMapping:
    """Judge one mapping of evidence to a criterion or item."""
    _require_assigned(actor, mapping.enrolment)
    if mapping.version != expected_version:
        raise ChangedMeanwhile("judgement")
    _refuse_if_signed_off([mapping])
    before = _mapping_state(mapping)
    mapping.verdict = verdict
    mapping.comment = comment.strip()
    mapping.judged_by = actor if verdict is not None else None
    mapping.judged_at = utcnow() if verdict is not None else None
    _flush_or_changed(session, "judgement")
    audit.record(session, actor, "mapping.judge", "evidence", mapping.evidence_id, before, _mapping_state(mapping))
    _reassess(session, actor, mapping.enrolment)
    return mapping


def acknowledge(session: so.Session, actor: User, evidence: Evidence) -> Acknowledgement:
    """The trainee declares that this evidence, as it stands now, is an accurate account."""
    if actor.id != evidence.trainee_id:
        raise NotAllowed("Only the trainee the evidence is about can acknowledge it.")
    existing = session.scalar(
        sa.select(Acknowledgement).where(Acknowledgement.evidence_id == evidence.id, Acknowledgement.evidence_version == evidence.version)
    )
    if existing is not None:
        return existing
    ack = Acknowledgement(evidence=evidence, evidence_version=evidence.version, trainee_id=actor.id)
    session.add(ack)
    session.flush()
    audit.record(session, actor, "evidence.acknowledge", "evidence", evidence.id, None, {"version": evidence.version})
    return ack


# --- progress, sign-off, revocation -------------------------------------------------------------


_JUDGEMENTS = (
    sa.select(EvidenceMapping.enrolment_id, EvidenceMapping.evidence_id, EvidenceMapping.target, EvidenceMapping.verdict, Evidence.context, Evidence.observed_on)
    .join(Evidence, Evidence.id == EvidenceMapping.evidence_id)
)


def _judgement(row: Any) -> Judgement:
    return Judgement(row.evidence_id, row.target, row.verdict.value if row.verdict else None, row.context.value, row.observed_on)


def progress_of(session: so.Session, enrolment: Enrolment) -> Progress:
    """Where an enrolment stands, criterion by criterion."""
    rows = session.execute(_JUDGEMENTS.where(EvidenceMapping.enrolment_id == enrolment.id))
    return assess(unit_of(enrolment.unit_version), [_judgement(r) for r in rows])


def judged_evidence(session: so.Session, enrolment: Enrolment) -> tuple[Progress, dict[str, list[Any]]]:
    """Where an enrolment stands, and each target's judgements with their evidence's method and date, oldest first: one statement."""
    rows = session.execute(
        _JUDGEMENTS.add_columns(Evidence.method, EvidenceMapping.comment)
        .where(EvidenceMapping.enrolment_id == enrolment.id)
        .order_by(Evidence.observed_on, Evidence.id)
    ).all()
    by_target: dict[str, list[Any]] = {}
    for row in rows:
        by_target.setdefault(row.target, []).append(row)
    return assess(unit_of(enrolment.unit_version), [_judgement(r) for r in rows]), by_target


def tally_columns(tally: Tally) -> dict[str, Any]:
    """An enrolment_progress row's columns for a tally."""
    return {"tally": tally.to_json(), "percent": tally.percent, "outstanding": tally.outstanding, "last_evidence": tally.last_evidence}


def tally_rows(connection: sa.Connection) -> list[dict[str, Any]]:
    """Every enrolment's tally computed afresh from its judgements, as enrolment_progress rows (for the migration and for checks)."""
    judgements: dict[int, list[Judgement]] = {}
    for row in connection.execute(_JUDGEMENTS):
        judgements.setdefault(row.enrolment_id, []).append(_judgement(row))
    enrolments = connection.execute(sa.select(Enrolment.id, UnitVersion.source_text).join(UnitVersion).order_by(Enrolment.id))
    return [{"enrolment_id": e.id, **tally_columns(assess(_parse_stored(e.source_text), judgements.get(e.id, [])).tally())} for e in enrolments]


def sign_off_obstacles(session: so.Session, enrolment: Enrolment, progress: Progress | None = None) -> tuple[Obstacle, ...]:
    """Every reason the enrolment cannot be signed off yet; empty when it can. Pass its progress if it is at hand."""
    return obstacles(unit_of(enrolment.unit_version), progress or progress_of(session, enrolment), enrolment.status.value)


@dataclass(frozen=True)
class Declaration:
    """The assessor's declaration that the evidence is valid, sufficient, authentic and current."""

    valid: bool
    sufficient: bool
    authentic: bool
    current: bool

    def missing(self) -> list[str]:
        return [name for name in ("valid", "sufficient", "authentic", "current") if not getattr(self, name)]


def sign_off(session: so.Session, actor: User, enrolment: Enrolment, declaration: Declaration, signed_on: datetime.date) -> CompletionRecord:
    """Sign off a ready enrolment: a completion record with a frozen snapshot of the evidence behind it."""
    _require_assigned(actor, enrolment)
    progress = progress_of(session, enrolment)
    found = sign_off_obstacles(session, enrolment, progress)
    if found:
        raise NotReady(found)
    if missing := declaration.missing():
        raise InvalidInput({"declaration": f"Confirm that the evidence is {', '.join(missing)}."})
    unit = unit_of(enrolment.unit_version)
    snapshot = supporting_snapshot(unit, progress)
    snapshot["evidence"] = _evidence_summaries(session, progress)
    record = CompletionRecord(
        enrolment=enrolment,
        result=unit.results.achieved,
        declared_valid=True,
        declared_sufficient=True,
        declared_authentic=True,
        declared_current=True,
        assessor=actor,
        signed_on=signed_on,
        snapshot=snapshot,
        verification_code=secrets.token_urlsafe(18),
    )
    session.add(record)
    before = _enrolment_state(enrolment)
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.end_date = signed_on
    _flush_or_changed(session, "enrolment")
    audit.record(session, actor, "completion.sign_off", "completion_record", record.id, None, _record_state(record))
    audit.record(session, actor, "enrolment.complete", "enrolment", enrolment.id, before, _enrolment_state(enrolment))
    return record


def revoke(session: so.Session, actor: User, record: CompletionRecord, reason: str) -> Revocation:
    """Revoke a completion record with a reason; the enrolment is open for assessment again."""
    _require_role(actor, Role.ADMIN, Role.COORDINATOR)
    if record.revocation is not None:
        raise InvalidInput({"record": "This completion record is already revoked."})
    if not reason.strip():
        raise InvalidInput({"reason": "Say why the record is revoked."})
    revocation = Revocation(record=record, revoked_by=actor, reason=reason.strip())
    session.add(revocation)
    enrolment = record.enrolment
    before = _enrolment_state(enrolment)
    enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.end_date = None
    _flush_or_changed(session, "enrolment")
    audit.record(session, actor, "completion.revoke", "completion_record", record.id, None, {"reason": revocation.reason})
    audit.record(session, actor, "enrolment.reopen", "enrolment", enrolment.id, before, _enrolment_state(enrolment))
    _reassess(session, actor, enrolment)
    return revocation


# --- helpers -----------------------------------------------------------------------------------


def _check_evidence(data: EvidenceInput, today: datetime.date) -> None:
    problems = {}
    if data.observed_on > today:
        problems["observed_on"] = "The date observed cannot be in the future."
    if not data.narrative.strip():
        problems["narrative"] = "Describe what was observed or provided."
    if len(data.location) > 200:
        problems["location"] = "Use at most 200 characters."
    if problems:
        raise InvalidInput(problems)


def _attach(session: so.Session, actor: User, evidence: Evidence, item: AttachmentInput) -> None:
    attachment = Attachment(evidence=evidence, uploaded_by_id=actor.id, **vars(item))
    session.add(attachment)
    session.flush()
    audit.record(session, actor, "attachment.add", "evidence", evidence.id, None, {"attachment": attachment.id, **vars(item)})


def _apply_mappings(session: so.Session, actor: User, evidence: Evidence, wanted: Sequence[MappingInput], allow_judgement: bool) -> None:
    """Make the evidence's mappings match `wanted`: add, re-judge and remove, each audited."""
    enrolment_ids = {m.enrolment_id for m in wanted} | {m.enrolment_id for m in evidence.mappings}
    enrolments = {e.id: e for e in session.scalars(sa.select(Enrolment).where(Enrolment.id.in_(enrolment_ids)))}
    current = {(m.enrolment_id, m.target): m for m in evidence.mappings}
    problems = {}
    for m in wanted:
        enrolment = enrolments.get(m.enrolment_id)
        if enrolment is None or enrolment.trainee_id != evidence.trainee_id:
            raise NotAllowed("Evidence can only be mapped to the enrolments of the trainee it is about.")
        unchanged = (m.enrolment_id, m.target) in current and _same(current[m.enrolment_id, m.target], m, allow_judgement)
        if unchanged:
            continue
        if allow_judgement:
            _require_assigned(actor, enrolment)
        if enrolment.status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.WITHDRAWN):
            raise Locked(f"The enrolment in {enrolment.unit_version.key} is {enrolment.status.value.replace('_', ' ')}: it cannot change.")
        if m.target not in targets_of(enrolment.unit_version):
            problems[f"{m.enrolment_id}:{m.target}"] = f"{m.target} is not a criterion or evidence item of {enrolment.unit_version.key}."
    if problems:
        raise InvalidInput(problems)
    wanted_keys = {(m.enrolment_id, m.target) for m in wanted}
    touched = set()
    for key, mapping in current.items():
        if key not in wanted_keys:
            _require_assigned(actor, mapping.enrolment)
            _refuse_if_signed_off([mapping])
            audit.record(session, actor, "mapping.remove", "evidence", evidence.id, _mapping_state(mapping), None)
            evidence.mappings.remove(mapping)
            session.delete(mapping)
            touched.add(mapping.enrolment_id)
    for m in wanted:
        mapping = current.get((m.enrolment_id, m.target))
        verdict = m.verdict if allow_judgement else None
        if mapping is None:
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
            audit.record(session, actor, "mapping.add", "evidence", evidence.id, None, _mapping_state(mapping))
        elif not _same(mapping, m, allow_judgement):
            before = _mapping_state(mapping)
            mapping.verdict = verdict
            mapping.comment = m.comment.strip()
            mapping.judged_by_id = actor.id if verdict else None
            mapping.judged_at = utcnow() if verdict else None
            _flush_or_changed(session, "judgement")
            audit.record(session, actor, "mapping.judge", "evidence", evidence.id, before, _mapping_state(mapping))
        else:
            continue
        touched.add(m.enrolment_id)
    session.flush()
    for enrolment_id in sorted(touched):
        _reassess(session, actor, enrolments[enrolment_id])


def _same(mapping: EvidenceMapping, wanted: MappingInput, allow_judgement: bool) -> bool:
    verdict = wanted.verdict if allow_judgement else None
    return (mapping.verdict, mapping.comment) == (verdict, wanted.comment.strip())


@functools.lru_cache(maxsize=64)
def _kinds_for(text: str) -> dict[str, TargetKind]:
    unit = _parse_stored(text)
    kinds = {c.number: TargetKind.CRITERION for c in unit.criteria()}
    kinds.update({i.id: TargetKind.ITEM for i in unit.assessable_items()})
    return kinds


def targets_of(unit_version: UnitVersion) -> dict[str, TargetKind]:
    """Every criterion number and assessable evidence item id of a unit version, in order, with its kind."""
    return _kinds_for(unit_version.source_text)


def _reassess(session: so.Session, actor: User, enrolment: Enrolment) -> None:
    """After its judgements change: rewrite the enrolment's tally, and move an open one between active and ready for sign-off."""
    # Locked first (PostgreSQL), so that the judgements read next include those of any writer that got here before.
    stored = session.scalars(sa.select(EnrolmentProgress).where(EnrolmentProgress.enrolment_id == enrolment.id).with_for_update()).one()
    progress = progress_of(session, enrolment)
    for column, value in tally_columns(progress.tally()).items():
        setattr(stored, column, value)
    if enrolment.status not in (EnrolmentStatus.ACTIVE, EnrolmentStatus.READY_FOR_SIGN_OFF):
        return
    found = obstacles(unit_of(enrolment.unit_version), progress, enrolment.status.value)
    status = EnrolmentStatus.ACTIVE if found else EnrolmentStatus.READY_FOR_SIGN_OFF
    if status != enrolment.status:
        before = _enrolment_state(enrolment)
        enrolment.status = status
        _flush_or_changed(session, "enrolment")
        audit.record(session, actor, "enrolment.status", "enrolment", enrolment.id, before, _enrolment_state(enrolment))


def _refuse_if_signed_off(mappings: Iterable[EvidenceMapping]) -> None:
    for mapping in mappings:
        if mapping.enrolment.status == EnrolmentStatus.COMPLETED:
            raise Locked(
                f"This evidence supports the signed-off record for {mapping.enrolment.unit_version.key}: "
                "it cannot change unless that record is revoked."
            )


def _flush_or_changed(session: so.Session, what: str) -> None:
    try:
        session.flush()
    except so.exc.StaleDataError:
        # The failed flush has already ended the transaction; say so to the session, so that the
        # caller can go on reading (to show the form again) in a fresh one.
        session.rollback()
        raise ChangedMeanwhile(what) from None


def _require_role(actor: User, *roles: Role) -> None:
    if not actor.active or actor.role not in roles:
        raise NotAllowed(f"This needs the role {' or '.join(r.value for r in roles)}.")


def _require_cohort(actor: User, cohort: Cohort | None) -> None:
    """A coordinator works only on the cohorts they coordinate; an admin on any."""
    if actor.role == Role.COORDINATOR and (cohort is None or all(c.id != actor.id for c in cohort.coordinators)):
        raise NotAllowed("You can only manage enrolments in cohorts you coordinate.")


def _require_assigned(actor: User, enrolment: Enrolment) -> None:
    if not actor.active or actor.role != Role.ASSESSOR or all(a.id != actor.id for a in enrolment.assessors):
        raise NotAllowed("Only an assessor assigned to this enrolment can do this.")


def _require_assessor_of_trainee(session: so.Session, actor: User, trainee_id: int) -> None:
    assigned = session.scalar(
        sa.select(Enrolment.id)
        .join(Enrolment.assessors)
        .where(Enrolment.trainee_id == trainee_id, User.id == actor.id)
        .limit(1)
    )
    if not actor.active or actor.role != Role.ASSESSOR or assigned is None:
        raise NotAllowed("Only an assessor assigned to this trainee can do this.")


def _evidence_summaries(session: so.Session, progress: Progress) -> list[dict[str, Any]]:
    ids = sorted({i for status in progress.targets.values() for i in status.supporting})
    rows = session.scalars(sa.select(Evidence).where(Evidence.id.in_(ids)).order_by(Evidence.id)) if ids else []
    return [
        {
            "id": e.id,
            "version": e.version,
            "method": e.method.value,
            "context": e.context.value,
            "observed_on": e.observed_on.isoformat(),
            "recorded_by": e.recorded_by.username,
            "attachments": [{"name": a.original_name, "sha256": a.sha256} for a in e.attachments],
        }
        for e in rows
    ]


def _user_state(user: User) -> dict[str, Any]:
    return {"username": user.username, "display_name": user.display_name, "email": user.email, "role": user.role.value, "active": user.active}


def _enrolment_state(e: Enrolment) -> dict[str, Any]:
    return {
        "trainee": e.trainee_id,
        "unit": e.unit_version.key,
        "cohort": e.cohort_id,
        "assessors": sorted(a.id for a in e.assessors),
        "status": e.status.value,
        "start_date": e.start_date.isoformat(),
        "end_date": e.end_date.isoformat() if e.end_date else None,
    }


def _evidence_state(e: Evidence) -> dict[str, Any]:
    return {
        "trainee": e.trainee_id,
        "method": e.method.value,
        "context": e.context.value,
        "observed_on": e.observed_on.isoformat(),
        "location": e.location,
        "narrative": e.narrative,
        "attachments": [a.sha256 for a in e.attachments],
    }


def _mapping_state(m: EvidenceMapping) -> dict[str, Any]:
    return {
        "mapping": m.id,
        "enrolment": m.enrolment_id,
        "target": m.target,
        "verdict": m.verdict.value if m.verdict else None,
        "comment": m.comment,
    }


def _record_state(r: CompletionRecord) -> dict[str, Any]:
    return {
        "enrolment": r.enrolment_id,
        "result": r.result,
        "assessor": r.assessor_id,
        "signed_on": r.signed_on.isoformat(),
        "declaration": ["valid", "sufficient", "authentic", "current"],
        "snapshot": r.snapshot,
    }
