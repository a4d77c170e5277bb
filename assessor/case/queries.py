"""The unit versions this site publishes as CASE packages: every loaded version the policy lets the reader see, with
its status now and when the site last changed it."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.access import unit_facts
from assessor.domain import case, policy
from assessor.domain.standards import Catalogue
from assessor.models import UnitStatus, UnitVersion
from assessor.models.columns import as_utc
from assessor.standards.queries import unit_of, usages


def readable_versions(session: so.Session, actor: policy.Actor | None) -> list[case.PublishedVersion]:
    """Every unit version the actor (None: anyone, signed in or not) may read, by catalogue id and version. Packages
    are made from these alone, so an association never names a version the reader may not see. Three statements,
    however many versions."""
    loaded = session.scalars(sa.select(UnitVersion).order_by(UnitVersion.unit_id, UnitVersion.version))
    readable = [v for v in loaded if policy.may_read_unit(actor, unit_facts(v))]
    status = usages(session, readable)
    last_change = sa.select(UnitStatus.unit_version_id, sa.func.max(UnitStatus.changed_at)).group_by(
        UnitStatus.unit_version_id
    )
    changed = {version_id: as_utc(at) for version_id, at in session.execute(last_change)}
    return [
        case.PublishedVersion(
            unit_of(v), status[v.id], max(as_utc(v.loaded_at), changed.get(v.id, as_utc(v.loaded_at)))
        )
        for v in readable
    ]


def find_version(
    published: list[case.PublishedVersion], id_or_code: str, version: int | None = None
) -> case.PublishedVersion | None:
    """A published unit version by catalogue id or publisher's code; its latest version when none is named."""
    unit = Catalogue(tuple(p.unit for p in published)).find(id_or_code, version)
    return next((p for p in published if p.unit is unit), None)


def holding(published: list[case.PublishedVersion], identifier: str) -> case.PublishedVersion | None:
    """The published version whose document or items have this identifier."""
    return next((p for p in published if identifier in case.identifiers(p)), None)
