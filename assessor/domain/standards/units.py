"""Unit standards as frozen dataclasses, and the loader that checks a file and reports every problem in it."""

from __future__ import annotations

import datetime
import difflib
import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from assessor.domain.standards import schema as s

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 50_000
# Far deeper than any real unit (the seed units are 7 levels deep), and shallow enough to compose and check without
# running out of Python's recursion limit.
MAX_DEPTH = 50
MAX_SYNTAX_ERRORS = 20
# What each kind of criterion mapping names: its number in the superseded unit ("from"), in this one ("to"), or both.
CHANGE_NEEDS = {"unchanged": ("from", "to"), "changed": ("from", "to"), "new": ("to",), "removed": ("from",)}
ALLOWED_TAGS = {"!"} | {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


# A Range of Conditions term, as a criterion's text marks it: **term**.
BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass(frozen=True)
class Quota:
    """Of the different values an occasion must have, how many at least must be of one kind ("one of which must be
    Māori")."""

    kind: str
    at_least: int


@dataclass(frozen=True)
class Dimension:
    """What occasions of a criterion or item must differ in (different people supported, different workplaces), and
    the kinds a quota among them counts."""

    id: str
    label: str
    kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Logbook:
    """Hours of work the trainee must log, and an assessor verify, before sign-off ("at least 120 hours of work in
    an aged care setting")."""

    hours: int
    context: str


@dataclass(frozen=True)
class Criterion:
    """A numbered performance criterion of a component. `text` is plain; `marked` keeps its Range of Conditions
    terms marked **so**, where it has any."""

    number: str
    text: str
    range: tuple[str, ...] = ()
    occasions: int | None = None
    marked: str | None = None
    distinct: str | None = None  # the dimension its occasions must differ in
    quota: tuple[Quota, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """The Range of Conditions terms its text marks, in order."""
        return tuple(BOLD.findall(self.marked)) if self.marked else ()


@dataclass(frozen=True)
class RangeCondition:
    """What a bold term in the criteria must or may include ("must include one or more of: ..."), as training.gov.au
    prints its Range of Conditions."""

    term: str
    items: tuple[str, ...]
    text: str | None = None


@dataclass(frozen=True)
class Component:
    """An outcome (NZQA) or element (training.gov.au) of a unit."""

    number: str
    title: str
    criteria: tuple[Criterion, ...]
    range: tuple[str, ...] = ()


@dataclass(frozen=True)
class Definition:
    """A term the unit defines, with the definition's full text."""

    term: str
    text: str


@dataclass(frozen=True)
class GuidanceNote:
    """A numbered guidance note: general text, a list of legislation or definitions."""

    number: str
    topic: str = "general"
    title: str | None = None
    text: str | None = None
    items: tuple[str, ...] = ()
    closing: str | None = None
    definitions: tuple[Definition, ...] = ()


@dataclass(frozen=True)
class EvidenceItem:
    """An evidence requirement that must be covered; an item with nested items is a heading for them."""

    id: str
    text: str
    occasions: int | None = None
    items: tuple[EvidenceItem, ...] = ()
    distinct: str | None = None
    quota: tuple[Quota, ...] = ()

    def walk(self) -> Iterator[EvidenceItem]:
        """This item and every item nested in it, in document order."""
        yield self
        for item in self.items:
            yield from item.walk()


@dataclass(frozen=True)
class EvidenceGroup:
    """A group of evidence requirements such as Performance Evidence or Knowledge Evidence."""

    id: str
    kind: str
    title: str
    items: tuple[EvidenceItem, ...]
    text: str | None = None


@dataclass(frozen=True)
class Results:
    """The unit's own words for its two results."""

    achieved: str
    not_achieved: str


@dataclass(frozen=True)
class Usage:
    """Whether the publisher still uses the unit."""

    status: str
    since: datetime.date | None = None
    replaced_by: str | None = None

    @property
    def is_current(self) -> bool:
        """Whether the publisher still uses the unit (it is neither deleted nor superseded)."""
        return self.status == "current"

    def accepts_enrolment_starting(self, start: datetime.date) -> bool:
        """A current unit takes any enrolment; a deleted or superseded one only those that began before that."""
        return self.is_current or (self.since is not None and start < self.since)


@dataclass(frozen=True)
class Rules:
    """What a program checks: accepted evidence contexts and occasions needed."""

    accepted_contexts: tuple[str, ...] | None = None
    basis: str | None = None
    occasions: int = 1

    def accepts(self, context: str) -> bool:
        """Whether evidence from this context counts toward the unit."""
        return self.accepted_contexts is None or context in self.accepted_contexts


@dataclass(frozen=True)
class FoundationSkill:
    """One row of the Foundation Skills table, as training.gov.au prints it."""

    skill: str
    description: str


@dataclass(frozen=True)
class SectionNames:
    """What the publisher calls the unit's sections, where it is not the framework's usual name."""

    purpose: str | None = None
    criteria: str | None = None
    guidance: str | None = None


@dataclass(frozen=True)
class Prerequisite:
    """A unit the trainee must hold before this one is signed off: its publisher's code or catalogue id."""

    unit: str
    title: str | None = None

    def names(self, unit_id: str, code: str | None) -> bool:
        """Whether this prerequisite is that unit (by catalogue id or publisher's code, ignoring case)."""
        return _names(self.unit, unit_id, code)


def _names(wanted: str, unit_id: str, code: str | None) -> bool:
    """Whether a unit named in a file (by catalogue id or publisher's code, ignoring case) is this one."""
    return wanted.casefold() in {unit_id.casefold(), (code or "").casefold()}


@dataclass(frozen=True)
class TargetChange:
    """How one criterion or evidence item of a superseded unit maps to this one: `source` is its number in the
    superseded unit (None when new here), `target` in this one (None when removed)."""

    change: str
    source: str | None = None
    target: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Supersedes:
    """An earlier unit this one replaces, as the publisher's mapping table gives it: equivalent or not, with how each
    criterion changed where it says so."""

    unit: str
    equivalence: str
    version: int | None = None
    title: str | None = None
    note: str | None = None
    criteria: tuple[TargetChange, ...] = ()

    @property
    def is_equivalent(self) -> bool:
        return self.equivalence == "equivalent"

    def names(self, unit_id: str, code: str | None, version: int) -> bool:
        """Whether this entry is that unit version (by catalogue id or publisher's code; any version unless given)."""
        return _names(self.unit, unit_id, code) and (self.version is None or self.version == version)


@dataclass(frozen=True)
class Unit:
    """One version of a unit standard, exactly as published."""

    id: str
    version: int
    framework: str
    title: str
    results: Results
    usage: Usage
    component_label: str
    components: tuple[Component, ...]
    code: str | None = None
    publisher_version: str | None = None
    level: int | None = None
    credits: int | None = None
    purpose: str | None = None
    classification: str | None = None
    competency_field: str | None = None
    sector: str | None = None
    review_date: datetime.date | None = None
    standard_setting_body: str | None = None
    section_names: SectionNames = SectionNames()
    prerequisites: tuple[Prerequisite, ...] = ()
    supersedes: tuple[Supersedes, ...] = ()
    range: tuple[str, ...] = ()
    range_of_conditions: tuple[RangeCondition, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    logbook: Logbook | None = None
    guidance: tuple[GuidanceNote, ...] = ()
    assessment_conditions: str | None = None
    foundation_skills: str | None = None
    foundation_skills_table: tuple[FoundationSkill, ...] = ()
    evidence_requirements: tuple[EvidenceGroup, ...] = ()
    rules: Rules = Rules()
    source_sha256: str = ""
    source_text: str = field(default="", repr=False, compare=False)

    @property
    def key(self) -> str:
        """The unit's identity and version, as records cite it."""
        return f"{self.id}@{self.version}"

    @property
    def display_code(self) -> str:
        """The publisher's code where there is one, otherwise the catalogue id."""
        return self.code or self.id

    @property
    def name(self) -> str:
        """How pages name the unit: its code and title, or the title alone where there is no code."""
        return f"{self.code} {self.title}" if self.code else self.title

    @property
    def purpose_label(self) -> str:
        """What the publisher calls the purpose text."""
        return self.section_names.purpose or ("Purpose" if self.framework == "NZQA" else "Application")

    @property
    def criteria_label(self) -> str:
        """What the publisher calls the criteria ("Performance criteria", or "Evidence requirements" in NZQA's older
        layout)."""
        return self.section_names.criteria or "Performance criteria"

    @property
    def guidance_label(self) -> str:
        """What the publisher calls its guidance ("Guidance information", "Explanatory notes")."""
        return self.section_names.guidance or "Guidance information"

    def criteria(self) -> tuple[Criterion, ...]:
        """Every criterion of every component, in order."""
        return tuple(c for component in self.components for c in component.criteria)

    def evidence_items(self) -> tuple[EvidenceItem, ...]:
        """Every evidence item at every depth, headings included, in document order."""
        return tuple(i for group in self.evidence_requirements for top in group.items for i in top.walk())

    def assessable_items(self) -> tuple[EvidenceItem, ...]:
        """The evidence items evidence is mapped to: those without nested items."""
        return tuple(i for i in self.evidence_items() if not i.items)

    def occasions_for(self, criterion_or_item: Criterion | EvidenceItem) -> int:
        """How many satisfied occasions a criterion or item needs."""
        return criterion_or_item.occasions or self.rules.occasions

    def dimension(self, dimension_id: str) -> Dimension:
        """One of the unit's dimensions, by its id."""
        return next(d for d in self.dimensions if d.id == dimension_id)

    def conditions_for(self, criterion: Criterion) -> tuple[RangeCondition, ...]:
        """The Range of Conditions entries of the terms the criterion marks, in the order it marks them."""
        by_term = {c.term.casefold(): c for c in self.range_of_conditions}
        return tuple(dict.fromkeys(by_term[t.casefold()] for t in criterion.terms if t.casefold() in by_term))

    def targets(self) -> dict[str, Criterion | EvidenceItem]:
        """Every criterion and assessable evidence item by its number or identifier, in unit order."""
        return {c.number: c for c in self.criteria()} | {i.id: i for i in self.assessable_items()}

    def mapping_from(self, earlier: Unit) -> Supersedes | None:
        """What this unit's mapping table says of an earlier unit it supersedes, if it names it."""
        return next((s for s in self.supersedes if s.names(earlier.id, earlier.code, earlier.version)), None)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a unit standard file."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class StandardsError(Exception):
    """A unit standard file (or several) could not be loaded; `problems` lists why."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def normalise(text: str) -> str:
    """Collapse white space inside paragraphs and keep blank lines between them; keep each line of a list (lines that
    start with "- "), set apart from the text around it as a block of its own."""
    blocks = []
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        for is_list, run in itertools.groupby(lines, key=lambda line: line.startswith(LIST_MARK)):
            if is_list:
                blocks.append("\n".join(LIST_MARK + " ".join(line[len(LIST_MARK) :].split()) for line in run))
            else:
                blocks.append(" ".join(" ".join(run).split()))
    return "\n\n".join(blocks)


LIST_MARK = "- "


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """A normalised text as its paragraphs and lists, in order: ("paragraph", [text]) or ("list", [item, ...])."""
    found = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        if all(line.startswith(LIST_MARK) for line in lines):
            found.append(("list", [line[len(LIST_MARK) :] for line in lines]))
        else:
            found.append(("paragraph", [block]))
    return found


def load_unit(path: str | Path) -> Unit:
    """Load and check one unit standard file."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise StandardsError([Problem(name, 1, "", f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")])
        data = path.read_bytes()
    except OSError as exc:
        raise StandardsError([Problem(name, 0, "", f"cannot read file: {exc.strerror or exc}")]) from None
    return parse_unit(data, name)


