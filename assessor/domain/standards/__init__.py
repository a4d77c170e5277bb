"""Unit standards: the format's schema, the loader that reports every problem, and the catalogue of loaded versions."""

from assessor.domain.standards.catalogue import Catalogue, load_catalogue
from assessor.domain.standards.units import (
    Component,
    Criterion,
    Definition,
    EvidenceGroup,
    EvidenceItem,
    GuidanceNote,
    Prerequisite,
    Problem,
    Results,
    Rules,
    SectionNames,
    StandardsError,
    Unit,
    Usage,
    load_unit,
    normalise,
    parse_unit,
)

__all__ = [
    "Catalogue",
    "Component",
    "Criterion",
    "Definition",
    "EvidenceGroup",
    "EvidenceItem",
    "GuidanceNote",
    "Prerequisite",
    "Problem",
    "Results",
    "Rules",
    "SectionNames",
    "StandardsError",
    "Unit",
    "Usage",
    "load_catalogue",
    "load_unit",
    "normalise",
    "parse_unit",
]
