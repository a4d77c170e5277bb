"""Unit versions as 1EdTech CASE 1.1 packages: a CFDocument per unit version, CFItems for its components, criteria
and evidence requirements, and the associations that make the tree and say which versions replace which.

Identifiers are UUIDs made (uuid5) under one namespace from the unit's catalogue id, version and numbers, so the same
unit version always has the same identifiers, on every site and in every export, and another version never shares
them. Nothing here knows where a version is stored: the caller says what this site publishes.
"""

from __future__ import annotations

import datetime
import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from assessor.domain.standards import Component, Criterion, EvidenceGroup, EvidenceItem, Unit, Usage

# uuid5(NAMESPACE_URL, "https://github.com/assessor-project/assessor/case"): fixed for good, since every identifier
# other systems keep is made under it.
NAMESPACE = uuid.UUID("994cf33c-6df7-5f84-9a2b-595ad4141efb")
# Where the CASE 1.1 REST binding serves its objects, under the site's address.
SERVICE_PATH = "/ims/case/v1p1"
CASE_VERSION = "1.1"
LANGUAGE = "en"

# CASE's words for a document still in use and one that is not.
ADOPTED = "Adopted"
DEPRECATED = "Deprecated"

# The association types used: the tree, a version replaced by a later one, an equivalence the publisher states, and a
# prerequisite that comes before the unit requiring it.
IS_CHILD_OF = "isChildOf"
REPLACED_BY = "replacedBy"
EXACT_MATCH_OF = "exactMatchOf"
PRECEDES = "precedes"

# What each kind of CFItem is, in the words a reader of the unit knows.
CRITERION_TYPE = "Performance criterion"
EVIDENCE_GROUP_TYPE = "Evidence requirement"
EVIDENCE_TYPES = {"performance": "Performance evidence", "knowledge": "Knowledge evidence"}
# Who promulgates a unit of each framework, where the unit names no standard-setting body.
FRAMEWORK_AUTHORITY = {"NZQA": "NZQA", "training.gov.au": "training.gov.au"}


@dataclass(frozen=True)
class PublishedVersion:
    """A unit version as a site publishes it: its text, its status now (the file's, or an administrator's change
    since), and when the site last changed either."""

    unit: Unit
    usage: Usage
    changed: datetime.datetime


@dataclass(frozen=True)
class Node:
    """A CFDocument or CFItem as an association names it."""

    identifier: str
    title: str
    kind: str  # "CFDocuments" or "CFItems": where the REST binding serves it
    version: PublishedVersion


@dataclass(frozen=True)
class Link:
    """A CFAssociation: `origin` associationType `destination` ("1.1 isChildOf 1", "v1 replacedBy v2")."""

    kind: str
    origin: Node
    destination: Node
    sequence: int | None = None

    @property
    def identifier(self) -> str:
        """The same association always has the same identifier, in whichever package it appears."""
        return association_identifier(self.kind, self.origin.identifier, self.destination.identifier)


@dataclass(frozen=True)
class Entry:
    """A CFItem of a unit version, with where it sits in the tree."""

    node: Node
    item_type: str
    statement: str
    code: str
    position: int
    parent: Node
    notes: str | None = None
    extensions: tuple[tuple[str, Any], ...] = ()


def _uuid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def document_identifier(unit_id: str, version: int) -> str:
    """The CFDocument identifier of a unit version."""
    return _uuid(f"unit:{unit_id}@{version}")


def item_identifier(unit_id: str, version: int, kind: str, number: str) -> str:
    """The CFItem identifier of a component, criterion or evidence requirement ("component", "criterion" or
    "evidence") of a unit version, by its number or evidence identifier."""
    return _uuid(f"unit:{unit_id}@{version}:{kind}:{number}")


def association_identifier(kind: str, origin: str, destination: str) -> str:
    """The CFAssociation identifier of `origin` kind `destination`, by their identifiers."""
    return _uuid(f"association:{origin}:{kind}:{destination}")


def document_node(version: PublishedVersion) -> Node:
    """The unit version's CFDocument, as associations name it."""
    unit = version.unit
    return Node(document_identifier(unit.id, unit.version), unit.title, "CFDocuments", version)


