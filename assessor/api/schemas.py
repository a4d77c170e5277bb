"""What the API reads and writes, as pydantic models: they check every request body and shape every answer, and the
OpenAPI document's schemas are generated from them (JSON Schema 2020-12, OpenAPI 3.1's own dialect)."""

from __future__ import annotations

import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from assessor.core.urls import MAX_ID
from assessor.domain import limits
from assessor.domain.vocabulary import Context, EnrolmentStatus, Method, Status, TargetKind, TokenScope, Verdict

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL keeps no NUL character in text
Narrative = Annotated[str, Field(min_length=1, max_length=limits.NARRATIVE, pattern=NO_NUL)]
Comment = Annotated[str, Field(max_length=limits.COMMENT, pattern=NO_NUL)]
Name = Annotated[str, Field(max_length=limits.NAME, pattern=NO_NUL)]
Target = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[^\x00\s]+$")]
Day = Annotated[datetime.date, Field(ge=datetime.date(1900, 1, 1), le=datetime.date(9999, 12, 31))]
MAPPINGS = 500  # criteria and items one piece of evidence is mapped to at once: every target of several units
ASSESSORS = 20
VALUES = 20

Item = TypeVar("Item")


class Strict(BaseModel):
    """A request body: fields it does not know are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# --- problems and pages --------------------------------------------------------------------------------------------


class Problem(BaseModel):
    """What went wrong (RFC 9457); `errors` names each field that is wrong and what is wrong with it."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: dict[str, str] | None = None


class Page(BaseModel, Generic[Item]):
    """One page of a list; `next_cursor` asks for the next (null on the last page)."""

    items: list[Item]
    next_cursor: str | None


# --- units ---------------------------------------------------------------------------------------------------------


class CriterionOut(BaseModel):
    number: str
    text: str


class ComponentOut(BaseModel):
    """An outcome (NZQA) or element (training.gov.au) with its performance criteria."""

    number: str
    title: str
    criteria: list[CriterionOut]


class EvidenceItemOut(BaseModel):
    """An evidence requirement that evidence is mapped to and judged against, like a criterion."""

    id: str
    text: str


class UnitVersionOut(BaseModel):
    """One loaded version of a unit standard."""

    id: int
    unit_id: str
    version: int
    code: str | None
    title: str
    framework: str
    status: str  # current, superseded or deleted
    level: int | None
    credits: int | None
    component_label: str
    source_sha256: str


class UnitVersionDetail(UnitVersionOut):
    components: list[ComponentOut]
    evidence_items: list[EvidenceItemOut]


# --- cohorts and enrolments ----------------------------------------------------------------------------------------


class PersonOut(BaseModel):
    id: int
    username: str
    display_name: str


class CohortOut(BaseModel):
    id: int
    name: str
    coordinators: list[PersonOut]
    enrolments: int


class TallyOut(BaseModel):
    """How far an enrolment is: criteria and items satisfied, overall and per component."""

    percent: int
    criteria_satisfied: int
    criteria_total: int
    items_satisfied: int
    items_total: int
    outstanding: int
    last_evidence: datetime.date | None


class EnrolmentOut(BaseModel):
    id: int
    trainee: PersonOut
    unit_version_id: int
    unit_key: str
    cohort_id: int | None
    status: EnrolmentStatus
    start_date: datetime.date
    end_date: datetime.date | None
    assessors: list[PersonOut]
    progress: TallyOut


class TargetOut(BaseModel):
    """Where one criterion or evidence item stands, assessed afresh from its judgements."""

    target: str
    kind: TargetKind
    status: Status
    satisfied_occasions: int
    needed: int
    evidence_ids: list[int]


class EnrolmentDetail(EnrolmentOut):
    targets: list[TargetOut]


class EnrolmentIn(Strict):
    """Enrol a trainee in a unit version, in a cohort the caller runs (an administrator may leave it out)."""

    trainee_id: Id
    unit_version_id: Id
    cohort_id: Id | None = None
    assessor_ids: Annotated[list[Id], Field(min_length=1, max_length=ASSESSORS)]
    start_date: Day


# --- evidence ------------------------------------------------------------------------------------------------------


class MappingOut(BaseModel):
    """Evidence mapped to a criterion or item of an enrolment, with the assessor's judgement (null: awaiting one)."""

    enrolment_id: int
    target: str
    kind: TargetKind
    verdict: Verdict | None
    comment: str
    judged_by: PersonOut | None
    judged_at: datetime.datetime | None
    version: int


class AttachmentOut(BaseModel):
    id: int
    name: str
    size: int
    content_type: str
    sha256: str
    erased: bool


class EvidenceOut(BaseModel):
    id: int
    trainee_id: int
    method: Method
    context: Context
    observed_on: datetime.date
    location: str
    narrative: str | None  # null once erased under retention
    recorded_by: PersonOut
    recorded_at: datetime.datetime
    submitted_by_trainee: bool
    version: int
    erased_on: datetime.date | None
    acknowledged: bool  # by the trainee, at this version
    attachments: list[AttachmentOut]
    mappings: list[MappingOut]  # those into enrolments the caller sees


class MappingIn(Strict):
    """A criterion or item of one of the trainee's enrolments, with a judgement (an assessor's only) and a comment."""

    enrolment_id: Id
    target: Target
    verdict: Verdict | None = None
    comment: Comment = ""


class ValueIn(Strict):
    """Who or what the occasion was with, for criteria whose occasions must differ in it."""

    value: Name
    kinds: Annotated[list[Name], Field(max_length=VALUES)] = []


class EvidenceIn(Strict):
    """Evidence about a trainee (an assessor's), or of the caller's own (a trainee's, unjudged), mapped and judged in
    one go."""

    trainee_id: Id
    method: Method
    context: Context
    observed_on: Day
    narrative: Narrative
    location: Name = ""
    values: Annotated[
        dict[Annotated[str, Field(max_length=64, pattern=NO_NUL)], ValueIn], Field(max_length=VALUES)
    ] = {}
    mappings: Annotated[list[MappingIn], Field(max_length=MAPPINGS)] = []


class AcknowledgementOut(BaseModel):
    evidence_id: int
    evidence_version: int
    acknowledged_at: datetime.datetime


# --- completion records --------------------------------------------------------------------------------------------


class RevocationOut(BaseModel):
    revoked_at: datetime.datetime
    reason: str


class RecordOut(BaseModel):
    """A signed-off result, never edited; revoked only with a reason."""

    id: int
    enrolment_id: int
    trainee: PersonOut
    unit_key: str
    result: str
    signed_on: datetime.date
    assessor: PersonOut
    countersigned_by: PersonOut | None
    verification_code: str
    revocation: RevocationOut | None


class RecordDetail(RecordOut):
    snapshot: dict[str, object]


class TokenOut(BaseModel):
    """The token a request came with, and whose rights it carries."""

    name: str
    scope: TokenScope
    expires_at: datetime.datetime
    user: PersonOut
    role: str
