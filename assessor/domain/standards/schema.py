"""The shape of a unit standard file, declared once: the loader checks it and the JSON Schema is made from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

CONTEXTS = ("workplace", "simulated_workplace", "off_the_job")
FRAMEWORKS = ("NZQA", "training.gov.au", "other")
USAGE_STATUSES = ("current", "superseded", "deleted")
COMPONENT_LABELS = ("Outcome", "Element")
NOTE_TOPICS = ("general", "legislation", "definitions")
EVIDENCE_KINDS = ("performance", "knowledge")
EQUIVALENCE = ("equivalent", "not_equivalent")
# How one criterion or evidence item of the superseded unit became this one's: the same, reworded or re-scoped, new
# in this unit, or gone from it.
CHANGES = ("unchanged", "changed", "new", "removed")


@dataclass(frozen=True)
class Text:
    """A non-empty string; paragraphs may be separated by blank lines."""

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"\S"}


@dataclass(frozen=True)
class Pattern:
    """A string matching a regular expression."""

    regex: str
    description: str

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.regex, value) is not None

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": f"^(?:{self.regex})$", "description": self.description}


@dataclass(frozen=True)
class Integer:
    """A whole number no smaller than `minimum`."""

    minimum: int

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum}


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of strings."""

    choices: tuple[str, ...]

    def json_schema(self) -> dict[str, Any]:
        return {"enum": list(self.choices)}


@dataclass(frozen=True)
class Date:
    """A calendar date written as YYYY-MM-DD."""

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


@dataclass(frozen=True)
class ListOf:
    """A list whose entries all have the same shape."""

    item: Spec
    min_items: int = 0

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema


@dataclass(frozen=True)
class Mapping:
    """A mapping with known keys; any other key is an error."""

    name: str
    fields: dict[str, Spec]
    required: frozenset[str] = field(default_factory=frozenset)

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "title": self.name,
            "properties": {key: spec.json_schema() for key, spec in self.fields.items()},
            "required": [key for key in self.fields if key in self.required],
            "additionalProperties": False,
        }


@dataclass(frozen=True)
class Recursive:
    """A reference to a mapping that contains itself (nested evidence items)."""

    name: str

    def json_schema(self) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{self.name}"}


Spec = Text | Pattern | Integer | Choice | Date | ListOf | Mapping | Recursive

UNIT_ID = Pattern(r"[a-z][a-z0-9_]*", "lower case letters, digits and underscores, starting with a letter")
NUMBER = Pattern(r"[0-9]+(\.[0-9]+)*", 'a quoted number such as "1" or "2.10"')
ITEM_ID = Pattern(r"[A-Za-z][A-Za-z0-9]*(\.[0-9]+)*", "letters and digits, such as PE1 or KE16.2")
RANGE = ListOf(Text())
OCCASIONS = Integer(1)
DIMENSION_ID = Pattern(r"[a-z][a-z0-9_]*", "lower case letters, digits and underscores, starting with a letter")
QUOTA = ListOf(Mapping("quota", {"kind": Text(), "at_least": Integer(1)}, frozenset({"kind", "at_least"})), 1)

