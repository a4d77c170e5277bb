"""The unit versions an enrolment can move to, and a cohort's enrolments that can move."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.domain import carry_over
from assessor.domain.vocabulary import OPEN
from assessor.models import Cohort, Enrolment, UnitVersion
from assessor.standards.queries import unit_of, usages


def successors(session: so.Session, earlier: UnitVersion) -> list[UnitVersion]:
    """Current loaded versions an enrolment in `earlier` can move to: later versions of its unit, and units whose
    mapping table says they supersede it; newest first."""
    unit = unit_of(earlier)
    # Only a file that names the unit can supersede it: the text is searched before any is parsed.
    text = sa.func.lower(UnitVersion.source_text)
    names = [text.contains(name.lower()) for name in {unit.id, unit.code} if name]
    same_unit = sa.and_(UnitVersion.unit_id == unit.id, UnitVersion.version > unit.version)
    mapped = sa.and_(UnitVersion.unit_id != unit.id, text.contains("supersedes"), sa.or_(*names))
    candidates = session.scalars(sa.select(UnitVersion).where(sa.or_(same_unit, mapped)))
    found = [v for v in candidates if carry_over.follows(unit_of(v), unit)]
    current = usages(session, found)
    return sorted((v for v in found if current[v.id].is_current), key=lambda v: (v.unit_id, -v.version))


def movable_versions(session: so.Session, cohort: Cohort) -> list[tuple[UnitVersion, int, list[UnitVersion]]]:
    """The unit versions the cohort has open enrolments in that a newer version has come for: each with how many
    open enrolments it has and the versions they can move to."""
    counts = session.execute(
        sa.select(Enrolment.unit_version_id, sa.func.count())
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(OPEN))
        .group_by(Enrolment.unit_version_id)
    ).all()
    found = []
    for version_id, count in counts:
        version = session.get_one(UnitVersion, version_id)
        if later := successors(session, version):
            found.append((version, count, later))
    return sorted(found, key=lambda row: (row[0].unit_id, row[0].version))


def moved_from(session: so.Session, enrolment: Enrolment) -> list[Enrolment]:
    """The earlier enrolments that moved to this one."""
    return list(session.scalars(sa.select(Enrolment).where(Enrolment.transferred_to_id == enrolment.id)))
