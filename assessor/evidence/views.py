"""The assessor's workflow: an enrolment's criteria and gaps, recording and editing evidence, the mapping matrix."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, HiddenField, MultipleFileField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from assessor import access, db
from assessor import operations as ops
from assessor.access import SIGNED_IN, allow, me
from assessor.attachments import UploadRefused, store_upload, stored_path
from assessor.domain.standards import Unit
from assessor.labels import CONTEXT, METHOD, STATUS, VERDICT, obstacle
from assessor.models import (
    AuditEvent,
    Context,
    Enrolment,
    EnrolmentStatus,
    Evidence,
    EvidenceMapping,
    Method,
    Role,
    User,
    Verdict,
)
from assessor.views import cohorts

bp = Blueprint("assessing", __name__)

OPEN = (EnrolmentStatus.ACTIVE, EnrolmentStatus.READY_FOR_SIGN_OFF)
CHOICES = {"": "Not mapped", Verdict.SATISFIED.value: "Satisfied", Verdict.NOT_YET.value: "Not yet", "mapped": "Mapped, awaiting judgement"}
TRAINEE_CHOICES = {"": "Not related", "mapped": "Shows this"}
TRAINEE_METHODS = (Method.WORK_PRODUCT, Method.THIRD_PARTY_REPORT, Method.RECOGNISED_PRIOR_LEARNING)


class EvidenceForm(FlaskForm):
    observed_on = DateField("Date observed", validators=[InputRequired(message="Enter the date it was observed.")])
    method = SelectField("Method", choices=[SelectChoice(m.value, label) for m, label in METHOD.items()])
    context = SelectField("Context", choices=[SelectChoice(c.value, label) for c, label in CONTEXT.items()])
    location = StringField("Location", validators=[Length(max=200)])
    narrative = TextAreaField("What was observed", validators=[InputRequired(message="Describe what was observed or provided.")])
    attachments = MultipleFileField("Attachments")
    version = HiddenField()


@dataclass
class ChecklistTarget:
    """One criterion or evidence item in the record-evidence checklist."""

    key: str
    text: str
    heading: str | None = None
    choice: str = ""
    comment: str = ""


@dataclass
class ChecklistSection:
    """The criteria and items of one enrolment, grouped as the unit groups them."""

    enrolment: Enrolment
    unit: Unit
    groups: list[tuple[str, list[ChecklistTarget]]] = field(default_factory=list)


# --- enrolment ----------------------------------------------------------------------------------


@bp.get("/enrolments/<int:enrolment_id>")
@allow(SIGNED_IN)
def enrolment(enrolment_id: int) -> str:
    """The unit's structure with each criterion's status, the evidence behind it, the gaps and sign-off readiness."""
    session = db.session()
    enrolment = access.enrolment_or_404(session, me(), enrolment_id)
    unit = ops.unit_of(enrolment.unit_version)
    progress, mappings = ops.judged_evidence(session, enrolment)
    can_assess = _assigned(enrolment)
    manage = cohorts.enrolment_forms(enrolment) if current_user.role in cohorts.MANAGERS and enrolment.status in OPEN else None
    return render_template(
        "assessing/enrolment.html",
        manage=manage,
        enrolment=enrolment,
        unit=unit,
        progress=progress,
        mappings=mappings,
        obstacles=[obstacle(o) for o in ops.sign_off_obstacles(session, enrolment, progress)],
        can_assess=can_assess,
        labels={"status": STATUS, "verdict": VERDICT, "method": METHOD},
    )


@bp.get("/enrolments/<int:enrolment_id>/matrix")
@allow(SIGNED_IN)
def matrix(enrolment_id: int) -> str:
    """Criteria and items against every piece of evidence mapped to the enrolment."""
    session = db.session()
    enrolment = access.enrolment_or_404(session, me(), enrolment_id)
    unit = ops.unit_of(enrolment.unit_version)
    rows = session.execute(
        sa.select(EvidenceMapping, Evidence)
        .join(Evidence, Evidence.id == EvidenceMapping.evidence_id)
        .where(EvidenceMapping.enrolment_id == enrolment.id)
        .order_by(Evidence.observed_on, Evidence.id)
    ).all()
    evidence = list({e.id: e for _, e in rows}.values())
    cells = {(m.target, e.id): m for m, e in rows}
    targets = [(c.number, c.text) for c in unit.criteria()] + [(i.id, i.text) for i in unit.assessable_items()]
    return render_template(
        "assessing/matrix.html",
        enrolment=enrolment,
        unit=unit,
        evidence=evidence,
        cells=cells,
        targets=targets,
        progress=ops.progress_of(session, enrolment),
        labels={"status": STATUS, "verdict": VERDICT, "method": METHOD},
    )


# --- evidence -----------------------------------------------------------------------------------


@bp.get("/trainees/<int:trainee_id>/evidence/new")
@allow(Role.ASSESSOR)
def new_evidence(trainee_id: int) -> str:
    """The record-evidence form: details, attachments and a checklist of every open criterion and item."""
    session = db.session()
    trainee = access.assessor_of_trainee(session, me(), trainee_id)
    form = EvidenceForm(observed_on=datetime.date.today(), context=Context.WORKPLACE.value)
    preselect = request.args.get("enrolment", type=int), request.args.get("target", "")
    return render_template("assessing/evidence_form.html", form=form, trainee=trainee, sections=_checklist(session, trainee, None, preselect), choices=CHOICES, evidence=None)


@bp.post("/trainees/<int:trainee_id>/evidence/new")
@allow(Role.ASSESSOR)
def new_evidence_post(trainee_id: int) -> Any:
    """Record the evidence with its mappings and judgements in one go."""
    session = db.session()
    trainee = access.assessor_of_trainee(session, me(), trainee_id)

    def save(form: EvidenceForm, mappings: list[ops.MappingInput], stored: list[ops.AttachmentInput]) -> Evidence:
        return ops.record_evidence(session, me(), trainee, _evidence_input(form), mappings, stored)

    return _submit(session, trainee, None, save, "Evidence #{id} recorded.")


@bp.get("/my/evidence/new")
@allow(Role.TRAINEE)
def submit_evidence() -> str:
    """The trainee's own evidence: a work product or reflection, waiting for an assessor to review and judge it."""
    session = db.session()
    form = _trainee_form(EvidenceForm(observed_on=datetime.date.today(), method=Method.WORK_PRODUCT.value, context=Context.WORKPLACE.value))
    sections = _checklist(session, me(), None, None)
    return render_template("assessing/evidence_form.html", form=form, trainee=me(), sections=sections, choices=TRAINEE_CHOICES, evidence=None)


