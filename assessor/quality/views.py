"""Quality assurance pages: the dashboard, plans and their samples, the review of a sampled enrolment, the
assessor's answer to an action, countersigning, and the validation and moderation report."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from assessor.accounts.operations import confirm_password
from assessor.core import database as db
from assessor.core.access import Permissions, allow, enrolment_for, me
from assessor.core.forms import show_problems
from assessor.core.labels import obstacle
from assessor.core.urls import record_id
from assessor.domain.errors import InvalidInput, NotFound, NotReady
from assessor.domain.vocabulary import SEES_QUALITY, Role
from assessor.models import Enrolment, Evidence, ReviewDecision, SampleReview, SamplingPlan, User, enrolment_assessor
from assessor.models.quality import EVERY_UNIT
from assessor.progress.queries import judged_evidence
from assessor.quality import operations, queries, reports
from assessor.quality.forms import (
    EVIDENCE,
    AnswerForm,
    ConfirmActionForm,
    CountersignForm,
    CountersigningForm,
    DecisionForm,
    DeclineForm,
    PlanForm,
    ReportForm,
)
from assessor.standards.queries import latest_units, unit_of
from assessor.todo.queries import to_do

bp = Blueprint("quality", __name__, template_folder="templates")


@bp.get("/quality")
@allow(*SEES_QUALITY)
def dashboard() -> str:
    """Each plan and whether its sample meets it; countersignatures asked for and actions to confirm."""
    session = db.session()
    return render_template(
        "quality/dashboard.html",
        plans=[(plan, queries.plan_state(session, plan)) for plan in queries.plans(session)],
        todo=to_do(session, me(), datetime.date.today(), current_app.config["STALE_AFTER_DAYS"])
        if Permissions(me()).assure_quality()
        else None,
    )


@bp.route("/quality/plans/new", methods=["GET", "POST"])
@allow(Role.QUALITY_ASSURER)
def new_plan() -> Any:
    """A new sampling plan."""
    form = PlanForm()
    if not form.is_submitted():
        today = datetime.date.today()
        form.period_from.data = today.replace(month=1, day=1)
        form.period_to.data = today
    if form.validate_on_submit():
        try:
            plan = operations.create_plan(db.session(), me(), form.data_in())
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems)
        else:
            flash("The plan is made. Propose its sample, adjust it, then confirm it.", "success")
            return redirect(url_for("quality.plan", plan_id=plan.id))
    return render_template("quality/new_plan.html", form=form), 400 if form.errors else 200


@bp.get("/quality/plans/<int:plan_id>")
@allow(*SEES_QUALITY)
def plan(plan_id: int) -> str:
    """A plan: what it needs per assessor and per unit, how far its sample meets it, and its population."""
    session = db.session()
    item = _plan(plan_id)
    state = queries.plan_state(session, item)
    reviews = queries.reviews_of(session, item)
    sampled = {r.enrolment_id for r in reviews}
    outside = [c for c in state.candidates if c.enrolment_id not in sampled]
    shown = [c.enrolment_id for c in outside[: current_app.config["SAMPLES_PER_PAGE"]]]
    trainees = {
        enrolment_id: name
        for enrolment_id, name in session.execute(
            sa.select(Enrolment.id, User.display_name)
            .join(User, User.id == Enrolment.trainee_id)
            .where(Enrolment.id.in_(shown or [0]))
        )
    }
    return render_template(
        "quality/plan.html",
        plan=item,
        state=state,
        reviews=reviews,
        outside=outside,
        shown=current_app.config["SAMPLES_PER_PAGE"],
        trainees=trainees,
        reasons=queries.REASONS,
    )


def _plan_action(plan_id: int, act: Any, done: str) -> Response:
    """Do `act` to a plan and go back to its page, saying what was done or why not."""
    item = _plan(plan_id)
    try:
        act(db.session(), me(), item)
    except InvalidInput as exc:
        db.keep_nothing()
        flash(str(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for("quality.plan", plan_id=plan_id))


@bp.post("/quality/plans/<int:plan_id>/propose")
@allow(Role.QUALITY_ASSURER)
def propose(plan_id: int) -> Response:
    """Draw the plan's sample with its seed."""
    return _plan_action(plan_id, operations.propose_sample, "The sample is proposed. Adjust it, then confirm it.")