def entries(version: PublishedVersion) -> list[Entry]:
    """Every CFItem of a unit version in document order: each component and its criteria, then each evidence group
    and its items at every depth."""
    unit = version.unit
    document = document_node(version)
    found: list[Entry] = []

    def node(kind: str, number: str, title: str) -> Node:
        return Node(item_identifier(unit.id, unit.version, kind, number), title, "CFItems", version)

    def component(position: int, part: Component) -> Entry:
        extensions = (("range", list(part.range)),) if part.range else ()
        return Entry(
            node("component", part.number, part.title),
            unit.component_label,
            part.title,
            part.number,
            position,
            document,
            extensions=extensions,
        )

    def criterion(position: int, target: Criterion, parent: Node) -> Entry:
        extensions: list[tuple[str, Any]] = [("occasions", unit.occasions_for(target))]
        if target.range:
            extensions.append(("range", list(target.range)))
        conditions = unit.conditions_for(target)
        if conditions:
            extensions.append(("rangeOfConditions", [_condition(c.term, c.text, c.items) for c in conditions]))
        return Entry(
            node("criterion", target.number, target.text),
            CRITERION_TYPE,
            target.text,
            target.number,
            position,
            parent,
            extensions=tuple(extensions),
        )

    def evidence(position: int, item: EvidenceItem, parent: Node, item_type: str) -> Iterator[Entry]:
        # A heading is covered when its nested items are: only the items evidence is mapped to need occasions.
        extensions = () if item.items else (("occasions", unit.occasions_for(item)),)
        entry = Entry(
            node("evidence", item.id, item.text), item_type, item.text, item.id, position, parent, None, extensions
        )
        yield entry
        for nested, child in enumerate(item.items, 1):
            yield from evidence(nested, child, entry.node, item_type)

    def group(position: int, requirement: EvidenceGroup) -> Iterator[Entry]:
        entry = Entry(
            node("evidence", requirement.id, requirement.title),
            EVIDENCE_GROUP_TYPE,
            requirement.title,
            requirement.id,
            position,
            document,
            notes=requirement.text,
        )
        yield entry
        item_type = EVIDENCE_TYPES.get(requirement.kind, EVIDENCE_GROUP_TYPE)
        for nested, item in enumerate(requirement.items, 1):
            yield from evidence(nested, item, entry.node, item_type)

    position = 0
    for part in unit.components:
        position += 1
        top = component(position, part)
        found.append(top)
        found.extend(criterion(n, c, top.node) for n, c in enumerate(part.criteria, 1))
    for requirement in unit.evidence_requirements:
        position += 1
        found.extend(group(position, requirement))
    return found


def _condition(term: str, lead_in: str | None, items: tuple[str, ...]) -> dict[str, Any]:
    """A Range of Conditions entry as an extension: its term, its lead-in where it has one, and its list."""
    return {"term": term, **({"text": lead_in} if lead_in else {}), "items": list(items)}


def _target_node(version: PublishedVersion, number: str) -> Node | None:
    """The CFItem of a criterion or assessable evidence item, by the number a mapping table gives it."""
    unit = version.unit
    target = unit.targets().get(number)
    if target is None:
        return None
    kind = "criterion" if isinstance(target, Criterion) else "evidence"
    title = target.text
    return Node(item_identifier(unit.id, unit.version, kind, number), title, "CFItems", version)


def _versions_named(published: Sequence[PublishedVersion], name: str) -> list[PublishedVersion]:
    """The published versions of the unit a file names by catalogue id or publisher's code, oldest first."""
    wanted = name.casefold()
    named = [v for v in published if wanted in {v.unit.id.casefold(), (v.unit.code or "").casefold()}]
    return sorted(named, key=lambda v: v.unit.version)


