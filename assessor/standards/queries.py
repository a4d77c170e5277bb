"""The catalogue of unit standards, and a loaded unit version as the unit it was loaded from, parsed once from its
stored text."""

from __future__ import annotations

import functools

from flask import current_app

from assessor.domain.standards import Catalogue, Unit, parse_unit
from assessor.domain.vocabulary import TargetKind
from assessor.models import UnitVersion


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
