"""Loading unit versions into the database: new versions beside the old, never a changed text under a loaded one."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.domain.errors import StandardChanged
from assessor.domain.standards import Catalogue
from assessor.models import UnitVersion, User


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