def successions(published: Sequence[PublishedVersion]) -> list[Link]:
    """Which published version replaces which, and which the publisher says are equivalent, between versions this
    site publishes (a unit named but not published here has no node to point at, so it has no association):

    - a unit's mapping table (`supersedes`) replaces each version it names, and an equivalent one matches it exactly;
      criteria and items it calls unchanged match exactly, those it calls changed are replaced;
    - a version whose status names a replacement (`replaced_by`) is replaced by that unit's latest published version,
      unless one of that unit's versions replaces it by its mapping table already;
    - a later version of the same catalogue unit replaces the one before, unless a mapping table replaces it already.
    """
    links: dict[str, Link] = {}
    replaced: dict[str, set[str]] = {}  # a version's key -> the unit ids replacing it

    def add(link: Link) -> None:
        links.setdefault(link.identifier, link)
        if link.kind == REPLACED_BY and link.origin.kind == "CFDocuments":
            replaced.setdefault(link.origin.version.unit.key, set()).add(link.destination.version.unit.id)

    for newer in published:
        for entry in newer.unit.supersedes:
            for older in published:
                same_unit = older.unit.id == newer.unit.id
                if older is newer or (same_unit and older.unit.version >= newer.unit.version):
                    continue
                if not entry.names(older.unit.id, older.unit.code, older.unit.version):
                    continue
                add(Link(REPLACED_BY, document_node(older), document_node(newer)))
                if entry.is_equivalent:
                    add(Link(EXACT_MATCH_OF, document_node(newer), document_node(older)))
                for change in entry.criteria:
                    if change.change not in ("unchanged", "changed") or not (change.source and change.target):
                        continue
                    before, after = _target_node(older, change.source), _target_node(newer, change.target)
                    if before is None or after is None:
                        continue
                    if change.change == "unchanged":
                        add(Link(EXACT_MATCH_OF, after, before))
                    else:
                        add(Link(REPLACED_BY, before, after))
    for older in published:
        name = older.usage.replaced_by
        if older.usage.is_current or not name:
            continue
        replacements = [v for v in _versions_named(published, name) if v.unit.key != older.unit.key]
        if replacements and replacements[-1].unit.id not in replaced.get(older.unit.key, set()):
            add(Link(REPLACED_BY, document_node(older), document_node(replacements[-1])))
    by_unit: dict[str, list[PublishedVersion]] = {}
    for version in published:
        by_unit.setdefault(version.unit.id, []).append(version)
    for versions in by_unit.values():
        versions.sort(key=lambda v: v.unit.version)
        for older, newer in zip(versions, versions[1:], strict=False):
            if older.unit.id not in replaced.get(older.unit.key, set()):
                add(Link(REPLACED_BY, document_node(older), document_node(newer)))
    return list(links.values())


def prerequisites(published: Sequence[PublishedVersion]) -> list[Link]:
    """Each prerequisite a unit names `precedes` it: the prerequisite's latest published version, where it has one."""
    links: list[Link] = []
    for later in published:
        for prerequisite in later.unit.prerequisites:
            earlier = _versions_named(published, prerequisite.unit)
            if earlier:
                links.append(Link(PRECEDES, document_node(earlier[-1]), document_node(later)))
    return links


def between_versions(published: Sequence[PublishedVersion]) -> list[Link]:
    """Every association between published versions: replacements, equivalences and prerequisites."""
    return successions(published) + prerequisites(published)


def package(version: PublishedVersion, published: Sequence[PublishedVersion], base_url: str) -> dict[str, Any]:
    """The unit version as a CASE 1.1 CFPackage: its CFDocument, its CFItems, the isChildOf associations of its tree,
    and every replacedBy, exactMatchOf and precedes association between it and the other versions the site
    publishes."""
    found = entries(version)
    own = {document_node(version).identifier} | {e.node.identifier for e in found}
    tree = [Link(IS_CHILD_OF, e.node, e.parent, e.position) for e in found]
    others = [
        link for link in between_versions(published) if {link.origin.identifier, link.destination.identifier} & own
    ]
    return {
        "CFDocument": document(version, base_url),
        "CFItems": [_item(e, base_url) for e in found],
        "CFAssociations": [_association(link, base_url) for link in tree + others],
    }


def association(published: Sequence[PublishedVersion], identifier: str, base_url: str) -> dict[str, Any] | None:
    """One association of any published version's package, by identifier; None when there is none."""
    tree = (Link(IS_CHILD_OF, e.node, e.parent, e.position) for v in published for e in entries(v))
    for link in itertools.chain(tree, between_versions(published)):
        if link.identifier == identifier:
            return _association(link, base_url)
    return None


