"""The catalogue of unit standards, and a loaded unit version as the unit it was loaded from, parsed once from its
stored text."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from assessor.domain.standards import Catalogue, Unit, Usage, parse_unit
from assessor.domain.vocabulary import TargetKind
from assessor.models import UnitStatus, UnitVersion


def catalogue() -> Catalogue:
    """The unit standards the running application serves, from its standards folder."""
    found: Catalogue = current_app.extensions["catalogue"]
    return found


@functools.lru_cache(maxsize=64)
def parse_stored(text: str) -> Unit:
    """A unit version's stored text as the unit, parsed once per text."""
    return parse_unit(text, "<stored unit>")


def unit_of(unit_version: UnitVersion) -> Unit:
    """The unit exactly as it was loaded, parsed from the text stored with the version."""
    return parse_stored(unit_version.source_text)


@functools.lru_cache(maxsize=64)
def _kinds_for(text: str) -> dict[str, TargetKind]:
    unit = parse_stored(text)
    kinds = {c.number: TargetKind.CRITERION for c in unit.criteria()}
    kinds.update({i.id: TargetKind.ITEM for i in unit.assessable_items()})
    return kinds


def targets_of(unit_version: UnitVersion) -> dict[str, TargetKind]:
    """Every criterion number and assessable evidence item id of a unit version, in order, with its kind."""
    return _kinds_for(unit_version.source_text)


def usages(session: so.Session, versions: Iterable[UnitVersion]) -> dict[int, Usage]:
    """Each unit version's status now, by id: its latest change since loading, or the status its text was loaded
    with. One statement for any number of versions."""
    versions = list(versions)
    latest = (
        sa.select(UnitStatus)
        .where(UnitStatus.unit_version_id.in_([v.id for v in versions]))
        .order_by(UnitStatus.unit_version_id, UnitStatus.id)
    )
    changed = {row.unit_version_id: Usage(row.status, row.since, row.replaced_by) for row in session.scalars(latest)}
    return {v.id: changed.get(v.id) or unit_of(v).usage for v in versions}


def usage_of(session: so.Session, unit_version: UnitVersion) -> Usage:
    """One unit version's status now."""
    return usages(session, [unit_version])[unit_version.id]


def status_history(session: so.Session, unit_version: UnitVersion) -> list[UnitStatus]:
    """Every change to a unit version's status since it was loaded, oldest first."""
    query = sa.select(UnitStatus).where(UnitStatus.unit_version_id == unit_version.id).order_by(UnitStatus.id)
    return list(session.scalars(query))


def loaded_version(session: so.Session, unit_id: str, version: int) -> UnitVersion | None:
    """A unit version as loaded into the database, which every page reads: a version loaded by any process shows at
    once, everywhere."""
    return session.scalar(sa.select(UnitVersion).where(UnitVersion.unit_id == unit_id, UnitVersion.version == version))


def versions_of(session: so.Session, unit_id: str) -> list[UnitVersion]:
    """Every loaded version of one unit, oldest first."""
    query = sa.select(UnitVersion).where(UnitVersion.unit_id == unit_id).order_by(UnitVersion.version)
    return list(session.scalars(query))


def latest_units(session: so.Session) -> list[tuple[UnitVersion, Unit]]:
    """The latest loaded version of each unit, by title."""
    newest = (
        sa.select(UnitVersion.unit_id, sa.func.max(UnitVersion.version).label("version"))
        .group_by(UnitVersion.unit_id)
        .subquery()
    )
    query = sa.select(UnitVersion).join(
        newest, sa.and_(UnitVersion.unit_id == newest.c.unit_id, UnitVersion.version == newest.c.version)
    )
    versions = [(v, unit_of(v)) for v in session.scalars(query)]
    return sorted(versions, key=lambda pair: pair[1].title.casefold())
