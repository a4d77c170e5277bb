"""Records as the API shows them: each model turned into its schema, with only what the caller may see."""

from __future__ import annotations

from assessor.api import schemas as s
from assessor.domain.progress import Progress, Tally
from assessor.models import Cohort, CompletionRecord, Enrolment, Evidence, EvidenceMapping, UnitVersion, User
from assessor.models.columns import as_utc
from assessor.standards.queries import unit_of


def person(user: User) -> s.PersonOut:
    return s.PersonOut(id=user.id, username=user.username, display_name=user.display_name)


def unit_version(version: UnitVersion, status: str) -> s.UnitVersionOut:
    unit = unit_of(version)
    return s.UnitVersionOut(
        id=version.id,
        unit_id=version.unit_id,
        version=version.version,
        code=version.code,
        title=version.title,
        framework=version.framework,
        status=status,
        level=unit.level,
        credits=unit.credits,
        component_label=unit.component_label,
        source_sha256=version.source_sha256,
    )


def unit_version_detail(version: UnitVersion, status: str) -> s.UnitVersionDetail:
    unit = unit_of(version)
    return s.UnitVersionDetail(
        **unit_version(version, status).model_dump(),
        components=[
            s.ComponentOut(
                number=c.number,
                title=c.title,
                criteria=[s.CriterionOut(number=k.number, text=k.text) for k in c.criteria],
            )
            for c in unit.components
        ],
        evidence_items=[s.EvidenceItemOut(id=i.id, text=i.text) for i in unit.assessable_items()],
    )


def cohort(row: Cohort, enrolments: int) -> s.CohortOut:
    return s.CohortOut(
        id=row.id, name=row.name, coordinators=[person(u) for u in row.coordinators], enrolments=enrolments
    )


def tally(counts: Tally) -> s.TallyOut:
    return s.TallyOut(
        percent=counts.percent,
        criteria_satisfied=counts.criteria_satisfied,
        criteria_total=counts.criteria_total,
        items_satisfied=counts.items_satisfied,
        items_total=counts.items_total,
        outstanding=counts.outstanding,
        last_evidence=counts.last_evidence,
    )


def enrolment(row: Enrolment, counts: Tally) -> s.EnrolmentOut:
    return s.EnrolmentOut(
        id=row.id,
        trainee=person(row.trainee),
        unit_version_id=row.unit_version_id,
        unit_key=row.unit_version.key,
        cohort_id=row.cohort_id,
        status=row.status,
        start_date=row.start_date,
        end_date=row.end_date,
        assessors=[person(a) for a in sorted(row.assessors, key=lambda a: a.id)],
        progress=tally(counts),
    )


def enrolment_detail(row: Enrolment, counts: Tally, progress: Progress) -> s.EnrolmentDetail:
    return s.EnrolmentDetail(
        **enrolment(row, counts).model_dump(),
        targets=[
            s.TargetOut(
                target=t.target,
                kind=t.kind,
                status=t.status,
                satisfied_occasions=t.satisfied_occasions,
                needed=t.needed,
                evidence_ids=list(t.evidence_ids),
            )
            for t in progress.targets.values()
        ],
    )


def mapping(row: EvidenceMapping) -> s.MappingOut:
    return s.MappingOut(
        enrolment_id=row.enrolment_id,
        target=row.target,
        kind=row.target_kind,
        verdict=row.verdict,
        comment=row.comment,
        judged_by=person(row.judged_by) if row.judged_by else None,
        judged_at=as_utc(row.judged_at) if row.judged_at else None,
        version=row.version,
    )


def evidence(row: Evidence, visible: set[int]) -> s.EvidenceOut:
    """A piece of evidence with its mappings into the enrolments in `visible` (those the caller sees)."""
    return s.EvidenceOut(
        id=row.id,
        trainee_id=row.trainee_id,
        method=row.method,
        context=row.context,
        observed_on=row.observed_on,
        location=row.location,
        narrative=None if row.erased_on else row.narrative,
        recorded_by=person(row.recorded_by),
        recorded_at=as_utc(row.recorded_at),
        submitted_by_trainee=row.submitted_by_trainee,
        version=row.version,
        erased_on=row.erased_on,
        acknowledged=any(a.evidence_version == row.version for a in row.acknowledgements),
        attachments=[
            s.AttachmentOut(
                id=a.id,
                name=a.original_name,
                size=a.size,
                content_type=a.content_type,
                sha256=a.sha256,
                erased=a.erased_on is not None,
            )
            for a in row.attachments
        ],
        mappings=[mapping(m) for m in row.mappings if m.enrolment_id in visible],
    )


def record(row: CompletionRecord) -> s.RecordOut:
    revoked = row.revocation
    return s.RecordOut(
        id=row.id,
        enrolment_id=row.enrolment_id,
        trainee=person(row.enrolment.trainee),
        unit_key=row.enrolment.unit_version.key,
        result=row.result,
        signed_on=row.signed_on,
        assessor=person(row.assessor),
        countersigned_by=person(row.countersigned_by) if row.countersigned_by else None,
        verification_code=row.verification_code,
        revocation=s.RevocationOut(revoked_at=as_utc(revoked.revoked_at), reason=revoked.reason) if revoked else None,
    )


def record_detail(row: CompletionRecord) -> s.RecordDetail:
    return s.RecordDetail(**record(row).model_dump(), snapshot=row.snapshot)
