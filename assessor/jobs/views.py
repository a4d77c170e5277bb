"""Jobs: what the worker is doing for you, and for administrators every job with its errors."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from assessor.core import database as db
from assessor.core.access import SIGNED_IN, allow, job_for, me
from assessor.core.jobs import queue_of, title_of
from assessor.domain.vocabulary import JobStatus, Role
from assessor.jobs import handlers  # noqa: F401  (registers this feature's kinds of job)
from assessor.jobs.operations import ask_for_audit_check, send_again
from assessor.jobs.queries import latest_jobs

bp = Blueprint("jobs", __name__, template_folder="templates")

PER_PAGE = 50


@bp.get("/jobs")
@allow(Role.ADMIN)
def jobs() -> str:
    """Every job, newest first, failures with their errors."""
    before = request.args.get("before", type=int)
    found = latest_jobs(db.session(), before, PER_PAGE + 1)
    return render_template(
        "jobs/list.html",
        jobs=found[:PER_PAGE],
        more=found[PER_PAGE].id + 1 if len(found) > PER_PAGE else None,
        title_of=title_of,
    )


@bp.post("/jobs/audit-check", endpoint="audit_check")
@allow(Role.ADMIN)
def audit_check_post() -> Response:
    """Ask the worker to check the whole audit trail."""
    job = ask_for_audit_check(db.session(), me())
    flash("The worker will check the audit trail; this page shows how far it is.", "success")
    return redirect(url_for("jobs.job", job_id=job.id))


@bp.get("/jobs/<int:job_id>")
@allow(SIGNED_IN)
def job(job_id: int) -> str:
    """One job: how far it is, and its result once done."""
    item = job_for(db.session(), me(), job_id)
    working = item.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    return render_template("jobs/job.html", job=item, title=title_of(item.kind), working=working)


@bp.post("/jobs/<int:job_id>/again", endpoint="again")
@allow(Role.ADMIN)
def again_post(job_id: int) -> Response:
    """Send a failed job again."""
    item = job_for(db.session(), me(), job_id)
    send_again(db.session(), me(), item, queue_of(current_app))
    flash(f"Job {item.id} sent to the worker again.", "success")
    return redirect(url_for("jobs.job", job_id=item.id))
