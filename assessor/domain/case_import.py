"""A CASE 1.1 package read back as a draft unit file, for someone to review against the published unit before it is
loaded: what the package holds is copied, what the format needs and CASE does not carry is given a default and
named in the draft's notes."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from assessor.domain.case import EVIDENCE_GROUP_TYPE, EVIDENCE_TYPES, IS_CHILD_OF
from assessor.domain.standards import schema

# What a package made elsewhere cannot say, and so always needs a reviewer's eye.
NOT_IN_CASE = (
    "guidance notes, assessment conditions, foundation skills, accepted evidence contexts, dimensions, quotas, "
    "a logbook and a mapping table are not part of a CASE package: add them from the published unit"
)


class NotAPackage(ValueError):
    """The input is not a CFPackage this reader can draft a unit from; the message says why."""


@dataclass
class Draft:
    """A unit file's fields drafted from a package, and what the reviewer must check."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def draft_unit(package: Any) -> Draft:
    """Draft a unit file from a CFPackage: its document as the unit, top-level items as components (or evidence
    groups, where the package says so), their children as criteria (or evidence items, at any depth)."""
    if not isinstance(package, Mapping) or not isinstance(package.get("CFDocument"), Mapping):
        raise NotAPackage("a CASE package is a JSON object with a CFDocument")
    root = package["CFDocument"]
    items: dict[str, Mapping[str, Any]] = {
        str(i["identifier"]): i for i in package.get("CFItems") or () if isinstance(i, Mapping) and "identifier" in i
    }
    if not isinstance(root.get("identifier"), str) or not isinstance(root.get("title"), str):
        raise NotAPackage("the CFDocument has no identifier or no title")
    children: dict[str, list[tuple[int, str]]] = {}
    for association in package.get("CFAssociations") or ():
        if not isinstance(association, Mapping) or association.get("associationType") != IS_CHILD_OF:
            continue
        origin = (association.get("originNodeURI") or {}).get("identifier")
        parent = (association.get("destinationNodeURI") or {}).get("identifier")
        if isinstance(origin, str) and origin in items and isinstance(parent, str):
            order = association.get("sequenceNumber")
            children.setdefault(parent, []).append((order if isinstance(order, int) else 0, origin))
    for found in children.values():
        found.sort(key=lambda pair: pair[0])
    draft = Draft({})
    _document(draft, root)
    tops = [items[i] for _, i in children.get(root["identifier"], [])]
    if not tops:
        raise NotAPackage("no CFItem is a child (isChildOf) of the CFDocument: there is no unit to draft")
    reader = _Reader(items, children, draft)
    parts = [t for t in tops if t.get("CFItemType") != EVIDENCE_GROUP_TYPE]
    groups = [t for t in tops if t.get("CFItemType") == EVIDENCE_GROUP_TYPE]
    labels = {str(p.get("CFItemType")) for p in parts}
    label = labels.pop() if len(labels) == 1 else None
    if label not in schema.COMPONENT_LABELS:
        draft.notes.append(f"component_label: the package calls its top-level items {label or 'different things'}")
        label = "Element"
    draft.document["component_label"] = label
    draft.document["components"] = [reader.component(p) for p in parts]
    conditions = reader.conditions
    if conditions:
        draft.document["range_of_conditions"] = list(conditions.values())
    if groups:
        draft.document["evidence_requirements"] = [reader.group(g) for g in groups]
    draft.notes.append(NOT_IN_CASE)
    return draft


def draft_text(draft: Draft, source: str) -> str:
    """The draft as a unit file: comments saying where it came from and what to review, then the fields."""
    lines = [
        f"# Drafted from the CASE package {source} by `assessor standards import-case`.",
        "# Review every text against the published unit before loading it. To check:",
        *(f"# - {note}" for note in draft.notes),
    ]
    fields = yaml.dump(draft.document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)
    return "\n".join(lines) + "\n" + fields


