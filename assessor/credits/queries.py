"""The credits a trainee holds toward a unit's prerequisites."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.domain.standards import Unit
from assessor.models import Credit


def credits_for(session: so.Session, trainee_id: int, unit: Unit) -> list[Credit]:
    """The trainee's credits, standing and withdrawn, for any of the unit's prerequisites, oldest first."""
    if not unit.prerequisites:
        return []
    names = {p.unit.casefold() for p in unit.prerequisites}
    found = session.scalars(sa.select(Credit).where(Credit.trainee_id == trainee_id).order_by(Credit.id))
    return [c for c in found if c.unit.casefold() in names]