def parse_unit(data: bytes | str, filename: str = "<unit>") -> Unit:
    """Check the text of a unit standard file and turn it into a Unit."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    checker = _Checker(filename)
    text = checker.decode(data)
    root = checker.compose(text) if text is not None else None
    # The hash is of the text (a byte-order mark is not part of it), so the stored text re-parses to the same hash.
    unit = (
        checker.unit(root, hashlib.sha256(text.encode("utf-8")).hexdigest())
        if root is not None and text is not None
        else None
    )
    if checker.problems or unit is None or text is None:
        raise StandardsError(checker.problems or [Problem(filename, 1, "", "file is empty")])
    return replace(unit, source_text=text)


class _Checker:
    """Walks a composed YAML tree against the schema, collecting problems with their lines."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}
        self.text = ""

    def problem(self, line: int, path: str, message: str) -> None:
        self.problems.append(Problem(self.filename, line, path, message))

    def decode(self, data: bytes) -> str | None:
        if len(data) > MAX_FILE_BYTES:
            self.problem(1, "", f"file is {len(data)} bytes; the limit is {MAX_FILE_BYTES}")
            return None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            self.problem(line, "", f"file is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})")
            return None

    def compose(self, text: str) -> yaml.Node | None:
        """Parse without constructing objects, refusing aliases, custom tags, oversized trees and deep nesting."""
        events = self.parse(text)
        if events is None:
            return None
        bad = False
        depth = 0
        too_deep = False
        for event in events:
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH and not too_deep:
                    self.problem(line, "", f"file is nested more than {MAX_DEPTH} levels deep")
                    too_deep = bad = True
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                self.problem(line, "", "YAML anchors and aliases are not allowed in unit standard files")
                bad = True
            tag = getattr(event, "tag", None)
            if tag and tag not in ALLOWED_TAGS:
                self.problem(line, "", f"YAML tag {tag} is not allowed in unit standard files")
                bad = True
        if len(events) > MAX_NODES:
            self.problem(1, "", f"file has more than {MAX_NODES} YAML nodes")
            return None
        if bad:
            return None
        documents = sum(isinstance(e, yaml.DocumentStartEvent) for e in events)
        if documents > 1:
            self.problem(1, "", "file must hold exactly one YAML document")
            return None
        node = yaml.compose(self.text, Loader=yaml.SafeLoader)
        if node is None:
            self.problem(1, "", "file is empty")
        return node

    def parse(self, text: str) -> list[yaml.Event] | None:
        """YAML events of the text; after a syntax error, blank the offending line and go on, to report more."""
        lines = text.split("\n")
        for _ in range(MAX_SYNTAX_ERRORS):
            try:
                events = list(yaml.parse("\n".join(lines), Loader=yaml.SafeLoader))
            except yaml.MarkedYAMLError as exc:
                candidates = [m.line for m in (exc.problem_mark, exc.context_mark) if m is not None]
                line = candidates[0] if candidates else 0
                self.problem(line + 1, "", f"invalid YAML: {exc.problem or exc.context}")
                blank = next((n for n in candidates if n < len(lines) and lines[n].strip()), None)
                if blank is None:
                    return None
                lines[blank] = ""
                continue
            except yaml.YAMLError as exc:
                self.problem(1, "", f"invalid YAML: {exc}")
                return None
            self.text = "\n".join(lines)
            return events
        return None

    # --- structure -----------------------------------------------------------------

    def check(self, node: yaml.Node, spec: s.Spec, path: str) -> Any:
        """Return the plain value of a node that fits `spec`, or None after recording why not."""
        line = node.start_mark.line + 1
        self.lines[path] = line
        if isinstance(spec, s.Recursive):
            spec = s.RECURSIVE[spec.name]
        if isinstance(spec, s.Mapping):
            return self.check_mapping(node, spec, path)
        if isinstance(spec, s.ListOf):
            if not isinstance(node, yaml.SequenceNode):
                self.wrong_type(node, "a list", path)
                return None
            if len(node.value) < spec.min_items:
                self.problem(line, path, "must not be empty")
            values = [self.check(child, spec.item, f"{path}[{i}]") for i, child in enumerate(node.value)]
            return None if any(v is None for v in values) else values
        if not isinstance(node, yaml.ScalarNode):
            self.wrong_type(node, _expected(spec), path)
            return None
        kind = node.tag.rsplit(":", 1)[-1]
        if isinstance(spec, s.Integer):
            if kind != "int":
                self.wrong_type(node, "a whole number", path)
                return None
            value = int(yaml.safe_load(node.value))
            if value < spec.minimum:
                self.problem(line, path, f"must be at least {spec.minimum}, got {value}")
                return None
            return value
        if isinstance(spec, s.Date):
            if kind != "timestamp" or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", node.value):
                self.wrong_type(node, "a date written YYYY-MM-DD", path)
                return None
            try:
                return datetime.date.fromisoformat(node.value)
            except ValueError:
                self.problem(line, path, f"{node.value} is not a real date")
                return None
        if kind != "str":
            hint = (
                ' (put it in quotes, for example "1.10")'
                if isinstance(spec, s.Pattern) and kind in {"int", "float"}
                else ""
            )
            self.wrong_type(node, _expected(spec), path, hint)
            return None
        value = node.value
        if isinstance(spec, s.Choice):
            if value not in spec.choices:
                self.problem(
                    line, path, f"{value!r} is not one of {', '.join(spec.choices)}{_did_you_mean(value, spec.choices)}"
                )
                return None
            return value
        if isinstance(spec, s.Pattern):
            if not spec.matches(value):
                self.problem(line, path, f"{value!r} is not valid: expected {spec.description}")
                return None
            return value
        text = normalise(value)
        if not text:
            self.problem(line, path, "text must not be empty")
            return None
        return text

    def check_mapping(self, node: yaml.Node, spec: s.Mapping, path: str) -> dict[str, Any] | None:
        if not isinstance(node, yaml.MappingNode):
            self.wrong_type(node, f"a mapping ({spec.name})", path)
            return None
        result: dict[str, Any] = {}
        seen: set[str] = set()
        ok = True
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                self.problem(key_line, path, f"keys must be plain words, not {_describe(key_node)}")
                ok = False
                continue
            key = key_node.value
            child_path = f"{path}.{key}" if path else key
            if key in seen:
                self.problem(key_line, child_path, "key appears twice")
                ok = False
                continue
            seen.add(key)
            if key not in spec.fields:
                self.problem(key_line, child_path, f"unknown key in {spec.name}{_did_you_mean(key, spec.fields)}")
                ok = False
                continue
            value = self.check(value_node, spec.fields[key], child_path)
            if value is None:
                ok = False
            result[key] = value
        line = node.start_mark.line + 1
        for key in spec.fields:
            if key in spec.required and key not in result:
                self.problem(line, f"{path}.{key}" if path else key, f"missing required field in {spec.name}")
                ok = False
        return result if ok else None

    def wrong_type(self, node: yaml.Node, expected: str, path: str, hint: str = "") -> None:
        self.problem(node.start_mark.line + 1, path, f"expected {expected}, got {_describe(node)}{hint}")

    # --- meaning -------------------------------------------------------------------

    def unit(self, root: yaml.Node, sha256: str) -> Unit | None:
        raw = self.check(root, s.UNIT, "")
        if not isinstance(root, yaml.MappingNode):
            return None
        self.check_numbers(root)
        if raw is None or self.problems:
            return None
        return _build_unit(raw, sha256)

    def check_numbers(self, root: yaml.MappingNode) -> None:
        """Duplicate numbers and identifiers, criteria outside their component, usage dates."""
        doc = _plain(root)
        if not isinstance(doc, dict):
            return
        seen_components: set[str] = set()
        seen_criteria: set[str] = set()
        for ci, component in enumerate(_dicts(doc.get("components"))):
            cpath = f"components[{ci}]"
            number = component.get("number")
            if isinstance(number, str):
                if number in seen_components:
                    self.problem(
                        self.line(f"{cpath}.number"), f"{cpath}.number", f'duplicate component number "{number}"'
                    )
                seen_components.add(number)
            for ki, criterion in enumerate(_dicts(component.get("criteria"))):
                kpath = f"{cpath}.criteria[{ki}].number"
                cnumber = criterion.get("number")
                if not isinstance(cnumber, str):
                    continue
                if cnumber in seen_criteria:
                    self.problem(self.line(kpath), kpath, f'duplicate criterion number "{cnumber}"')
                elif isinstance(number, str) and not cnumber.startswith(f"{number}."):
                    self.problem(
                        self.line(kpath),
                        kpath,
                        f'criterion "{cnumber}" is outside component "{number}": it must start with "{number}."',
                    )
                seen_criteria.add(cnumber)
        seen_notes: set[str] = set()
        for ni, note in enumerate(_dicts(doc.get("guidance"))):
            npath = f"guidance[{ni}]"
            number = note.get("number")
            if isinstance(number, str):
                if number in seen_notes:
                    self.problem(
                        self.line(f"{npath}.number"), f"{npath}.number", f'duplicate guidance note number "{number}"'
                    )
                seen_notes.add(number)
            if not any(k in note for k in ("text", "items", "definitions")):
                self.problem(self.line(npath), npath, "a guidance note needs text, items or definitions")
            if note.get("topic") == "definitions" and "definitions" not in note:
                self.problem(self.line(npath), npath, "a note with topic definitions needs definitions")
        seen_ids: set[str] = set()
        leaves: set[str] = set()

        def walk(items: Any, path: str, parent: str | None) -> None:
            for ii, item in enumerate(_dicts(items)):
                ipath = f"{path}[{ii}]"
                item_id = item.get("id")
                if isinstance(item_id, str):
                    if item_id in seen_ids:
                        self.problem(
                            self.line(f"{ipath}.id"), f"{ipath}.id", f'duplicate evidence identifier "{item_id}"'
                        )
                    elif parent and not item_id.startswith(f"{parent}."):
                        self.problem(
                            self.line(f"{ipath}.id"),
                            f"{ipath}.id",
                            f'nested item "{item_id}" must start with "{parent}."',
                        )
                    seen_ids.add(item_id)
                    if not item.get("items"):
                        leaves.add(item_id)
                if item.get("items") and "occasions" in item:
                    self.problem(
                        self.line(f"{ipath}.occasions"),
                        f"{ipath}.occasions",
                        "occasions belongs on the items evidence is mapped to, not on a heading with nested items: "
                        "give each nested item its occasions",
                    )
                walk(item.get("items"), f"{ipath}.items", item_id if isinstance(item_id, str) else None)

        for gi, group in enumerate(_dicts(doc.get("evidence_requirements"))):
            gpath = f"evidence_requirements[{gi}]"
            group_id = group.get("id")
            if isinstance(group_id, str):
                if group_id in seen_ids:
                    self.problem(self.line(f"{gpath}.id"), f"{gpath}.id", f'duplicate evidence identifier "{group_id}"')
                seen_ids.add(group_id)
            walk(group.get("items"), f"{gpath}.items", None)
        named: set[str] = set()
        for pi, prerequisite in enumerate(_dicts(doc.get("prerequisites"))):
            ppath, wanted = f"prerequisites[{pi}].unit", prerequisite.get("unit")
            if not isinstance(wanted, str):
                continue
            if wanted.casefold() in {str(doc.get(k, "")).casefold() for k in ("id", "code")}:
                self.problem(self.line(ppath), ppath, f'a unit cannot be its own prerequisite ("{wanted}")')
            elif wanted.casefold() in named:
                self.problem(self.line(ppath), ppath, f'prerequisite "{wanted}" is listed twice')
            named.add(wanted.casefold())
        self.check_supersedes(doc, seen_criteria | leaves)
        self.check_conditions(doc)
        self.check_sufficiency(doc)
        usage = doc.get("usage")
        status = usage.get("status") if isinstance(usage, dict) else None
        if isinstance(usage, dict) and status in ("superseded", "deleted") and "since" not in usage:
            self.problem(self.line("usage"), "usage.since", f"a {status} unit needs the date it was {status}")

    def check_sufficiency(self, doc: dict[str, Any]) -> None:
        """`distinct` names one of the unit's dimensions and sits where evidence is mapped; a quota needs `distinct`,
        counts kinds its dimension has, and asks no more than the occasions needed."""
        kinds: dict[str, set[str]] = {}
        for di, dimension in enumerate(_dicts(doc.get("dimensions"))):
            if isinstance(dimension.get("id"), str):
                if dimension["id"] in kinds:
                    path = f"dimensions[{di}].id"
                    self.problem(self.line(path), path, f'duplicate dimension "{dimension["id"]}"')
                kinds.setdefault(dimension["id"], {k for k in dimension.get("kinds") or () if isinstance(k, str)})
        rules = doc.get("rules")
        default = rules.get("occasions", "1") if isinstance(rules, dict) else "1"

        def check(target: dict[str, Any], path: str) -> None:
            distinct, quota = target.get("distinct"), _dicts(target.get("quota"))
            if "distinct" in target and target.get("items"):
                self.problem(self.line(f"{path}.distinct"), f"{path}.distinct", "distinct belongs on nested items")
            elif isinstance(distinct, str) and distinct not in kinds:
                self.problem(
                    self.line(f"{path}.distinct"), f"{path}.distinct", f'"{distinct}" is not one of the dimensions'
                )
            if quota and distinct is None:
                self.problem(self.line(f"{path}.quota"), f"{path}.quota", "a quota needs distinct: what it counts")
            for qi, entry in enumerate(quota):
                kind = entry.get("kind")
                if isinstance(distinct, str) and distinct in kinds and isinstance(kind, str):
                    if kind not in kinds[distinct]:
                        qpath = f"{path}.quota[{qi}].kind"
                        self.problem(self.line(qpath), qpath, f'"{kind}" is not one of the kinds of "{distinct}"')
            wanted = sum(int(e["at_least"]) for e in quota if str(e.get("at_least", "")).isdigit())
            needed = str(target.get("occasions", default))
            if needed.isdigit() and wanted > int(needed):
                self.problem(
                    self.line(f"{path}.quota"),
                    f"{path}.quota",
                    f"the quota asks for {wanted} occasions but only {needed} are needed: raise occasions",
                )

        for ci, component in enumerate(_dicts(doc.get("components"))):
            for ki, criterion in enumerate(_dicts(component.get("criteria"))):
                check(criterion, f"components[{ci}].criteria[{ki}]")

        def walk(items: Any, path: str) -> None:
            for ii, item in enumerate(_dicts(items)):
                check(item, f"{path}[{ii}]")
                walk(item.get("items"), f"{path}[{ii}].items")

        for gi, group in enumerate(_dicts(doc.get("evidence_requirements"))):
            walk(group.get("items"), f"evidence_requirements[{gi}].items")

    def check_conditions(self, doc: dict[str, Any]) -> None:
        """Every term a criterion marks **so** has a Range of Conditions entry; every entry is marked somewhere."""
        defined: dict[str, str] = {}
        for ri, condition in enumerate(_dicts(doc.get("range_of_conditions"))):
            term = condition.get("term")
            if isinstance(term, str):
                rpath = f"range_of_conditions[{ri}].term"
                if term.casefold() in defined:
                    self.problem(self.line(rpath), rpath, f'"{term}" has two entries')
                defined.setdefault(term.casefold(), rpath)
        marked: set[str] = set()
        for ci, component in enumerate(_dicts(doc.get("components"))):
            for ki, criterion in enumerate(_dicts(component.get("criteria"))):
                kpath, text = f"components[{ci}].criteria[{ki}].text", criterion.get("text")
                if not isinstance(text, str):
                    continue
                if "**" in BOLD.sub("", text):
                    self.problem(self.line(kpath), kpath, "a ** has no partner: mark a Range of Conditions term **so**")
                for term in BOLD.findall(text):
                    marked.add(term.casefold())
                    if term.casefold() not in defined:
                        self.problem(
                            self.line(kpath), kpath, f'"{term}" is marked but range_of_conditions has no entry for it'
                        )
        for term, rpath in defined.items():
            if term not in marked:
                self.problem(self.line(rpath), rpath, "no criterion marks this term (write it **so** in the criterion)")

    def check_supersedes(self, doc: dict[str, Any], targets: set[str]) -> None:
        """Each mapping table entry names another unit (or an earlier version of this one), and each criterion mapping
        names what its change needs and a target this unit has, once."""
        for si, entry in enumerate(_dicts(doc.get("supersedes"))):
            spath = f"supersedes[{si}]"
            named = entry.get("unit")
            if isinstance(named, str) and named.casefold() in {str(doc.get(k, "")).casefold() for k in ("id", "code")}:
                version, own = str(entry.get("version", "")), str(doc.get("version", ""))
                if not (version.isdigit() and own.isdigit() and int(version) < int(own)):
                    self.problem(
                        self.line(f"{spath}.unit"),
                        f"{spath}.version",
                        f'a unit supersedes only an earlier version of itself: give the "version" below {own}',
                    )
            mapped: set[str] = set()
            for mi, mapping in enumerate(_dicts(entry.get("criteria"))):
                mpath = f"{spath}.criteria[{mi}]"
                change, target = mapping.get("change"), mapping.get("to")
                wanted = CHANGE_NEEDS.get(str(change), ())
                for key in ("from", "to"):
                    if key in wanted and key not in mapping:
                        self.problem(self.line(mpath), f"{mpath}.{key}", f'a mapping "{change}" needs "{key}"')
                    elif key not in wanted and key in mapping and isinstance(change, str) and change in CHANGE_NEEDS:
                        self.problem(
                            self.line(f"{mpath}.{key}"), f"{mpath}.{key}", f'a mapping "{change}" has no "{key}"'
                        )
                if isinstance(target, str) and "to" in wanted:
                    if target not in targets:
                        self.problem(
                            self.line(f"{mpath}.to"),
                            f"{mpath}.to",
                            f'"{target}" is not a criterion or evidence item (without nested items) of this unit',
                        )
                    elif target in mapped:
                        self.problem(self.line(f"{mpath}.to"), f"{mpath}.to", f'"{target}" is mapped twice')
                    mapped.add(target)

    def line(self, path: str) -> int:
        while path and path not in self.lines:
            path = path.rpartition(".")[0]
        return self.lines.get(path, 1)