class _Dumper(yaml.SafeDumper):
    """Writes texts of several paragraphs as literal blocks (`|-`), as the unit files in standards/ do."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def _document(draft: Draft, root: Mapping[str, Any]) -> None:
    """The unit's own fields, from the CFDocument (and the facts Assessor keeps in its extensions)."""
    facts = _extensions(root)
    unit: dict[str, Any] = {}
    code = facts.get("code")
    unit["id"] = facts.get("unitId") or _catalogue_id(code or root["title"])
    version = str(root.get("version", ""))
    unit["version"] = int(version) if version.isdigit() and int(version) > 0 else 1
    if unit["version"] == 1 and version != "1":
        draft.notes.append(f"version: the package's version {version!r} is not a whole number; 1 is assumed")
    framework = facts.get("framework")
    if framework not in schema.FRAMEWORKS:
        draft.notes.append("framework: the package does not say; other is assumed")
        framework = "other"
    unit["framework"] = framework
    if code:
        unit["code"] = code
    unit["title"] = root["title"]
    for key, name in (("publisherVersion", "publisher_version"), ("level", "level"), ("credits", "credits")):
        if facts.get(key) is not None:
            unit[name] = facts[key]
    if root.get("description"):
        unit["purpose"] = root["description"]
    subjects = root.get("subject") or []
    if subjects:
        unit["classification" if framework == "NZQA" else "competency_field"] = subjects[0]
    results = facts.get("results") if isinstance(facts.get("results"), Mapping) else None
    if results and results.get("achieved") and results.get("notAchieved"):
        unit["results"] = {"achieved": results["achieved"], "not_achieved": results["notAchieved"]}
    else:
        draft.notes.append("results: the package does not say; Competent / Not yet competent is assumed")
        unit["results"] = {"achieved": "Competent", "not_achieved": "Not yet competent"}
    status = facts.get("status")
    if status not in schema.USAGE_STATUSES:
        status = "superseded" if root.get("adoptionStatus") == "Deprecated" else "current"
    usage: dict[str, Any] = {"status": status}
    if status != "current":
        since = root.get("statusStartDate")
        try:
            if not isinstance(since, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
                raise ValueError(since)
            usage["since"] = datetime.date.fromisoformat(since)  # a date, which the file writes unquoted
        except ValueError:
            draft.notes.append(f"usage.since: the package gives no date the unit was {status}")
        if facts.get("replacedBy"):
            usage["replaced_by"] = facts["replacedBy"]
    unit["usage"] = usage
    draft.document.update(unit)


@dataclass
class _Reader:
    """Walks the items below the document, turning each into the unit file's shape."""

    items: Mapping[str, Mapping[str, Any]]
    children: Mapping[str, list[tuple[int, str]]]
    draft: Draft
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def below(self, item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return [self.items[i] for _, i in self.children.get(str(item.get("identifier")), [])]

    def code(self, item: Mapping[str, Any], position: str) -> str:
        code = item.get("humanCodingScheme") or item.get("listEnumeration")
        if not code:
            self.draft.notes.append(f"{item.get('identifier')}: no humanCodingScheme; numbered {position}")
        return str(code or position)

    def component(self, item: Mapping[str, Any]) -> dict[str, Any]:
        number = self.code(item, "?")
        found: dict[str, Any] = {"number": number, "title": item.get("fullStatement", "")}
        found.update(_ranges(item))
        criteria = []
        for child in self.below(item):
            criterion: dict[str, Any] = {"number": self.code(child, f"{number}.?"), "text": self.marked(child)}
            criterion.update(_ranges(child))
            criterion.update(_occasions(child))
            criteria.append(criterion)
            for deeper in self.below(child):
                self.draft.notes.append(
                    f"{deeper.get('humanCodingScheme') or deeper.get('identifier')}: nested below criterion "
                    f"{criterion['number']}, which the unit format does not allow; left out"
                )
        found["criteria"] = criteria
        return found

    def marked(self, item: Mapping[str, Any]) -> str:
        """A criterion's text with each Range of Conditions term it names marked **so** again."""
        text = str(item.get("fullStatement", ""))
        facts = _extensions(item)
        for condition in facts.get("rangeOfConditions") or ():
            term = str(condition.get("term", ""))
            at = text.casefold().find(term.casefold())
            if not term or at < 0:
                continue
            text = f"{text[:at]}**{text[at : at + len(term)]}**{text[at + len(term) :]}"
            entry: dict[str, Any] = {"term": term}
            if condition.get("text"):
                entry["text"] = condition["text"]
            entry["items"] = list(condition.get("items") or ())
            self.conditions.setdefault(term.casefold(), entry)
        return text

    def group(self, item: Mapping[str, Any]) -> dict[str, Any]:
        nested = self.below(item)
        kinds = {k for k, v in EVIDENCE_TYPES.items() if any(n.get("CFItemType") == v for n in nested)}
        found: dict[str, Any] = {
            "id": self.code(item, "E"),
            "kind": kinds.pop() if len(kinds) == 1 else "performance",
            "title": item.get("fullStatement", ""),
        }
        if item.get("notes"):
            found["text"] = item["notes"]
        found["items"] = [self.evidence(n) for n in nested]
        return found

    def evidence(self, item: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {"id": self.code(item, "?"), "text": item.get("fullStatement", "")}
        nested = self.below(item)
        if nested:
            found["items"] = [self.evidence(n) for n in nested]
        else:
            found.update(_occasions(item))
        return found


def _ranges(item: Mapping[str, Any]) -> dict[str, Any]:
    facts = _extensions(item)
    return {"range": list(facts["range"])} if facts.get("range") else {}


def _occasions(item: Mapping[str, Any]) -> dict[str, Any]:
    facts = _extensions(item)
    needed = facts.get("occasions")
    return {"occasions": needed} if isinstance(needed, int) and needed > 1 else {}


def _extensions(found: Mapping[str, Any]) -> Mapping[str, Any]:
    """The extensions of a document or item (where Assessor keeps what CASE has no field for), or none."""
    facts = found.get("extensions")
    return facts if isinstance(facts, Mapping) else {}


def _catalogue_id(name: str) -> str:
    """A catalogue id (lower case letters, digits and _, starting with a letter) made from a code or title."""
    words = re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")
    return words if re.match(r"[a-z]", words) else f"unit_{words}"
