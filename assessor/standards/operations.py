"""Loading unit versions into the database: new versions beside the old, never a changed text under a loaded one."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require
from assessor.domain import limits, policy
from assessor.domain.errors import InvalidInput, StandardChanged
from assessor.domain.standards import Catalogue, Unit, Usage, parse_unit, schema
from assessor.models import UnitStatus, UnitVersion, User
from assessor.standards.queries import usage_of, versions_of


def register_units(session: so.Session, catalogue: Catalogue, actor: User | None = None) -> list[UnitVersion]:
    """Load new unit versions from the catalogue; refuse any whose text changed under a loaded version."""
    existing = {(v.unit_id, v.version): v for v in session.scalars(sa.select(UnitVersion))}
    changed = [
        u.key
        for u in catalogue.units
        if (u.id, u.version) in existing and existing[u.id, u.version].source_sha256 != u.source_sha256
    ]
    if changed:
        raise StandardChanged(
            f"The text of {', '.join(changed)} differs from the text already loaded under the same version. "
            "Loaded versions never change: raise the version number in the file to load the new text beside the old."
        )
    added = []
    for unit in catalogue.units:
        if (unit.id, unit.version) in existing:
            continue
        version = UnitVersion(
            unit_id=unit.id,
            version=unit.version,
            code=unit.code,
            title=unit.title,
            framework=unit.framework,
            source_sha256=unit.source_sha256,
            source_text=unit.source_text,
        )
        session.add(version)
        session.flush()
        after = {"unit": unit.key, "sha256": unit.source_sha256}
        audit.record(session, actor, "unit_version.load", "unit_version", version.id, None, after)
        added.append(version)
    return added


@dataclass(frozen=True)
class Preview:
    """What loading a unit file would do: add a new unit, add a version beside the loaded ones, nothing (that text is
    loaded already), or be refused (a loaded version's text would change)."""

    unit: Unit
    loaded: list[UnitVersion]  # the unit's versions already loaded, oldest first

    @property
    def already(self) -> bool:
        return any(v.version == self.unit.version and v.source_sha256 == self.unit.source_sha256 for v in self.loaded)

    @property
    def changed(self) -> bool:
        return any(v.version == self.unit.version and v.source_sha256 != self.unit.source_sha256 for v in self.loaded)


def preview_unit(session: so.Session, actor: User, text: bytes, name: str) -> Preview:
    """Check an uploaded unit file with the same loader as the standards folder (StandardsError lists every problem
    with its line) and say what loading it would do; nothing is written."""
    require(policy.may_load_standards(actor_of(actor)), "Only an administrator loads unit standards.")
    unit = parse_unit(text, name)
    return Preview(unit, versions_of(session, unit.id))


def load_uploaded(session: so.Session, actor: User, text: bytes, name: str) -> UnitVersion:
    """Load an uploaded unit file as a new version, audited; the same text loaded again returns the loaded version, and
    a changed text under a loaded version is refused."""
    found = preview_unit(session, actor, text, name)
    if found.already:
        return next(v for v in found.loaded if v.version == found.unit.version)
    (added,) = register_units(session, Catalogue((found.unit,)), actor)
    return added


def set_status(session: so.Session, actor: User, unit_version: UnitVersion, wanted: Usage) -> UnitStatus:
    """Change a unit version's status (superseded by another unit since a date, deleted, current again) without
    touching its frozen text or hash: appended to its history and audited. A superseded or deleted version takes no
    new enrolments, only those begun before the date (an administrator's carry-over)."""
    require(policy.may_load_standards(actor_of(actor)), "Only an administrator changes a unit's status.")
    problems = {}
    if wanted.status not in schema.USAGE_STATUSES:
        problems["status"] = f"Choose one of: {', '.join(schema.USAGE_STATUSES)}."
    elif wanted.status == "current":
        wanted = Usage("current")  # a current unit has no date and no replacement
    elif wanted.since is None:
        problems["since"] = f"Give the date it was {wanted.status}."
    problems.update(limits.too_long({"replaced_by": (wanted.replaced_by or "", limits.NAME)}))
    before = usage_of(session, unit_version)
    if not problems and before == wanted:
        problems["status"] = "That is its status already."
    if problems:
        raise InvalidInput(problems)
    change = UnitStatus(
        unit_version_id=unit_version.id,
        status=wanted.status,
        since=wanted.since,
        replaced_by=wanted.replaced_by or None,
        changed_by_id=actor.id,
    )
    session.add(change)
    session.flush()
    audit.record(session, actor, "unit_version.status", "unit_version", unit_version.id, _state(before), _state(wanted))
    return change


def _state(usage: Usage) -> dict[str, object]:
    return {
        "status": usage.status,
        "since": usage.since.isoformat() if usage.since else None,
        "replaced_by": usage.replaced_by,
    }