def _plain(node: yaml.Node) -> Any:
    """A YAML node as plain strings, lists and dicts, without resolving any type."""
    if isinstance(node, yaml.MappingNode):
        return {k.value: _plain(v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v) for v in node.value]
    return node.value


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v if isinstance(v, dict) else {} for v in value] if isinstance(value, list) else []


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = node.tag.rsplit(":", 1)[-1]
    names = {
        "str": "text",
        "int": "a whole number",
        "float": "a decimal number",
        "bool": "true/false",
        "null": "nothing (null)",
        "timestamp": "a date",
    }
    shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"{names.get(kind, kind)} {shown!r}" if kind != "null" else names["null"]


def _expected(spec: s.Spec) -> str:
    if isinstance(spec, s.Pattern):
        return spec.description
    if isinstance(spec, s.Choice):
        return f"one of {', '.join(spec.choices)}"
    return "text"


def _did_you_mean(word: str, choices: Any) -> str:
    same_but_case = [c for c in choices if c.casefold() == word.casefold()]
    close = same_but_case or difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _texts(values: list[str] | None) -> tuple[str, ...]:
    return tuple(values or ())


def _quota(raw: dict[str, Any]) -> tuple[Quota, ...]:
    return tuple(Quota(q["kind"], q["at_least"]) for q in raw.get("quota") or ())