@bp.post("/quality/plans/<int:plan_id>/confirm")
@allow(Role.QUALITY_ASSURER)
def confirm(plan_id: int) -> Response:
    """Confirm the sample: its enrolments are under review."""
    return _plan_action(plan_id, operations.confirm_sample, "The sample is confirmed: its enrolments are under review.")


@bp.post("/quality/plans/<int:plan_id>/add")
@allow(Role.QUALITY_ASSURER)
def add(plan_id: int) -> Response:
    """Add an enrolment of the plan's population to its sample."""
    enrolment_id = request.form.get("enrolment", type=record_id) or 0  # none that is not a record id is a candidate
    return _plan_action(
        plan_id,
        lambda session, actor, item: operations.add_to_sample(session, actor, item, enrolment_id),
        "The enrolment is in the sample.",
    )


@bp.post("/quality/reviews/<int:review_id>/remove")
@allow(Role.QUALITY_ASSURER)
def remove(review_id: int) -> Response:
    """Take an enrolment out of a sample, with the reason."""
    review = _review(review_id)
    try:
        operations.remove_from_sample(db.session(), me(), review, request.form.get("reason", ""))
    except InvalidInput as exc:
        db.keep_nothing()
        flash(str(exc), "error")
    else:
        flash("Taken out of the sample.", "success")
    if review.plan_id is None:
        return redirect(url_for("quality.review", review_id=review_id))
    return redirect(url_for("quality.plan", plan_id=review.plan_id))


@bp.get("/quality/reviews/<int:review_id>")
@allow(*SEES_QUALITY)
def review(review_id: int) -> str:
    """A sampled enrolment under review: its judgements and evidence, the decisions on it, and what may be done."""
    return _review_page(_review(review_id))


def _review_page(item: SampleReview, **forms: Any) -> str:
    session = db.session()
    enrolment = item.enrolment
    unit = unit_of(enrolment.unit_version)
    progress, judgements = judged_evidence(session, enrolment)
    texts = {c.number: c.text for c in unit.criteria()} | {i.id: i.text for i in unit.assessable_items()}
    ids = sorted({row.evidence_id for rows in judgements.values() for row in rows})
    evidence = session.scalars(sa.select(Evidence).where(Evidence.id.in_(ids)).order_by(Evidence.id)).all()
    decision_form = forms.get("decision_form") or DecisionForm()
    decision_form.about.choices = [SelectChoice(t, f"{t} {texts.get(t, '')}"[:100]) for t in progress.targets] + [
        SelectChoice(f"{EVIDENCE}{e.id}", f"Evidence #{e.id} of {e.observed_on.isoformat()}") for e in evidence
    ]
    return render_template(
        "quality/review.html",
        item=item,
        enrolment=enrolment,
        unit=unit,
        progress=progress,
        judgements=judgements,
        texts=texts,
        evidence=evidence,
        may_review=forms.get("may_review", Permissions(me()).review(item)),
        decision_form=decision_form,
        confirm_form=ConfirmActionForm(),
        countersign_form=forms.get("countersign_form") or CountersignForm(),
        decline_form=forms.get("decline_form") or DeclineForm(),
    )


