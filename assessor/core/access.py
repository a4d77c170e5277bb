"""The access gate: every view declares who may use it, and records are looked up through `domain.policy`.

Anything undeclared is refused. Single records are fetched, their facts gathered and the pure policy asked; lists
use the same rules written as SQL (`visible_enrolments`, `visible_cohorts`), and a test holds the two together.

A view of the JSON API also declares the token scope it needs: it is reached with a personal access token alone (never
a session cookie), by the token's owner, whose role and rights are asked exactly as on the web.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, abort, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Forbidden, Unauthorized

from assessor.domain import policy
from assessor.domain.errors import NotAllowed, NotFound
from assessor.domain.vocabulary import RUNS_COHORTS, ReviewState, Role, TokenScope
from assessor.models import (
    Attachment,
    Cohort,
    CompletionRecord,
    Enrolment,
    Evidence,
    EvidenceMapping,
    GroupObservation,
    Job,
    LogbookEntry,
    SampleReview,
    UnitVersion,
    User,
    cohort_coordinator,
    enrolment_assessor,
)

PUBLIC = "public"
SIGNED_IN = "signed_in"
TOKEN = "api_token"  # g: the personal access token an API request came with, once it is found good

View = TypeVar("View", bound=Callable[..., Any])


def allow(*who: str | Role) -> Callable[[View], View]:
    """Declare who may use a view: PUBLIC, SIGNED_IN, or one or more roles."""
    rule = frozenset(str(w) for w in who)

    def decorate(view: View) -> View:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


def needs_scope(scope: TokenScope) -> Callable[[View], View]:
    """Declare a view of the JSON API, reached with a personal access token of this scope (or wider) alone."""

    def decorate(view: View) -> View:
        view.token_scope = scope  # type: ignore[attr-defined]
        return view

    return decorate


def scope_of(app: Flask, endpoint: str | None) -> TokenScope | None:
    """The token scope an API view needs; None for a view of the web."""
    return getattr(app.view_functions.get(endpoint or ""), "token_scope", None)


def rule_of(app: Flask, endpoint: str | None) -> frozenset[str] | None:
    """The declared rule of an endpoint; None when it declares none (and so is refused)."""
    if endpoint == "static":
        return frozenset({PUBLIC})
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "access_rule", None)


def init_app(app: Flask) -> None:
    """Check every request against its view's declared rule before the view runs; let templates ask the policy."""

    @app.before_request
    def check_access() -> Any:
        if request.endpoint is None:
            return None  # no such URL: Flask answers 404 itself
        rule = rule_of(app, request.endpoint)
        if rule is None:
            abort(404)
        if PUBLIC in rule:
            return None
        scope = scope_of(app, request.endpoint)
        if scope is not None or g.get(TOKEN) is not None:
            return check_token(rule, scope)
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.sign_in", next=request.full_path if request.method == "GET" else None))
        if SIGNED_IN not in rule and current_user.role.value not in rule:
            abort(404)
        return None

    @app.context_processor
    def permissions() -> dict[str, Any]:
        return {"may": Permissions(me() if current_user.is_authenticated else None)}


def check_token(rule: frozenset[str], scope: TokenScope | None) -> None:
    """An API request: a good token (401 without one), the view's rule for its owner, and the token's scope."""
    token = g.get(TOKEN)
    if token is None or not current_user.is_authenticated:
        raise Unauthorized("Send a personal access token: Authorization: Bearer <token>.")
    if scope is None:
        abort(404)  # a token opens the API, nothing else
    if SIGNED_IN not in rule and current_user.role.value not in rule:
        abort(404)
    if not policy.scope_allows(token.scope, scope):
        raise Forbidden(f"This token may only {token.scope.value}; this needs a {scope.value} token.")


def me() -> User:
    """The signed-in user as a model instance (not the proxy), to hand to operations and queries."""
    user: User = current_user._get_current_object()
    return user


def require(allowed: bool, why: str) -> None:
    """Refuse an operation the policy does not allow."""
    if not allowed:
        raise NotAllowed(why)


# --- facts for the policy ------------------------------------------------------------------------


def actor(user: User) -> policy.Actor:
    """The policy's view of a user."""
    return policy.Actor(user.id, user.role, user.active)


def enrolment_facts(enrolment: Enrolment, assessors_only: bool = False) -> policy.EnrolmentFacts:
    """The policy's view of an enrolment: its trainee, assessors, the coordinators of its cohort, its status, and
    whether it is sampled and under review for quality assurance.

    A rule that asks only about assessors may leave the rest out, sparing a list two queries per row."""
    assessors = frozenset(a.id for a in enrolment.assessors)
    if assessors_only:
        return policy.EnrolmentFacts(enrolment.trainee_id, assessors, frozenset(), enrolment.status)
    coordinators = frozenset(u.id for u in enrolment.cohort.coordinators) if enrolment.cohort else frozenset()
    return policy.EnrolmentFacts(
        enrolment.trainee_id,
        assessors,
        coordinators,
        enrolment.status,
        sampled=bool(enrolment.reviews),
        under_review=any(r.state == ReviewState.UNDER_REVIEW for r in enrolment.reviews),
    )


