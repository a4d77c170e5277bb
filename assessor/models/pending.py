"""Rows an import is still writing: hidden from every query but that import's own until the import is done.

An import writes its trainees, cohorts and enrolments in batches, each a short transaction of its own (so that others
get the write lock between them), every row marked with the import's id in `pending_import_id`. The transaction that
finishes the import clears the mark; an import that fails removes its rows. Until then no page, list, export, check or
job sees them, nor can anyone record anything against them: every ORM query of every session leaves them out, unless
the session was told otherwise with `sees`. Statements on the bare association tables and raw SQL are not filtered;
the rows they could reach are reached only through the hidden ones.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.models.accounts import User
from assessor.models.enrolments import Cohort, Enrolment

SEES = "assessor.sees_pending_imports"  # session.info: EVERY_IMPORT, or the id of the one import this session sees
EVERY_IMPORT = "every import"
MARKED = (User, Cohort, Enrolment)


def sees(session: so.Session, import_id: int | None = None) -> so.Session:
    """Make the session the import `import_id`'s: it sees that import's rows, and the accounts, cohorts and enrolments
    it adds are that import's. With None it sees the rows of every import and marks nothing (to check the audit trail
    against the database, which holds them)."""
    session.info[SEES] = EVERY_IMPORT if import_id is None else import_id
    return session


@functools.lru_cache(maxsize=64)
def _criteria(seen: int | None) -> tuple[Any, ...]:
    """The options that hide the rows of imports under way, but those of `seen`; made once (they are costly to make,
    and every query of the application takes them)."""
    if seen is not None:
        return tuple(
            so.with_loader_criteria(
                model,
                sa.or_(model.pending_import_id.is_(None), model.pending_import_id == seen),
                include_aliases=True,
            )
            for model in MARKED
        )
    return tuple(
        so.with_loader_criteria(model, model.pending_import_id.is_(None), include_aliases=True) for model in MARKED
    )


@sa.event.listens_for(so.Session, "before_flush")
def _mark_what_an_import_adds(session: so.Session, _context: Any, _instances: Any) -> None:
    import_id = session.info.get(SEES)
    if isinstance(import_id, int):
        for row in session.new:
            if isinstance(row, MARKED):
                row.pending_import_id = import_id


@sa.event.listens_for(so.Session, "do_orm_execute")
def _hide_pending_imports(state: so.ORMExecuteState) -> None:
    # Loads of a relationship or of expired columns carry the criteria of the query that loaded their object.
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    seen = state.session.info.get(SEES)
    if seen == EVERY_IMPORT:
        return
    state.statement = state.statement.options(*_criteria(seen if isinstance(seen, int) else None))