@bp.post("/my/evidence/new")
@allow(Role.TRAINEE)
def submit_evidence_post() -> Any:
    """Record the trainee's evidence, mapped but not judged."""
    session = db.session()

    def save(form: EvidenceForm, mappings: list[ops.MappingInput], stored: list[ops.AttachmentInput]) -> Evidence:
        return ops.record_evidence(session, me(), me(), _evidence_input(form), mappings, stored)

    return _submit(session, me(), None, save, "Evidence #{id} submitted: your assessor will review it.")


@bp.get("/evidence/<int:evidence_id>")
@allow(SIGNED_IN)
def evidence(evidence_id: int) -> str:
    """One piece of evidence: details, attachments, mappings and the history of every change."""
    session = db.session()
    item = access.evidence_or_404(session, me(), evidence_id)
    visible = set(session.scalars(access.visible_enrolments(me()).with_only_columns(Enrolment.id).where(Enrolment.trainee_id == item.trainee_id)))
    history = session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type == "evidence", AuditEvent.entity_id == str(item.id)).order_by(AuditEvent.seq)
    ).all()
    acknowledged = any(a.evidence_version == item.version for a in item.acknowledgements)
    return render_template(
        "assessing/evidence.html",
        evidence=item,
        mappings=[m for m in item.mappings if m.enrolment_id in visible],
        history=[(e, _changes(e)) for e in history],
        acknowledged=acknowledged,
        can_edit=_can_edit(session, item),
        labels={"verdict": VERDICT, "method": METHOD, "context": CONTEXT},
    )


@bp.get("/evidence/<int:evidence_id>/edit")
@allow(Role.ASSESSOR)
def edit_evidence(evidence_id: int) -> str:
    """The evidence form, filled in, with the version it was read at."""
    session = db.session()
    item = access.evidence_or_404(session, me(), evidence_id)
    if not _can_edit(session, item):
        abort(404)
    form = EvidenceForm(obj=item, method=item.method.value, context=item.context.value, version=item.version)
    return render_template("assessing/evidence_form.html", form=form, trainee=item.trainee, sections=_checklist(session, item.trainee, item, None), choices=CHOICES, evidence=item)