def trainee_enrolment_facts(session: so.Session, trainee_id: int) -> dict[int, policy.EnrolmentFacts]:
    """The policy's view of every enrolment of a trainee, by enrolment id."""
    enrolments = session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.trainee_id == trainee_id)
        .options(
            so.selectinload(Enrolment.assessors),
            so.selectinload(Enrolment.cohort).selectinload(Cohort.coordinators),
            so.selectinload(Enrolment.reviews),
        )
        .order_by(Enrolment.id)
    )
    return {e.id: enrolment_facts(e) for e in enrolments}


def unit_facts(unit_version: UnitVersion) -> policy.UnitFacts:
    """The policy's view of a unit version: loaded once it is a row of the database."""
    return policy.UnitFacts(loaded=so.object_session(unit_version) is not None and unit_version.id is not None)


def evidence_facts(session: so.Session, evidence: Evidence) -> policy.EvidenceFacts:
    """The policy's view of evidence: the enrolments it is mapped to, and all its trainee's for when it is mapped to
    none."""
    of_trainee = trainee_enrolment_facts(session, evidence.trainee_id)
    mapped = sorted({m.enrolment_id for m in evidence.mappings})
    return policy.EvidenceFacts(
        evidence.trainee_id,
        tuple(of_trainee[i] for i in mapped),
        tuple(of_trainee.values()),
        erased=evidence.erased_on is not None,
    )


def assessed_by(session: so.Session, enrolment_id: int) -> frozenset[int]:
    """Everyone who assessed an enrolment: who recorded or judged its evidence and who signed it off or asked for its
    countersignature."""
    recorded = (
        sa.select(Evidence.recorded_by_id)
        .join(EvidenceMapping, EvidenceMapping.evidence_id == Evidence.id)
        .where(EvidenceMapping.enrolment_id == enrolment_id)
    )
    judged = sa.select(EvidenceMapping.judged_by_id).where(
        EvidenceMapping.enrolment_id == enrolment_id, EvidenceMapping.judged_by_id.is_not(None)
    )
    signed = sa.select(CompletionRecord.assessor_id).where(CompletionRecord.enrolment_id == enrolment_id)
    asked = sa.select(SampleReview.requested_by_id).where(
        SampleReview.enrolment_id == enrolment_id, SampleReview.requested_by_id.is_not(None)
    )
    return frozenset(session.scalars(sa.union(recorded, judged, signed, asked)))


def cohort_facts(cohort: Cohort) -> policy.CohortFacts:
    """The policy's view of a cohort."""
    return policy.CohortFacts(frozenset(u.id for u in cohort.coordinators))


