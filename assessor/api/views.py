"""The JSON API, version 1: reads of units, cohorts, enrolments with progress, evidence and completion records; writes
that record evidence, acknowledge it and enrol, through the web's own operations and access policy."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from assessor.api import present
from assessor.api import schemas as s
from assessor.api.documents import (
    IDEMPOTENCY_KEY_PATTERN,
    PAGED,
    Doc,
    Param,
    documented,
    idempotency_key,
    openapi,
)
from assessor.api.operations import KEY_FIELD, claim_key, settle_key
from assessor.api.queries import (
    ID_KEY,
    Found,
    cohorts,
    enrolments,
    evidence_of,
    parse_cursor,
    records,
    tally_of,
    unit_versions,
    visible_enrolment_ids,
)
from assessor.cohorts.operations import enrol
from assessor.cohorts.queries import enrolment_counts
from assessor.core import database as db
from assessor.core.access import (
    PUBLIC,
    SIGNED_IN,
    TOKEN,
    allow,
    cohort_for,
    enrollable_trainees,
    enrolment_for,
    evidence_for,
    me,
    needs_scope,
    record_for,
    trainee_to_assess,
)
from assessor.core.paging import Cursor
from assessor.core.revalidation import revalidated
from assessor.core.security import csrf
from assessor.core.urls import MAX_ID
from assessor.domain.errors import InvalidInput, NotFound
from assessor.domain.vocabulary import Role, TokenScope
from assessor.evidence.operations import EvidenceInput, MappingInput, acknowledge, record_evidence
from assessor.models import UnitVersion, User
from assessor.models.columns import as_utc
from assessor.progress.queries import progress_of
from assessor.standards.queries import usage_of, usages

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
csrf.exempt(bp)  # no cookie session reaches the API (see accounts.sessions): a bearer token is no ambient authority

Model = TypeVar("Model", bound=BaseModel)
READ = TokenScope.READ
WRITE = TokenScope.WRITE
LIMIT_DEFAULT = 50
LIMIT_MOST = 100
KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII digits only: str.isdigit() also takes "²", which int() does not
COHORT = Param(
    "cohort", "query", "Only the enrolments of this cohort.", {"type": "integer", "minimum": 1, "maximum": MAX_ID}
)


# --- answers -------------------------------------------------------------------------------------------------------


def _json(model: BaseModel, status: int = 200, **headers: str) -> Response:
    response = current_app.response_class(model.model_dump_json(), status=status, mimetype="application/json")
    response.headers.update(headers)
    return response


def _page(found: Found[Any], show: Callable[[Any], BaseModel]) -> Response:
    items = [show(row).model_dump(mode="json") for row in found.rows]
    token = found.next.token(ID_KEY) if found.next is not None else None
    body = {"items": items, "next_cursor": token}
    return current_app.response_class(json.dumps(body), mimetype="application/json")


def _limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return LIMIT_DEFAULT
    if not DIGITS.fullmatch(raw) or not 1 <= int(raw) <= LIMIT_MOST:
        raise BadRequest(f"limit: a whole number from 1 to {LIMIT_MOST}.")
    return int(raw)


def _cursor() -> Cursor | None:
    raw = request.args.get("cursor")
    if raw is None:
        return None
    try:
        return parse_cursor(raw)
    except ValueError:
        raise BadRequest("cursor: not a next_cursor this API gave; start again from the first page.") from None


def _cohort_filter() -> int | None:
    raw = request.args.get("cohort")
    if raw is None:
        return None
    if not DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_ID:
        raise BadRequest("cohort: a cohort id.")
    return int(raw)


def _body(model: type[Model]) -> Model:
    """The request's JSON body as `model`: 415 if it is not JSON, 400 if it does not parse, 422 if it breaks a rule."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    try:
        data = json.loads(request.get_data(cache=True))
        # JSON may escape half a surrogate pair ("\ud800"), which is no text a database can keep.
        json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, UnicodeError):
        raise BadRequest("The body is not well-formed JSON of Unicode text.") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
        raise InvalidInput(problems) from None


def _once(do: Callable[[], tuple[int, int, BaseModel]], again: Callable[[int], BaseModel], required: bool) -> Any:
    """Do a write, or, for an Idempotency-Key answered before, answer as then; `do` gives (status, id, body) and
    `again` the body of the record with that id as it is now."""
    key = request.headers.get(KEY_FIELD)
    if key is None:
        if required:
            raise BadRequest(f"{KEY_FIELD}: send one, new to each write, so that a write sent twice is done once.")
        status, record_id, body = do()
        return _json(body, status, Location=_location(record_id))
    if not KEY.fullmatch(key):
        raise BadRequest(f"{KEY_FIELD}: 1 to 200 letters, digits and . _ : -")
    fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.get_data()).hexdigest()
    earlier = claim_key(db.session(), me(), key, fingerprint)
    if earlier is not None:
        record_id = int(earlier.location.rsplit("/", 1)[-1])
        return _json(again(record_id), earlier.status, Location=earlier.location)
    status, record_id, body = do()
    settle_key(db.session(), me(), key, status, _location(record_id))
    return _json(body, status, Location=_location(record_id))


