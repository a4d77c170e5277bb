"""Who may use which view and see which record: every view declares its rule, anything undeclared is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from assessor.models import (
    Attachment,
    CompletionRecord,
    Enrolment,
    Evidence,
    Role,
    User,
    cohort_coordinator,
    enrolment_assessor,
)

PUBLIC = "public"
SIGNED_IN = "signed_in"

View = TypeVar("View", bound=Callable[..., Any])


def allow(*who: str | Role) -> Callable[[View], View]:
    """Declare who may use a view: PUBLIC, SIGNED_IN, or one or more roles."""
    rule = frozenset(str(w) for w in who)

    def decorate(view: View) -> View:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


def rule_of(app: Flask, endpoint: str | None) -> frozenset[str] | None:
    """The declared rule of an endpoint; None when it declares none (and so is refused)."""
    if endpoint == "static":
        return frozenset({PUBLIC})
    view = app.view_functions.get(endpoint or "")
    return getattr(view, "access_rule", None)


def init_app(app: Flask) -> None:
    """Check every request against its view's declared rule before the view runs."""

    @app.before_request
    def check_access() -> Any:
        if request.endpoint is None:
            return None  # no such URL: Flask answers 404 itself
        rule = rule_of(app, request.endpoint)
        if rule is None:
            abort(404)
        if PUBLIC in rule:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.sign_in", next=request.full_path if request.method == "GET" else None))
        if SIGNED_IN not in rule and current_user.role.value not in rule:
            abort(404)
        return None


# --- which records a user may see -----------------------------------------------------------------


def visible_enrolments(user: User) -> sa.Select[tuple[Enrolment]]:
    """The enrolments a user may see: their own, those they assess, those of cohorts they coordinate; admins all."""
    query = sa.select(Enrolment)
    if user.role == Role.ADMIN:
        return query
    if user.role == Role.TRAINEE:
        return query.where(Enrolment.trainee_id == user.id)
    if user.role == Role.ASSESSOR:
        assigned = sa.select(enrolment_assessor.c.enrolment_id).where(enrolment_assessor.c.user_id == user.id)
        return query.where(Enrolment.id.in_(assigned))
    coordinated = sa.select(cohort_coordinator.c.cohort_id).where(cohort_coordinator.c.user_id == user.id)
    return query.where(Enrolment.cohort_id.in_(coordinated))


def visible_trainee_ids(user: User) -> sa.Select[tuple[int]]:
    """The trainees whose evidence a user may see."""
    return visible_enrolments(user).with_only_columns(Enrolment.trainee_id)


def enrolment_or_404(session: so.Session, user: User, enrolment_id: int) -> Enrolment:
    """An enrolment the user may see, or 404 as if it did not exist."""
    # Its trainee and unit version come in the same statement: every page about an enrolment shows both.
    query = visible_enrolments(user).where(Enrolment.id == enrolment_id).options(so.joinedload(Enrolment.trainee), so.joinedload(Enrolment.unit_version))
    enrolment = session.scalar(query)
    return enrolment if enrolment is not None else abort(404)


def evidence_or_404(session: so.Session, user: User, evidence_id: int) -> Evidence:
    """Evidence about a trainee the user may see, or 404."""
    if user.role == Role.TRAINEE:
        condition = Evidence.trainee_id == user.id
    elif user.role == Role.ADMIN:
        condition = sa.true()
    else:
        condition = Evidence.trainee_id.in_(visible_trainee_ids(user))
    evidence = session.scalar(sa.select(Evidence).where(Evidence.id == evidence_id, condition))
    return evidence if evidence is not None else abort(404)


def attachment_or_404(session: so.Session, user: User, attachment_id: int) -> Attachment:
    """An attachment of evidence the user may see, or 404."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    evidence_or_404(session, user, attachment.evidence_id)
    return attachment


def record_or_404(session: so.Session, user: User, record_id: int) -> CompletionRecord:
    """A completion record of an enrolment the user may see, or 404."""
    record = session.get(CompletionRecord, record_id)
    if record is None:
        abort(404)
    enrolment_or_404(session, user, record.enrolment_id)
    return record


def assessor_of_trainee(session: so.Session, user: User, trainee_id: int) -> User:
    """A trainee the signed-in assessor is assigned to, or 404."""
    trainee = session.scalar(
        sa.select(User)
        .join(Enrolment, Enrolment.trainee_id == User.id)
        .join(enrolment_assessor, enrolment_assessor.c.enrolment_id == Enrolment.id)
        .where(User.id == trainee_id, enrolment_assessor.c.user_id == user.id)
        .limit(1)
    )
    return trainee if trainee is not None else abort(404)


def me() -> User:
    """The signed-in user as a model instance (not the proxy), to hand to operations and queries."""
    return current_user._get_current_object()  # type: ignore[attr-defined]
