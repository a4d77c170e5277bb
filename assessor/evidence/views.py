"""Recording, editing and reading evidence, acknowledging it, and downloading its attachments."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from assessor.core import database as db
from assessor.core.access import (
    SIGNED_IN,
    Permissions,
    allow,
    attachment_for,
    evidence_for,
    me,
    trainee_to_assess,
    visible_mappings,
)
from assessor.core.forms import show_problems
from assessor.core.urls import record_id
from assessor.domain import limits
from assessor.domain.errors import ChangedMeanwhile, Erased, InvalidInput, NotFound, OperationError
from assessor.domain.vocabulary import Context, Method, Role
from assessor.evidence.attachments import UploadRefused, store_upload, stored_path
from assessor.evidence.forms import (
    CHOICES,
    MAPPED,
    TRAINEE_CHOICES,
    ChecklistSection,
    DimensionField,
    EvidenceForm,
    checklist,
    dimension_fields,
    mapping_inputs,
    read_checklist,
    read_dimensions,
    seen_versions,
    show_meanwhile,
    show_target_problems,
)
from assessor.evidence.held import hold, unhold
from assessor.evidence.operations import (
    AttachmentInput,
    MappingInput,
    acknowledge,
    edit_evidence,
    record_evidence,
)
from assessor.evidence.queries import checklist_enrolments, history_of, target_statuses
from assessor.models import Evidence, User

bp = Blueprint("evidence", __name__, template_folder="templates")

MEANWHILE = (
    "Someone else saved this evidence while you were working on it. What they saved is shown beside yours, which is "
    "still in the form: nothing was saved. Save again to keep yours, or change it first."
)


def _checklist(
    trainee: User, evidence: Evidence | None, preselect: tuple[int | None, str] | None = None
) -> list[ChecklistSection]:
    """The checklist of the trainee's enrolments the user may map into, with where each target stands."""
    session = db.session()
    enrolments = checklist_enrolments(session, me(), trainee)
    return checklist(enrolments, evidence, preselect, target_statuses(session, enrolments))


Save = Callable[[EvidenceForm, list[ChecklistSection], list[AttachmentInput]], Evidence]


@bp.get("/trainees/<int:trainee_id>/evidence/new")
@allow(Role.ASSESSOR)
def new_evidence(trainee_id: int) -> str:
    """The record-evidence form: details, attachments and a checklist of every open criterion and item."""
    session = db.session()
    trainee = trainee_to_assess(session, me(), trainee_id)
    form = EvidenceForm(observed_on=datetime.date.today(), context=Context.WORKPLACE.value).fresh()
    preselect = request.args.get("enrolment", type=record_id), request.args.get("target", "")
    sections = _checklist(trainee, None, preselect)
    return _page(form, trainee, sections, CHOICES, None)


@bp.post("/trainees/<int:trainee_id>/evidence/new")
@allow(Role.ASSESSOR)
def new_evidence_post(trainee_id: int) -> Any:
    """Record the evidence with its mappings and judgements in one go."""
    session = db.session()
    trainee = trainee_to_assess(session, me(), trainee_id)

    def save(form: EvidenceForm, sections: list[ChecklistSection], stored: list[AttachmentInput]) -> Evidence:
        inputs = form.evidence_input(), mapping_inputs(sections), stored
        return record_evidence(session, me(), trainee, *inputs, submission=form.submission.data or None)

    return _submit(trainee, None, save, "Evidence #{id} recorded.")


@bp.get("/my/evidence/new")
@allow(Role.TRAINEE)
def submit_evidence() -> str:
    """The trainee's own evidence: a work product or reflection, waiting for an assessor to review and judge it."""
    today = datetime.date.today()
    form = EvidenceForm(observed_on=today, method=Method.WORK_PRODUCT.value, context=Context.WORKPLACE.value).fresh()
    sections = _checklist(me(), None)
    return _page(form.for_trainee(), me(), sections, TRAINEE_CHOICES, None)