class Permissions:
    """The policy asked about ORM records on behalf of one user (None when signed out): what templates call `may`."""

    def __init__(self, user: User | None):
        self.user = user

    def _ask(self, rule: Callable[..., bool], *facts: object) -> bool:
        return self.user is not None and rule(actor(self.user), *facts)

    def assess(self, enrolment: Enrolment | policy.EnrolmentFacts) -> bool:
        """Given a record or, from a list read as plain values, the policy's facts of one."""
        if isinstance(enrolment, Enrolment):
            enrolment = enrolment_facts(enrolment, assessors_only=True)
        return self._ask(policy.may_assess, enrolment)

    def manage_enrolment(self, enrolment: Enrolment) -> bool:
        return self._ask(policy.may_manage_enrolment, enrolment_facts(enrolment))

    def take_credential(self, enrolment: Enrolment) -> bool:
        return self._ask(policy.may_take_credential, enrolment_facts(enrolment, assessors_only=True))

    def log_hours(self, enrolment: Enrolment) -> bool:
        return self._ask(policy.may_log_hours, enrolment_facts(enrolment))

    def verify_hours(self, enrolment: Enrolment, entry: LogbookEntry) -> bool:
        return self._ask(policy.may_verify_hours, enrolment_facts(enrolment), entry.recorded_by_id)

    def record_credit(self, enrolment: Enrolment) -> bool:
        """Whether credits may be recorded and withdrawn for the trainee of this enrolment."""
        session = _session_of(enrolment)

        def facts() -> Iterator[policy.EnrolmentFacts]:  # read only if the rule asks (a coordinator's, not others')
            yield from trainee_enrolment_facts(session, enrolment.trainee_id).values()

        return self._ask(policy.may_record_credit, facts())

    def edit_evidence(self, evidence: Evidence) -> bool:
        return self._ask(policy.may_edit_evidence, evidence_facts(_session_of(evidence), evidence))

    def observe_groups(self) -> bool:
        return self._ask(policy.may_observe_groups)

    def see_group(self, evidence: Evidence) -> bool:
        """Whether the group observation this evidence is a part of may be shown (never to a trainee)."""
        group = evidence.group
        parts = (facts for _, facts in group_facts(_session_of(evidence), group)) if group else iter(())
        return self._ask(policy.may_see_group_observation, parts)  # the facts are read only as far as needed

    def acknowledge(self, evidence: Evidence) -> bool:
        return self._ask(policy.may_acknowledge, evidence_facts(_session_of(evidence), evidence))

    def run_cohorts(self) -> bool:
        return self._ask(policy.may_run_cohorts)

    def take_job_result(self, job: Job) -> bool:
        return self._ask(policy.may_take_job_result, job.owner_id)

    def load_standards(self) -> bool:
        return self._ask(policy.may_load_standards)

    def manage_jobs(self) -> bool:
        return self._ask(policy.may_manage_jobs)

    def manage_accounts(self) -> bool:
        return self._ask(policy.may_manage_accounts)

    def invite(self, user: User) -> bool:
        return self._ask(policy.may_create_account, user.role)

    def submit_evidence(self) -> bool:
        return self._ask(policy.may_submit_evidence)

    def assure_quality(self) -> bool:
        return self._ask(policy.may_assure_quality)

    def see_quality_reports(self) -> bool:
        return self._ask(policy.may_see_quality_reports)

    def review(self, review: SampleReview) -> bool:
        enrolment = review.enrolment
        return self._ask(policy.may_review, enrolment_facts(enrolment), assessed_by(_session_of(review), enrolment.id))

    def see_reviews(self, enrolment: Enrolment) -> bool:
        return self._ask(policy.may_see_reviews, enrolment_facts(enrolment))

    def answer_review(self, enrolment: Enrolment) -> bool:
        return self._ask(policy.may_answer_review, enrolment_facts(enrolment, assessors_only=True))

    def set_countersigning(self) -> bool:
        return self._ask(policy.may_set_countersigning)


def _session_of(record: Any) -> so.Session:
    session = so.object_session(record)
    if session is None:
        raise RuntimeError("the record is not attached to a session")
    return session


# --- single records, through the policy ----------------------------------------------------------


def enrolment_for(session: so.Session, user: User, enrolment_id: int) -> Enrolment:
    """An enrolment the user may see, with its trainee and unit version; NotFound as if it did not exist."""
    enrolment = session.scalar(
        sa.select(Enrolment)
        .where(Enrolment.id == enrolment_id)
        .options(so.joinedload(Enrolment.trainee), so.joinedload(Enrolment.unit_version))
    )
    if enrolment is None or not policy.may_see_enrolment(actor(user), enrolment_facts(enrolment)):
        raise NotFound("enrolment")
    return enrolment


def evidence_for(session: so.Session, user: User, evidence_id: int) -> Evidence:
    """Evidence the user may see; NotFound otherwise."""
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or not policy.may_see_evidence(actor(user), evidence_facts(session, evidence)):
        raise NotFound("evidence")
    return evidence


def group_facts(session: so.Session, group: GroupObservation) -> Iterator[tuple[Evidence, policy.EvidenceFacts]]:
    """Each part of a group observation with the policy's view of it, read one part at a time."""
    return ((part, evidence_facts(session, part)) for part in group.parts)


def group_for(session: so.Session, user: User, group_id: int) -> tuple[GroupObservation, list[Evidence]]:
    """A group observation and the parts of it the user may see; NotFound to a trainee and to who sees no part."""
    group = session.get(GroupObservation, group_id)
    if group is None:
        raise NotFound("group observation")
    facts = list(group_facts(session, group))
    if not policy.may_see_group_observation(actor(user), (f for _, f in facts)):
        raise NotFound("group observation")
    return group, [part for part, f in facts if policy.may_see_evidence(actor(user), f)]


