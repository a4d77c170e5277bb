"""Jobs as lists."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.models import Job


def latest_jobs(session: so.Session, before: int | None, count: int) -> list[Job]:
    """The latest jobs, newest first, `count` of them before the job numbered `before` (keyset paging)."""
    query = sa.select(Job).options(so.joinedload(Job.owner)).order_by(Job.id.desc()).limit(count)
    if before is not None:
        query = query.where(Job.id < before)
    return list(session.scalars(query))