@bp.post("/my/evidence/new")
@allow(Role.TRAINEE)
def submit_evidence_post() -> Any:
    """Record the trainee's evidence, mapped but not judged."""

    def save(form: EvidenceForm, sections: list[ChecklistSection], stored: list[AttachmentInput]) -> Evidence:
        inputs = form.evidence_input(), mapping_inputs(sections), stored
        return record_evidence(db.session(), me(), me(), *inputs, submission=form.submission.data or None)

    return _submit(me(), None, save, "Evidence #{id} submitted: your assessor will review it.")


@bp.get("/evidence/<int:evidence_id>")
@allow(SIGNED_IN)
def evidence(evidence_id: int) -> str:
    """One piece of evidence: details, attachments, mappings and the history of every change."""
    session = db.session()
    item = evidence_for(session, me(), evidence_id)
    return render_template(
        "evidence/evidence.html",
        evidence=item,
        mappings=visible_mappings(me(), item),
        history=history_of(session, item, me()),
        acknowledged=any(a.evidence_version == item.version for a in item.acknowledgements),
    )


@bp.get("/evidence/<int:evidence_id>/edit", endpoint="edit_evidence")
@allow(Role.ASSESSOR)
def edit_evidence_form(evidence_id: int) -> str:
    """The evidence form, filled in, with the version it was read at."""
    item = _editable(evidence_id)
    form = EvidenceForm(obj=item, method=item.method.value, context=item.context.value, version=item.version)
    sections = _checklist(item.trainee, item)
    return _page(form, item.trainee, sections, CHOICES, item)


@bp.post("/evidence/<int:evidence_id>/edit")
@allow(Role.ASSESSOR)
def edit_evidence_post(evidence_id: int) -> Any:
    """Save changes, refused when someone else changed the evidence meanwhile or the unit is signed off."""
    item = _editable(evidence_id)

    def save(form: EvidenceForm, sections: list[ChecklistSection], stored: list[AttachmentInput]) -> Evidence:
        if not (form.version.data or "").isdigit():
            raise ChangedMeanwhile("evidence")
        # Mappings into enrolments outside this assessor's checklist are kept as they are.
        offered = {e.id for e in checklist_enrolments(db.session(), me(), item.trainee)}
        kept = [
            MappingInput(m.enrolment_id, m.target, m.verdict, m.comment)
            for m in item.mappings
            if m.enrolment_id not in offered
        ]
        mappings = kept + mapping_inputs(sections)
        version = int(form.version.data)
        seen = seen_versions(sections)
        return edit_evidence(db.session(), me(), item, version, form.evidence_input(), mappings, stored, seen=seen)

    return _submit(item.trainee, item, save, "Evidence #{id} saved.")


@bp.post("/evidence/<int:evidence_id>/acknowledge", endpoint="acknowledge")
@allow(Role.TRAINEE)
def acknowledge_post(evidence_id: int) -> Response:
    """The trainee confirms that the evidence is an accurate account."""
    session = db.session()
    item = evidence_for(session, me(), evidence_id)
    acknowledge(session, me(), item)
    flash("Thank you: your acknowledgement is recorded.", "success")
    return redirect(url_for("evidence.evidence", evidence_id=item.id))