@bp.post("/evidence/<int:evidence_id>/edit")
@allow(Role.ASSESSOR)
def edit_evidence_post(evidence_id: int) -> Any:
    """Save changes, refused when someone else changed the evidence meanwhile or the unit is signed off."""
    session = db.session()
    item = access.evidence_or_404(session, me(), evidence_id)
    if not _can_edit(session, item):
        abort(404)

    def save(form: EvidenceForm, mappings: list[ops.MappingInput], stored: list[ops.AttachmentInput]) -> Evidence:
        if not (form.version.data or "").isdigit():
            raise ops.ChangedMeanwhile("evidence")
        # Mappings into enrolments this assessor does not assess are kept as they are.
        checklist = {m.enrolment_id for m in mappings} | set(_open_enrolment_ids(session, item.trainee))
        kept = [ops.MappingInput(m.enrolment_id, m.target, m.verdict, m.comment) for m in item.mappings if m.enrolment_id not in checklist]
        return ops.edit_evidence(session, me(), item, int(form.version.data), _evidence_input(form), kept + mappings, stored)

    return _submit(session, item.trainee, item, save, "Evidence #{id} saved.")


@bp.post("/evidence/<int:evidence_id>/acknowledge")
@allow(Role.TRAINEE)
def acknowledge(evidence_id: int) -> Response:
    """The trainee confirms that the evidence is an accurate account."""
    session = db.session()
    item = access.evidence_or_404(session, me(), evidence_id)
    ops.acknowledge(session, me(), item)
    flash("Thank you: your acknowledgement is recorded.", "success")
    return redirect(url_for("assessing.evidence", evidence_id=item.id))