def attachment_for(session: so.Session, user: User, attachment_id: int) -> Attachment:
    """An attachment of evidence the user may see; NotFound otherwise."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("attachment")
    evidence_for(session, user, attachment.evidence_id)
    return attachment


def job_for(session: so.Session, user: User, job_id: int) -> Job:
    """A job the user asked for (any job, for an administrator); NotFound otherwise."""
    job = session.get(Job, job_id)
    if job is None or not policy.may_see_job(actor(user), job.owner_id):
        raise NotFound("job")
    return job


def own_job_for(session: so.Session, user: User, job_id: int) -> Job:
    """A job the user asked for, whose result is theirs alone to take; NotFound otherwise."""
    job = session.get(Job, job_id)
    if job is None or not policy.may_take_job_result(actor(user), job.owner_id):
        raise NotFound("job")
    return job


def record_for(session: so.Session, user: User, record_id: int) -> CompletionRecord:
    """A completion record of an enrolment the user may see; NotFound otherwise."""
    record = session.get(CompletionRecord, record_id)
    if record is None:
        raise NotFound("completion record")
    enrolment_for(session, user, record.enrolment_id)
    return record


def cohort_for(session: so.Session, user: User, cohort_id: int) -> Cohort:
    """A cohort the user runs; NotFound otherwise."""
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or not policy.may_run_cohort(actor(user), cohort_facts(cohort)):
        raise NotFound("cohort")
    return cohort


def trainee_to_assess(session: so.Session, user: User, trainee_id: int) -> User:
    """A trainee the user may record evidence about; NotFound otherwise."""
    trainee = session.get(User, trainee_id)
    if trainee is None or not policy.may_record_evidence(
        actor(user), tuple(trainee_enrolment_facts(session, trainee_id).values())
    ):
        raise NotFound("trainee")
    return trainee


# --- lists: the same rules as SQL -----------------------------------------------------------------


def visible_enrolments(user: User, many: bool = False) -> sa.Select[Enrolment]:
    """The enrolments a user may see (policy.may_see_enrolment as SQL)."""
    return sa.select(Enrolment).where(sees_enrolment(user, many))


def sees_enrolment(user: User, many: bool = False) -> sa.ColumnElement[bool]:
    """Whether the user may see the enrolment of the statement's row (policy.may_see_enrolment as SQL).

    `many`, for a list known to be long, asks of each enrolment whether the user sees it (EXISTS) instead of listing
    the user's own (IN): SQLite then walks the index of the list's order and stops after a page, where the IN form
    starts from the user's assignments and sorts them all (a coordinator of every cohort: all of them). PostgreSQL
    plans either form from its statistics."""
    if not user.active:
        return sa.false()
    if user.role == Role.ADMIN:
        return sa.true()
    if user.role == Role.TRAINEE:
        return Enrolment.trainee_id == user.id
    if user.role == Role.ASSESSOR:
        assigned = sa.select(enrolment_assessor.c.enrolment_id).where(enrolment_assessor.c.user_id == user.id)
        if many:
            return assigned.where(enrolment_assessor.c.enrolment_id == Enrolment.id).exists()
        return Enrolment.id.in_(assigned)
    if user.role == Role.QUALITY_ASSURER:
        return Enrolment.id.in_(sa.select(SampleReview.enrolment_id))
    if user.role == Role.COORDINATOR:
        if many:
            return _coordinated(user).where(cohort_coordinator.c.cohort_id == Enrolment.cohort_id).exists()
        return Enrolment.cohort_id.in_(_coordinated(user))
    return sa.false()


def visible_cohorts(user: User) -> sa.Select[Cohort]:
    """The cohorts a user runs (policy.may_run_cohort as SQL)."""
    query = sa.select(Cohort)
    if not user.active or user.role not in RUNS_COHORTS:
        return query.where(sa.false())
    if user.role == Role.COORDINATOR:
        return query.where(Cohort.id.in_(_coordinated(user)))
    return query


def enrollable_trainees(user: User) -> sa.Select[User]:
    """Active trainees the user may enrol in a cohort they run (policy.may_enrol as SQL): for a coordinator, those
    every one of whose enrolments is in a cohort they coordinate."""
    query = sa.select(User).where(User.role == Role.TRAINEE, User.active.is_(True))
    if user.role == Role.ADMIN:
        return query
    elsewhere = sa.select(Enrolment.trainee_id).where(
        sa.or_(Enrolment.cohort_id.is_(None), Enrolment.cohort_id.not_in(_coordinated(user)))
    )
    return query.where(User.id.not_in(elsewhere))


def visible_mappings(user: User, evidence: Evidence) -> list[EvidenceMapping]:
    """The mappings of a piece of evidence into enrolments the user may see."""
    session = _session_of(evidence)
    visible = set(
        session.scalars(
            visible_enrolments(user).with_only_columns(Enrolment.id).where(Enrolment.trainee_id == evidence.trainee_id)
        )
    )
    return [m for m in evidence.mappings if m.enrolment_id in visible]


def _coordinated(user: User) -> sa.Select[int]:
    return sa.select(cohort_coordinator.c.cohort_id).where(cohort_coordinator.c.user_id == user.id)