def _location(record_id: int) -> str:
    if request.endpoint == "api.enrol_post":
        return url_for("api.enrolment", enrolment_id=record_id)
    return url_for("api.evidence", evidence_id=record_id)


# --- the document and the reference page ---------------------------------------------------------------------------


@bp.get("/openapi.json")
@allow(PUBLIC)
def document() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return current_app.response_class(json.dumps(openapi(current_app), indent=1), mimetype="application/json")


@bp.get("/")
@allow(PUBLIC)
def reference() -> str:
    """The API's reference, for people: every operation, its parameters, body and answers, from the document."""
    return render_template("api/reference.html", api=openapi(current_app))


# --- reads ---------------------------------------------------------------------------------------------------------


@bp.get("/token")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(Doc("The token this request carries, and whose rights it has", "Tokens", {200: ("The token", s.TokenOut)}))
@revalidated
def token() -> Response:
    held = getattr(g, TOKEN)
    user = me()
    return _json(
        s.TokenOut(
            name=held.name,
            scope=held.scope,
            expires_at=as_utc(held.expires_at),
            user=present.person(user),
            role=user.role.value,
        )
    )


@bp.get("/units")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(
    Doc("Loaded unit versions", "Units", {200: ("A page of unit versions", s.Page[s.UnitVersionOut])}, params=PAGED)
)
@revalidated
def units() -> Response:
    session = db.session()
    found = unit_versions(session, _cursor(), _limit())
    status = usages(session, found.rows)
    return _page(found, lambda v: present.unit_version(v, status[v.id].status))


@bp.get("/units/<int:unit_version_id>")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(
    Doc(
        "One unit version with its criteria and evidence items",
        "Units",
        {200: ("The unit version", s.UnitVersionDetail)},
    )
)
@revalidated
def unit(unit_version_id: int) -> Response:
    session = db.session()
    version = session.get(UnitVersion, unit_version_id)
    if version is None:
        raise NotFound("unit version")
    return _json(present.unit_version_detail(version, usage_of(session, version).status))


@bp.get("/cohorts")
@allow(Role.ADMIN, Role.COORDINATOR)
@needs_scope(READ)
@documented(
    Doc(
        "The cohorts the token's owner runs", "Cohorts", {200: ("A page of cohorts", s.Page[s.CohortOut])}, params=PAGED
    )
)
@revalidated
def cohort_list() -> Response:
    session = db.session()
    found = cohorts(session, me(), _cursor(), _limit())
    counts = enrolment_counts(session, [c.id for c in found.rows])
    return _page(found, lambda c: present.cohort(c, counts.get(c.id, 0)))


@bp.get("/cohorts/<int:cohort_id>")
@allow(Role.ADMIN, Role.COORDINATOR)
@needs_scope(READ)
@documented(Doc("One cohort the token's owner runs", "Cohorts", {200: ("The cohort", s.CohortOut)}))
@revalidated
def cohort(cohort_id: int) -> Response:
    session = db.session()
    found = cohort_for(session, me(), cohort_id)
    return _json(present.cohort(found, enrolment_counts(session, [found.id]).get(found.id, 0)))


@bp.get("/enrolments")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(
    Doc(
        "The enrolments the token's owner sees, with their progress",
        "Enrolments",
        {200: ("A page of enrolments", s.Page[s.EnrolmentOut])},
        params=(*PAGED, COHORT),
    )
)
@revalidated
def enrolment_list() -> Response:
    found = enrolments(db.session(), me(), _cursor(), _limit(), _cohort_filter())
    return _page(found, lambda row: present.enrolment(*row))


@bp.get("/enrolments/<int:enrolment_id>")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(
    Doc(
        "One enrolment, with where each criterion and evidence item stands",
        "Enrolments",
        {200: ("The enrolment", s.EnrolmentDetail)},
    )
)
@revalidated
def enrolment(enrolment_id: int) -> Response:
    session = db.session()
    found = enrolment_for(session, me(), enrolment_id)
    return _json(present.enrolment_detail(found, tally_of(session, found), progress_of(session, found)))


@bp.get("/enrolments/<int:enrolment_id>/evidence")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(
    Doc(
        "The evidence mapped to an enrolment, with its mappings and judgements",
        "Evidence",
        {200: ("A page of evidence", s.Page[s.EvidenceOut])},
        params=PAGED,
    )
)
@revalidated
def enrolment_evidence(enrolment_id: int) -> Response:
    session = db.session()
    found = enrolment_for(session, me(), enrolment_id)
    page = evidence_of(session, found, _cursor(), _limit())
    visible = visible_enrolment_ids(session, me(), found.trainee_id)
    return _page(page, lambda e: present.evidence(e, visible))