def _item(raw: dict[str, Any]) -> EvidenceItem:
    nested = tuple(_item(i) for i in raw.get("items") or ())
    return EvidenceItem(raw["id"], raw["text"], raw.get("occasions"), nested, raw.get("distinct"), _quota(raw))


def _criterion(raw: dict[str, Any]) -> Criterion:
    text = raw["text"]
    plain = BOLD.sub(r"\1", text)
    marked = text if plain != text else None
    ranges, occasions = _texts(raw.get("range")), raw.get("occasions")
    return Criterion(raw["number"], plain, ranges, occasions, marked, raw.get("distinct"), _quota(raw))


def _change(raw: dict[str, Any]) -> TargetChange:
    return TargetChange(raw["change"], raw.get("from"), raw.get("to"), raw.get("note"))


def _build_unit(raw: dict[str, Any], sha256: str) -> Unit:
    rules = raw.get("rules") or {}
    return Unit(
        id=raw["id"],
        version=raw["version"],
        framework=raw["framework"],
        code=raw.get("code"),
        publisher_version=raw.get("publisher_version"),
        title=raw["title"],
        level=raw.get("level"),
        credits=raw.get("credits"),
        purpose=raw.get("purpose"),
        classification=raw.get("classification"),
        competency_field=raw.get("competency_field"),
        sector=raw.get("sector"),
        review_date=raw.get("review_date"),
        standard_setting_body=raw.get("standard_setting_body"),
        section_names=SectionNames(**(raw.get("section_names") or {})),
        prerequisites=tuple(Prerequisite(p["unit"], p.get("title")) for p in raw.get("prerequisites") or ()),
        supersedes=tuple(
            Supersedes(
                unit=e["unit"],
                equivalence=e["equivalence"],
                version=e.get("version"),
                title=e.get("title"),
                note=e.get("note"),
                criteria=tuple(_change(m) for m in e.get("criteria") or ()),
            )
            for e in raw.get("supersedes") or ()
        ),
        results=Results(**raw["results"]),
        usage=Usage(**raw["usage"]),
        component_label=raw["component_label"],
        components=tuple(
            Component(
                c["number"],
                c["title"],
                tuple(_criterion(k) for k in c["criteria"]),
                _texts(c.get("range")),
            )
            for c in raw["components"]
        ),
        range=_texts(raw.get("range")),
        dimensions=tuple(
            Dimension(d["id"], d["label"], tuple(d.get("kinds") or ())) for d in raw.get("dimensions") or ()
        ),
        logbook=Logbook(**raw["logbook"]) if "logbook" in raw else None,
        range_of_conditions=tuple(
            RangeCondition(r["term"], tuple(r["items"]), r.get("text")) for r in raw.get("range_of_conditions") or ()
        ),
        guidance=tuple(
            GuidanceNote(
                number=n["number"],
                topic=n.get("topic", "general"),
                title=n.get("title"),
                text=n.get("text"),
                items=_texts(n.get("items")),
                closing=n.get("closing"),
                definitions=tuple(Definition(**d) for d in n.get("definitions") or ()),
            )
            for n in raw.get("guidance") or ()
        ),
        assessment_conditions=raw.get("assessment_conditions"),
        foundation_skills=raw.get("foundation_skills"),
        foundation_skills_table=tuple(FoundationSkill(**row) for row in raw.get("foundation_skills_table") or ()),
        evidence_requirements=tuple(
            EvidenceGroup(g["id"], g["kind"], g["title"], tuple(_item(i) for i in g["items"]), g.get("text"))
            for g in raw.get("evidence_requirements") or ()
        ),
        rules=Rules(
            tuple(rules["accepted_contexts"]) if "accepted_contexts" in rules else None,
            rules.get("basis"),
            rules.get("occasions", 1),
        ),
        source_sha256=sha256,
    )