@bp.get("/attachments/<int:attachment_id>")
@allow(SIGNED_IN)
def attachment(attachment_id: int) -> Response:
    """An attachment, as a download, only to those who may see its evidence."""
    item = access.attachment_or_404(db.session(), me(), attachment_id)
    path = stored_path(Path(current_app.config["UPLOAD_DIR"]), item.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=item.content_type, as_attachment=True, download_name=item.original_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- helpers ------------------------------------------------------------------------------------


def _submit(session: so.Session, trainee: User, evidence: Evidence | None, save: Any, done: str) -> Any:
    """Validate the evidence form, store its attachments and save; on refusal show the form again as typed."""
    by_trainee = current_user.role == Role.TRAINEE
    form = _trainee_form(EvidenceForm()) if by_trainee else EvidenceForm()
    choices = TRAINEE_CHOICES if by_trainee else CHOICES
    sections = _checklist(session, trainee, evidence, None)
    _read_checklist(sections, choices)

    def again(status: int = 400) -> tuple[str, int]:
        page = render_template("assessing/evidence_form.html", form=form, trainee=trainee, sections=sections, choices=choices, evidence=evidence)
        return page, status

    if not form.validate_on_submit():
        return again()
    stored = _store_attachments(form)
    if stored is None:
        return again()
    try:
        saved = save(form, _mapping_inputs(sections), stored)
    except ops.InvalidInput as exc:
        _discard(stored)
        _form_errors(form, exc.problems)
        return again()
    except ops.OperationError as exc:
        _discard(stored)
        form.form_errors.append(str(exc))
        return again(409)
    flash(done.format(id=saved.id), "success")
    return redirect(url_for("assessing.evidence", evidence_id=saved.id))


def _open_enrolment_ids(session: so.Session, trainee: User) -> list[int]:
    """The checklist's enrolments: the trainee's open ones that the signed-in assessor assesses, or the trainee's own."""
    query = sa.select(Enrolment.id).where(Enrolment.trainee_id == trainee.id, Enrolment.status.in_(OPEN)).order_by(Enrolment.id)
    if current_user.role != Role.TRAINEE:
        query = query.join(Enrolment.assessors).where(User.id == current_user.id)
    return list(session.scalars(query))


def _trainee_form(form: EvidenceForm) -> EvidenceForm:
    """A trainee submits work products, reports and prior learning; observations are the assessor's."""
    form.method.choices = [SelectChoice(m.value, METHOD[m]) for m in TRAINEE_METHODS]
    return form


def _assigned(enrolment: Enrolment) -> bool:
    return current_user.role == Role.ASSESSOR and any(a.id == current_user.id for a in enrolment.assessors)


def _can_edit(session: so.Session, item: Evidence) -> bool:
    if current_user.role != Role.ASSESSOR:
        return False
    if any(m.enrolment.status == EnrolmentStatus.COMPLETED for m in item.mappings):
        return False
    return session.scalar(
        sa.select(Enrolment.id).join(Enrolment.assessors).where(Enrolment.trainee_id == item.trainee_id, User.id == current_user.id).limit(1)
    ) is not None


def _checklist(session: so.Session, trainee: User, evidence: Evidence | None, preselect: tuple[int | None, str] | None) -> list[ChecklistSection]:
    """Every open enrolment of the trainee that the signed-in assessor assesses, with current choices."""
    ids = _open_enrolment_ids(session, trainee)
    enrolments = session.scalars(sa.select(Enrolment).where(Enrolment.id.in_(ids)).order_by(Enrolment.id)).all() if ids else []
    current = {(m.enrolment_id, m.target): m for m in (evidence.mappings if evidence else [])}
    sections = []
    for enrolment in enrolments:
        unit = ops.unit_of(enrolment.unit_version)
        section = ChecklistSection(enrolment, unit)

        def target(key: str, text: str, heading: str | None = None, enrolment_id: int = enrolment.id) -> ChecklistTarget:
            mapping = current.get((enrolment_id, key))
            choice = "" if mapping is None else (mapping.verdict.value if mapping.verdict else "mapped")
            if preselect == (enrolment_id, key):
                choice = Verdict.SATISFIED.value
            return ChecklistTarget(key, text, heading, choice, mapping.comment if mapping else "")

        for component in unit.components:
            section.groups.append(
                (f"{unit.component_label} {component.number}: {component.title}", [target(c.number, c.text) for c in component.criteria])
            )
        for group in unit.evidence_requirements:
            leaves = []
            for top in group.items:
                for item in top.walk():
                    if not item.items:
                        leaves.append(target(item.id, item.text, top.text if item is not top else None))
            section.groups.append((group.title, leaves))
        sections.append(section)
    return sections


def _read_checklist(sections: list[ChecklistSection], choices: dict[str, str]) -> None:
    """Take the submitted choices and comments into the checklist, so a refused form keeps them."""
    for section in sections:
        for _, targets in section.groups:
            for t in targets:
                name = f"{section.enrolment.id}-{t.key}"
                choice = request.form.get(f"v-{name}", "")
                t.choice = choice if choice in choices else ""
                t.comment = request.form.get(f"c-{name}", "").strip()[:2000]


def _mapping_inputs(sections: list[ChecklistSection]) -> list[ops.MappingInput]:
    mappings = []
    for section in sections:
        for _, targets in section.groups:
            for t in targets:
                if t.choice:
                    verdict = Verdict(t.choice) if t.choice in (Verdict.SATISFIED.value, Verdict.NOT_YET.value) else None
                    mappings.append(ops.MappingInput(section.enrolment.id, t.key, verdict, t.comment))
    return mappings


def _evidence_input(form: EvidenceForm) -> ops.EvidenceInput:
    return ops.EvidenceInput(Method(form.method.data), Context(form.context.data), form.observed_on.data, form.narrative.data, form.location.data or "")


def _store_attachments(form: EvidenceForm) -> list[ops.AttachmentInput] | None:
    """Check and store each uploaded file; on any refusal keep none and say why."""
    files = [f for f in (form.attachments.data or []) if f and f.filename]
    limit = current_app.config["ATTACHMENTS_PER_EVIDENCE"]
    if len(files) > limit:
        form.attachments.errors = [f"Attach at most {limit} files at a time."]
        return None
    stored: list[ops.AttachmentInput] = []
    for upload in files:
        try:
            stored.append(store_upload(upload.stream, upload.filename, Path(current_app.config["UPLOAD_DIR"]), current_app.config["ATTACHMENT_MAX_BYTES"]))
        except UploadRefused as exc:
            _discard(stored)
            form.attachments.errors = [exc.message, "Nothing was saved: choose the files again."]
            return None
    return stored


def _discard(stored: list[ops.AttachmentInput]) -> None:
    for item in stored:
        stored_path(Path(current_app.config["UPLOAD_DIR"]), item.stored_name).unlink(missing_ok=True)


def _form_errors(form: EvidenceForm, problems: dict[str, str]) -> None:
    for name, message in problems.items():
        field_ = getattr(form, name, None)
        if field_ is not None and hasattr(field_, "errors"):
            field_.errors = [*field_.errors, message]
        else:
            form.form_errors.append(message)


def _changes(event: AuditEvent) -> list[tuple[str, Any, Any]]:
    """What an audit event changed, field by field."""
    before, after = json.loads(event.before), json.loads(event.after)
    return [(key, before.get(key), after.get(key)) for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