@bp.get("/evidence/<int:evidence_id>")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(
    Doc("One piece of evidence, with its mappings and judgements", "Evidence", {200: ("The evidence", s.EvidenceOut)})
)
@revalidated
def evidence(evidence_id: int) -> Response:
    return _json(_evidence(evidence_id))


def _evidence(evidence_id: int) -> s.EvidenceOut:
    session = db.session()
    found = evidence_for(session, me(), evidence_id)
    return present.evidence(found, visible_enrolment_ids(session, me(), found.trainee_id))


@bp.get("/records")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(
    Doc(
        "The completion records the token's owner sees",
        "Records",
        {200: ("A page of records", s.Page[s.RecordOut])},
        params=PAGED,
    )
)
@revalidated
def record_list() -> Response:
    return _page(records(db.session(), me(), _cursor(), _limit()), present.record)


@bp.get("/records/<int:record_id>")
@allow(SIGNED_IN)
@needs_scope(READ)
@documented(Doc("One completion record, with the evidence it froze", "Records", {200: ("The record", s.RecordDetail)}))
@revalidated
def record(record_id: int) -> Response:
    return _json(present.record_detail(record_for(db.session(), me(), record_id)))


# --- writes --------------------------------------------------------------------------------------------------------


@bp.post("/evidence")
@allow(Role.ASSESSOR, Role.TRAINEE)
@needs_scope(WRITE)
@documented(
    Doc(
        "Record evidence, mapped to criteria and items and judged, in one go",
        "Evidence",
        {201: ("Recorded; Location names it", s.EvidenceOut)},
        body=s.EvidenceIn,
        params=(idempotency_key(required=True),),
        description=(
            "An assessor records evidence about a trainee they assess, judging each mapping (or leaving it awaiting "
            "judgement); a trainee submits their own (trainee_id their own), mapped but never judged."
        ),
    )
)
def record_evidence_post() -> Any:
    data = _body(s.EvidenceIn)

    def do() -> tuple[int, int, BaseModel]:
        session = db.session()
        user = me()
        trainee = user if data.trainee_id == user.id and user.role == Role.TRAINEE else None
        if trainee is None:
            if user.role == Role.TRAINEE:
                raise NotFound("trainee")
            trainee = trainee_to_assess(session, user, data.trainee_id)
        values = {k: (v.value, tuple(v.kinds)) for k, v in data.values.items()}
        facts = EvidenceInput(data.method, data.context, data.observed_on, data.narrative, data.location, values)
        mappings = [MappingInput(m.enrolment_id, m.target, m.verdict, m.comment) for m in data.mappings]
        saved = record_evidence(session, user, trainee, facts, mappings, today=datetime.date.today())
        return 201, saved.id, _evidence(saved.id)

    return _once(do, _evidence, required=True)


@bp.post("/evidence/<int:evidence_id>/acknowledgement")
@allow(Role.TRAINEE)
@needs_scope(WRITE)
@documented(
    Doc(
        "Acknowledge evidence as an accurate account, as it stands now",
        "Evidence",
        {200: ("Acknowledged (again, if it was already)", s.EvidenceOut)},
        description="Only the trainee it is about. Acknowledging twice records one acknowledgement.",
    )
)
def acknowledge_post(evidence_id: int) -> Response:
    session = db.session()
    acknowledge(session, me(), evidence_for(session, me(), evidence_id))
    return _json(_evidence(evidence_id))


@bp.post("/enrolments")
@allow(Role.ADMIN, Role.COORDINATOR)
@needs_scope(WRITE)
@documented(
    Doc(
        "Enrol a trainee in a unit version, in a cohort the token's owner runs",
        "Enrolments",
        {201: ("Enrolled; Location names it", s.EnrolmentDetail)},
        body=s.EnrolmentIn,
        params=(idempotency_key(required=False),),
        description="A trainee already enrolled in the unit version is refused (422), unless the write is one sent "
        "again with its Idempotency-Key.",
    )
)
def enrol_post() -> Any:
    data = _body(s.EnrolmentIn)

    def do() -> tuple[int, int, BaseModel]:
        session = db.session()
        user = me()
        # Only a trainee the owner may enrol is found: no other account's id says anything.
        trainee = session.scalar(enrollable_trainees(user).where(User.id == data.trainee_id))
        version = session.get(UnitVersion, data.unit_version_id)
        assessors = [session.get(User, i) for i in dict.fromkeys(data.assessor_ids)]
        if trainee is None or version is None:
            raise NotFound("trainee or unit version")
        if any(a is None for a in assessors):
            raise InvalidInput({"assessor_ids": "Every assessor must be an active assessor account."})
        group = cohort_for(session, user, data.cohort_id) if data.cohort_id is not None else None
        made = enrol(session, user, trainee, version, [a for a in assessors if a], data.start_date, group)
        return 201, made.id, _enrolment(made.id)

    return _once(do, _enrolment, required=False)


def _enrolment(enrolment_id: int) -> s.EnrolmentDetail:
    session = db.session()
    found = enrolment_for(session, me(), enrolment_id)
    return present.enrolment_detail(found, tally_of(session, found), progress_of(session, found))