def document(version: PublishedVersion, base_url: str) -> dict[str, Any]:
    """The unit version's CFDocument, as a package holds it."""
    unit, usage = version.unit, version.usage
    node = document_node(version)
    found: dict[str, Any] = {
        "identifier": node.identifier,
        "uri": uri(base_url, node),
        "caseVersion": CASE_VERSION,
        "creator": unit.standard_setting_body or FRAMEWORK_AUTHORITY.get(unit.framework, unit.framework),
        "title": unit.title,
        "lastChangeDateTime": timestamp(version.changed),
        "language": LANGUAGE,
        "version": str(unit.version),
        "adoptionStatus": ADOPTED if usage.is_current else DEPRECATED,
    }
    if unit.framework in FRAMEWORK_AUTHORITY:
        found["publisher"] = FRAMEWORK_AUTHORITY[unit.framework]
    if unit.purpose:
        found["description"] = unit.purpose
    subjects = [s for s in (unit.classification, unit.competency_field, unit.sector) if s]
    if subjects:
        found["subject"] = subjects
    if not usage.is_current and usage.since:
        found["statusStartDate"] = usage.since.isoformat()
    facts: dict[str, Any] = {
        "unitId": unit.id,
        "code": unit.code,
        "framework": unit.framework,
        "publisherVersion": unit.publisher_version,
        "level": unit.level,
        "credits": unit.credits,
        "results": {"achieved": unit.results.achieved, "notAchieved": unit.results.not_achieved},
        "status": usage.status,
        "replacedBy": usage.replaced_by,
        "sourceSha256": unit.source_sha256 or None,
    }
    found["extensions"] = {k: v for k, v in facts.items() if v is not None}
    return found


def listed_document(version: PublishedVersion, base_url: str) -> dict[str, Any]:
    """The CFDocument as the REST binding lists it and serves it on its own: with the address of its package."""
    node = document_node(version)
    package_link = {"title": node.title, "identifier": node.identifier, "uri": package_uri(base_url, node.identifier)}
    return {**document(version, base_url), "CFPackageURI": package_link}


def listed_item(version: PublishedVersion, identifier: str, base_url: str) -> dict[str, Any] | None:
    """One CFItem of the unit version as the REST binding serves it on its own, with its document; None when the
    version has no item of that identifier."""
    entry = next((e for e in entries(version) if e.node.identifier == identifier), None)
    if entry is None:
        return None
    return {**_item(entry, base_url), "CFDocumentURI": _link(document_node(version), base_url)}


def identifiers(version: PublishedVersion) -> frozenset[str]:
    """Every identifier of the version's own document and items."""
    return frozenset({document_node(version).identifier} | {e.node.identifier for e in entries(version)})


def uri(base_url: str, node: Node) -> str:
    """Where the REST binding serves a node."""
    return f"{base_url.rstrip('/')}{SERVICE_PATH}/{node.kind}/{node.identifier}"


def document_uri(base_url: str, unit_id: str, version: int) -> str:
    """Where the REST binding serves a unit version's CFDocument (what an Open Badges achievement aligns to)."""
    return f"{base_url.rstrip('/')}{SERVICE_PATH}/CFDocuments/{document_identifier(unit_id, version)}"


def package_uri(base_url: str, identifier: str) -> str:
    """Where the REST binding serves the package of a document."""
    return f"{base_url.rstrip('/')}{SERVICE_PATH}/CFPackages/{identifier}"


def timestamp(moment: datetime.datetime) -> str:
    """A moment as CASE writes it: RFC 3339 in UTC, to the second."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(entry: Entry, base_url: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "identifier": entry.node.identifier,
        "uri": uri(base_url, entry.node),
        "fullStatement": entry.statement,
        "humanCodingScheme": entry.code,
        "listEnumeration": str(entry.position),
        "CFItemType": entry.item_type,
        "language": LANGUAGE,
        "lastChangeDateTime": timestamp(entry.node.version.changed),
    }
    if entry.notes:
        found["notes"] = entry.notes
    if entry.extensions:
        found["extensions"] = dict(entry.extensions)
    return found


def _link(node: Node, base_url: str) -> dict[str, str]:
    return {"title": node.title, "identifier": node.identifier, "uri": uri(base_url, node)}


def _association(link: Link, base_url: str) -> dict[str, Any]:
    changed = max(link.origin.version.changed, link.destination.version.changed, key=_utc)
    found: dict[str, Any] = {
        "identifier": link.identifier,
        "uri": f"{base_url.rstrip('/')}{SERVICE_PATH}/CFAssociations/{link.identifier}",
        "associationType": link.kind,
        "originNodeURI": _link(link.origin, base_url),
        "destinationNodeURI": _link(link.destination, base_url),
        "lastChangeDateTime": timestamp(changed),
    }
    if link.sequence is not None:
        found["sequenceNumber"] = link.sequence
    return found


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)