@bp.get("/attachments/<int:attachment_id>")
@allow(SIGNED_IN)
def attachment(attachment_id: int) -> Response:
    """An attachment, as a download, only to those who may see its evidence."""
    item = attachment_for(db.session(), me(), attachment_id)
    if item.erased_on is not None:
        raise Erased(f"This file was erased on {item.erased_on.isoformat()} ({item.evidence.erased_because}).")
    path = stored_path(Path(current_app.config["UPLOAD_DIR"]), item.stored_name)
    if not path.is_file():
        raise NotFound("attachment file")
    response = send_file(
        path, mimetype=item.content_type, as_attachment=True, download_name=item.original_name, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- helpers ------------------------------------------------------------------------------------


def _editable(evidence_id: int) -> Evidence:
    """Evidence the signed-in assessor may edit; as not found to anyone who may not."""
    item = evidence_for(db.session(), me(), evidence_id)
    if not Permissions(me()).edit_evidence(item):
        raise NotFound("evidence")
    return item


def _page(
    form: EvidenceForm,
    trainee: User,
    sections: list[ChecklistSection],
    choices: dict[str, str],
    evidence: Evidence | None,
    details_meanwhile: bool = False,
    held: list[AttachmentInput] | None = None,
    dimensions: list[DimensionField] | None = None,
) -> str:
    return render_template(
        "evidence/form.html",
        form=form,
        trainee=trainee,
        sections=sections,
        choices=choices,
        judging=choices is CHOICES,
        comment_limit=limits.COMMENT,
        MAPPED=MAPPED,
        evidence=evidence,
        details_meanwhile=details_meanwhile,
        met=sum(t.met for s in sections for _, group in s.groups for t in group),
        held=held or [],
        held_token=hold(held or [], me().id),
        dimensions=dimension_fields(sections, evidence) if dimensions is None else dimensions,
    )


def _submit(trainee: User, evidence: Evidence | None, save: Save, done: str) -> Any:
    """Store the form's attachments, validate it and save; on refusal keep nothing but the attachments, which the form
    shown again holds for the next try (the files of a refused upload excepted: they are never stored)."""
    by_trainee = me().role == Role.TRAINEE
    form = EvidenceForm().for_trainee() if by_trainee else EvidenceForm()
    choices = TRAINEE_CHOICES if by_trainee else CHOICES
    sections = _checklist(trainee, evidence)
    read_checklist(sections, choices)
    dimensions = dimension_fields(sections, evidence)
    form.values = read_dimensions(dimensions)
    if evidence is not None and evidence.dimensions:  # values for units outside this user's checklist stay
        shown = {d.id for d in dimensions}
        kept = {k: (v["value"], tuple(v.get("kinds") or ())) for k, v in evidence.dimensions.items() if k not in shown}
        form.values = {**kept, **form.values}
    held = [] if request.form.get("drop_held") else unhold(request.form.get("held", ""), me().id)
    new = store_attachments(form, len(held))
    attachments = held + (new or [])

    def again(status: int = 400) -> tuple[str, int]:
        db.keep_nothing()
        return _page(form, trainee, sections, choices, evidence, held=attachments, dimensions=dimensions), status

    if new is None or not form.validate_on_submit():
        return again()
    try:
        saved = save(form, sections, attachments)
    except InvalidInput as exc:
        show_problems(form, show_target_problems(sections, exc.problems))
        return again()
    except ChangedMeanwhile as exc:
        if evidence is None:
            raise
        db.keep_nothing()  # then what the others saved is read afresh
        show_meanwhile(sections, evidence, exc.targets)
        form.version.data = str(evidence.version)
        form.form_errors.append(MEANWHILE)
        meanwhile = exc.what == "evidence"
        page = _page(form, trainee, sections, choices, evidence, meanwhile, held=attachments, dimensions=dimensions)
        return page, 409
    except OperationError as exc:
        form.form_errors.append(str(exc))
        return again(409)
    # The same form sent again returns the evidence the first sending recorded: this sending's copies of its files
    # belong to nothing.
    attached = {a.stored_name for a in saved.attachments}
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    for item in attachments:
        if item.stored_name not in attached:
            stored_path(upload_dir, item.stored_name).unlink(missing_ok=True)
    flash(done.format(id=saved.id), "success")
    return redirect(url_for("evidence.evidence", evidence_id=saved.id))


def store_attachments(form: EvidenceForm, already: int) -> list[AttachmentInput] | None:
    """Check and store each uploaded file (beside `already` held from the last try); on any refusal remove what this
    request stored and say why."""
    files = [f for f in (form.attachments.data or []) if f and f.filename]
    limit = current_app.config["ATTACHMENTS_PER_EVIDENCE"]
    if len(files) + already > limit:
        form.attachments.errors = [f"Attach at most {limit} files at a time."]
        return None
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    stored: list[AttachmentInput] = []
    for upload in files:
        try:
            item = store_upload(upload.stream, upload.filename, upload_dir, current_app.config["ATTACHMENT_MAX_BYTES"])
        except UploadRefused as exc:
            for earlier in stored:
                stored_path(upload_dir, earlier.stored_name).unlink(missing_ok=True)
            form.attachments.errors = [exc.message, "Nothing was saved: choose the files again."]
            return None
        stored.append(item)
    return stored