CRITERION = Mapping(
    "criterion",
    {
        "number": NUMBER,
        "text": Text(),
        "range": RANGE,
        "occasions": OCCASIONS,
        "distinct": DIMENSION_ID,
        "quota": QUOTA,
    },
    frozenset({"number", "text"}),
)
COMPONENT = Mapping(
    "component",
    {"number": NUMBER, "title": Text(), "range": RANGE, "criteria": ListOf(CRITERION, 1)},
    frozenset({"number", "title", "criteria"}),
)
DEFINITION = Mapping("definition", {"term": Text(), "text": Text()}, frozenset({"term", "text"}))
GUIDANCE_NOTE = Mapping(
    "guidance note",
    {
        "number": NUMBER,
        "topic": Choice(NOTE_TOPICS),
        "title": Text(),
        "text": Text(),
        "items": ListOf(Text(), 1),
        "closing": Text(),
        "definitions": ListOf(DEFINITION, 1),
    },
    frozenset({"number"}),
)
EVIDENCE_ITEM = Mapping(
    "evidence item",
    {
        "id": ITEM_ID,
        "text": Text(),
        "occasions": OCCASIONS,
        "distinct": DIMENSION_ID,
        "quota": QUOTA,
        "items": ListOf(Recursive("evidence_item"), 1),
    },
    frozenset({"id", "text"}),
)
EVIDENCE_GROUP = Mapping(
    "evidence requirement",
    {
        "id": ITEM_ID,
        "kind": Choice(EVIDENCE_KINDS),
        "title": Text(),
        "text": Text(),
        "items": ListOf(EVIDENCE_ITEM, 1),
    },
    frozenset({"id", "kind", "title", "items"}),
)
SECTION_NAMES = Mapping(
    "section names",
    {"purpose": Text(), "criteria": Text(), "guidance": Text()},
)
FOUNDATION_SKILL = Mapping(
    "foundation skill", {"skill": Text(), "description": Text()}, frozenset({"skill", "description"})
)
PREREQUISITE = Mapping("prerequisite", {"unit": Text(), "title": Text()}, frozenset({"unit"}))
TARGET_CHANGE = Mapping(
    "criterion mapping",
    {"from": Text(), "to": Text(), "change": Choice(CHANGES), "note": Text()},
    frozenset({"change"}),
)
SUPERSEDES = Mapping(
    "superseded unit",
    {
        "unit": Text(),
        "version": Integer(1),
        "title": Text(),
        "equivalence": Choice(EQUIVALENCE),
        "note": Text(),
        "criteria": ListOf(TARGET_CHANGE, 1),
    },
    frozenset({"unit", "equivalence"}),
)
DIMENSION = Mapping(
    "dimension",
    {"id": DIMENSION_ID, "label": Text(), "kinds": ListOf(Text(), 1)},
    frozenset({"id", "label"}),
)
LOGBOOK = Mapping("logbook", {"hours": Integer(1), "context": Text()}, frozenset({"hours", "context"}))
RANGE_CONDITION = Mapping(
    "range condition",
    {"term": Text(), "text": Text(), "items": ListOf(Text(), 1)},
    frozenset({"term", "items"}),
)
RESULTS = Mapping("results", {"achieved": Text(), "not_achieved": Text()}, frozenset({"achieved", "not_achieved"}))
USAGE = Mapping(
    "usage",
    {"status": Choice(USAGE_STATUSES), "since": Date(), "replaced_by": Text()},
    frozenset({"status"}),
)
RULES = Mapping(
    "rules",
    {"accepted_contexts": ListOf(Choice(CONTEXTS), 1), "basis": Text(), "occasions": OCCASIONS},
)
UNIT = Mapping(
    "unit",
    {
        "id": UNIT_ID,
        "version": Integer(1),
        "framework": Choice(FRAMEWORKS),
        "code": Text(),
        "publisher_version": Text(),
        "title": Text(),
        "level": Integer(1),
        "credits": Integer(0),
        "purpose": Text(),
        "classification": Text(),
        "competency_field": Text(),
        "sector": Text(),
        "review_date": Date(),
        "standard_setting_body": Text(),
        "section_names": SECTION_NAMES,
        "prerequisites": ListOf(PREREQUISITE, 1),
        "supersedes": ListOf(SUPERSEDES, 1),
        "results": RESULTS,
        "usage": USAGE,
        "component_label": Choice(COMPONENT_LABELS),
        "components": ListOf(COMPONENT, 1),
        "range": RANGE,
        "range_of_conditions": ListOf(RANGE_CONDITION, 1),
        "dimensions": ListOf(DIMENSION, 1),
        "logbook": LOGBOOK,
        "guidance": ListOf(GUIDANCE_NOTE),
        "assessment_conditions": Text(),
        "foundation_skills": Text(),
        "foundation_skills_table": ListOf(FOUNDATION_SKILL, 1),
        "evidence_requirements": ListOf(EVIDENCE_GROUP),
        "rules": RULES,
    },
    frozenset({"id", "version", "framework", "title", "results", "usage", "component_label", "components"}),
)
RECURSIVE = {"evidence_item": EVIDENCE_ITEM}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a unit standard file, for editors that validate YAML as it is typed."""
    schema = UNIT.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:assessor:unit-standard",
        "description": "A unit standard for Assessor; see standards/README.md",
        **schema,
        "$defs": {name: spec.json_schema() for name, spec in RECURSIVE.items()},
    }