@bp.post("/quality/reviews/<int:review_id>/decide")
@allow(Role.QUALITY_ASSURER)
def decide(review_id: int) -> Any:
    """Record a decision on a judgement or a piece of evidence."""
    item = _reviewable(review_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _review_page(item, decision_form=form, may_review=True), 400
    try:
        operations.decide(db.session(), me(), item, form.data_in(), datetime.date.today())
    except InvalidInput as exc:
        db.keep_nothing()
        show_problems(form, exc.problems)
        return _review_page(item, decision_form=form, may_review=True), 400
    flash("The decision is recorded.", "success")
    return redirect(url_for("quality.review", review_id=review_id))


@bp.post("/quality/reviews/<int:review_id>/close")
@allow(Role.QUALITY_ASSURER)
def close(review_id: int) -> Response:
    """End a review: the enrolment unlocks."""
    item = _reviewable(review_id)
    try:
        operations.close_review(db.session(), me(), item)
    except InvalidInput as exc:
        db.keep_nothing()
        flash(str(exc), "error")
    else:
        flash("The review is closed.", "success")
    return redirect(url_for("quality.review", review_id=review_id))


@bp.post("/quality/reviews/<int:review_id>/countersign")
@allow(Role.QUALITY_ASSURER)
def countersign(review_id: int) -> Any:
    """Countersign an assessor's sign-off, the quality assurer's password re-entered: the record is issued."""
    item = _reviewable(review_id)
    form = CountersignForm()
    if not form.validate_on_submit():
        return _review_page(item, countersign_form=form, may_review=True), 400
    refusal = confirm_password(db.session(), me(), form.password.data, request.remote_addr or "unknown", form.code.data)
    if refusal is not None:  # kept: a wrong password counts toward the throttle
        getattr(form, refusal.field).errors = [refusal.message]
        return _review_page(item, countersign_form=form, may_review=True), 429 if refusal.throttled else 400
    try:
        record = operations.countersign(db.session(), me(), item)
    except NotReady as exc:
        db.keep_nothing()
        flash(" ".join(obstacle(o) for o in exc.obstacles), "error")
        return redirect(url_for("quality.review", review_id=review_id))
    except InvalidInput as exc:
        db.keep_nothing()
        flash(str(exc), "error")
        return redirect(url_for("quality.review", review_id=review_id))
    flash("Countersigned. The completion record is issued.", "success")
    return redirect(url_for("records.record", record_id=record.id))


@bp.post("/quality/reviews/<int:review_id>/decline")
@allow(Role.QUALITY_ASSURER)
def decline(review_id: int) -> Any:
    """Decline to countersign, with a reason for the assessor."""
    item = _reviewable(review_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return _review_page(item, decline_form=form, may_review=True), 400
    try:
        operations.decline_countersignature(db.session(), me(), item, form.reason.data or "")
    except InvalidInput as exc:
        db.keep_nothing()
        show_problems(form, exc.problems)
        return _review_page(item, decline_form=form, may_review=True), 400
    flash("Declined. The assessor sees why on the enrolment.", "success")
    return redirect(url_for("quality.review", review_id=review_id))


@bp.post("/quality/decisions/<int:decision_id>/answer")
@allow(Role.ASSESSOR)
def answer(decision_id: int) -> Response:
    """The assessor says what they did about an action asked of them."""
    decision = _decision(decision_id)
    if not Permissions(me()).answer_review(decision.review.enrolment):
        raise NotFound("decision")
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    else:
        try:
            operations.answer_action(db.session(), me(), decision, form.note.data or "")
        except InvalidInput as exc:
            db.keep_nothing()
            flash(str(exc), "error")
        else:
            flash("Sent to the quality assurer to confirm.", "success")
    return redirect(url_for("progress.enrolment", enrolment_id=decision.review.enrolment_id))


@bp.post("/quality/decisions/<int:decision_id>/confirm")
@allow(Role.QUALITY_ASSURER)
def confirm_action(decision_id: int) -> Response:
    """Confirm what the assessor did, or send it back."""
    decision = _decision(decision_id)
    _reviewable(decision.review_id)
    form = ConfirmActionForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    else:
        accepted = form.verdict.data == "confirm"
        try:
            operations.confirm_action(db.session(), me(), decision, accepted, form.reason.data or "")
        except InvalidInput as exc:
            db.keep_nothing()
            flash(str(exc), "error")
        else:
            flash("Confirmed." if accepted else "Sent back to the assessor.", "success")
    return redirect(url_for("quality.review", review_id=decision.review_id))


@bp.route("/quality/countersigning", methods=["GET", "POST"])
@allow(Role.ADMIN)
def countersigning() -> Any:
    """Which units need a quality assurer's countersignature before a completion record is issued."""
    session = db.session()
    form = CountersigningForm()
    form.units.choices = _unit_choices()
    if form.validate_on_submit():
        wanted = {EVERY_UNIT} if form.every_unit.data == "all" else set(form.units.data or [])
        try:
            operations.set_countersigning(session, me(), wanted)
        except InvalidInput as exc:
            db.keep_nothing()
            flash(str(exc), "error")
        else:
            flash("Countersigning is set.", "success")
            return redirect(url_for("quality.countersigning"))
    elif not form.is_submitted():
        current = queries.countersigned_units(session)
        form.every_unit.data = "all" if EVERY_UNIT in current else "some"
        form.units.data = sorted(current - {EVERY_UNIT})
    return render_template("quality/countersigning.html", form=form), 400 if form.errors else 200


@bp.get("/quality/report")
@allow(*SEES_QUALITY)
def report() -> Any:
    """The validation and moderation report: each review in a period, its decisions, actions and outcome; printable,
    or as a spreadsheet."""
    form, wanted = _report_filter()
    rows = queries.report_reviews(db.session(), wanted) if wanted else []
    if wanted and request.args.get("format") == "xlsx":
        stream = reports.workbook(rows, wanted)
        name = f"quality-report-{wanted.period_from.isoformat()}-{wanted.period_to.isoformat()}.xlsx"
        return send_file(stream, as_attachment=True, download_name=name, mimetype=reports.XLSX)
    return render_template(
        "quality/report.html",
        form=form,
        wanted=wanted,
        reviews=rows,
        summary=reports.summary(rows),
        organisation=current_app.config.get("ORGANISATION_NAME", ""),
        where_from=reports.where_from,
        decision_about=reports.decision_about,
        outcome_of=queries.outcome_of,
        results=reports.RESULT,
    ), 400 if form.errors else 200


def _report_filter() -> tuple[ReportForm, queries.ReportFilter | None]:
    session = db.session()
    form = ReportForm(request.args)
    form.unit.choices = [SelectChoice("", "Every unit"), *_unit_choices()]
    assessors = session.scalars(
        sa.select(User).where(User.id.in_(sa.select(enrolment_assessor.c.user_id))).order_by(User.display_name)
    )
    form.assessor.choices = [SelectChoice("", "Every assessor")] + [
        SelectChoice(str(a.id), a.display_name) for a in assessors
    ]
    if not request.args:
        today = datetime.date.today()
        form.period_from.data, form.period_to.data = today.replace(month=1, day=1), today
        return form, None
    if not form.validate():
        return form, None
    if form.period_to.data < form.period_from.data:
        form.period_to.errors = ["The period ends before it starts."]
        return form, None
    assessor = request.args.get("assessor", type=record_id)
    return form, queries.ReportFilter(form.period_from.data, form.period_to.data, form.unit.data or "", assessor)


def _unit_choices() -> list[SelectChoice]:
    """Every loaded unit, by title."""
    return [SelectChoice(u.id, u.title) for _, u in latest_units(db.session())]


def _plan(plan_id: int) -> SamplingPlan:
    item = db.session().get(SamplingPlan, plan_id)
    if item is None:
        raise NotFound("plan")
    return item


def _review(review_id: int) -> SampleReview:
    """A review of an enrolment the user may see (quality assurers see every sampled enrolment)."""
    decided = so.selectinload(SampleReview.decisions).selectinload(ReviewDecision.decided_by)
    item = db.session().get(SampleReview, review_id, options=[decided])
    if item is None:
        raise NotFound("review")
    enrolment_for(db.session(), me(), item.enrolment_id)
    return item


def _reviewable(review_id: int) -> SampleReview:
    """A review the signed-in quality assurer may decide on; as not found to anyone else."""
    item = _review(review_id)
    if not Permissions(me()).review(item):
        raise NotFound("review")
    return item


def _decision(decision_id: int) -> ReviewDecision:
    decision = db.session().get(ReviewDecision, decision_id)
    if decision is None:
        raise NotFound("decision")
    _review(decision.review_id)
    return decision
