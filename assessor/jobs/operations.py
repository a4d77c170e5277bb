"""What administrators do with jobs: ask the worker to check the audit trail, send a failed job again."""

from __future__ import annotations

import sqlalchemy.orm as so

from assessor.core import jobs
from assessor.core.access import actor, require
from assessor.domain import policy
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import JobStatus
from assessor.jobs.handlers import AUDIT_CHECK
from assessor.models import Job, User

ONLY_ADMINS = "Only an administrator manages the worker's jobs."


def ask_for_audit_check(session: so.Session, user: User) -> Job:
    """Queue a check of the whole audit trail."""
    require(policy.may_manage_jobs(actor(user)), ONLY_ADMINS)
    return jobs.enqueue(session, user, AUDIT_CHECK, {})


def send_again(session: so.Session, user: User, job: Job, queue: jobs.Queue) -> Job:
    """Send a failed job to the worker again, its attempts counted afresh."""
    require(policy.may_manage_jobs(actor(user)), ONLY_ADMINS)
    if job.status != JobStatus.FAILED:
        raise InvalidInput({"job": "Only a failed job is sent again."})
    queue.send_again(session, job)
    return job
