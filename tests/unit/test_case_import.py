"""A CASE package read back as a draft unit file for review: Assessor's own packages come back as the units they
were made from (as far as CASE carries them), anyone else's as a draft that says what to check, and anything else is
refused with the reason; `assessor standards import-case` writes the draft and never loads it."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from assessor.cli import main
from assessor.domain import case
from assessor.domain.case_import import NOT_IN_CASE, NotAPackage, draft_text, draft_unit
from assessor.domain.standards import Unit, load_unit, parse_unit
from tests.unit.test_case_packages import UNIT_FILES
from tests.web.test_any_unit_shape import unit_documents

ROOT = Path(__file__).resolve().parents[2]
LOADED = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)


def package_of(unit: Unit) -> dict[str, Any]:
    version = case.PublishedVersion(unit, unit.usage, LOADED)
    return case.package(version, [version], "https://assessor.example.org")


def shape(unit: Unit) -> dict[str, Any]:
    """What a CASE package carries of a unit: its facts, and every component, criterion and evidence item with its
    words, ranges, marked terms and the occasions it needs."""
    return {
        "facts": (unit.id, unit.version, unit.framework, unit.code, unit.title, unit.purpose, unit.results, unit.usage),
        "label": unit.component_label,
        "components": [
            (
                c.number,
                c.title,
                c.range,
                [(k.number, k.text, k.marked, k.range, unit.occasions_for(k)) for k in c.criteria],
            )
            for c in unit.components
        ],
        "conditions": sorted((r.term, r.text, r.items) for r in unit.range_of_conditions),
        "evidence": [
            (
                g.id,
                g.kind,
                g.title,
                g.text,
                [
                    (i.id, i.text, bool(i.items), None if i.items else unit.occasions_for(i))
                    for top in g.items
                    for i in top.walk()
                ],
            )
            for g in unit.evidence_requirements
        ],
    }


def round_trip(unit: Unit) -> Unit:
    return parse_unit(draft_text(draft_unit(package_of(unit)), "package.json"), "draft.yaml")


@pytest.mark.parametrize("path", UNIT_FILES, ids=lambda p: p.name)
def test_assessors_own_package_drafts_the_unit_it_was_made_from(path):
    unit = load_unit(path)
    assert shape(round_trip(unit)) == shape(unit)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit_documents())
def test_any_unit_shape_comes_back_from_its_package(document):
    document.pop("dimensions", None)  # what occasions differ in is not in CASE: left out of the comparison
    for component in document["components"]:
        for criterion in component["criteria"]:
            criterion.pop("distinct", None)
            criterion.pop("quota", None)

    def plain(items):
        for item in items:
            item.pop("distinct", None)
            item.pop("quota", None)
            plain(item.get("items", ()))

    for group in document["evidence_requirements"]:
        plain(group["items"])
    unit = parse_unit(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "generated.yaml")
    assert shape(round_trip(unit)) == shape(unit)


def test_the_draft_says_where_it_came_from_and_what_to_review():
    draft = draft_unit(package_of(load_unit(ROOT / "standards" / "cscofm023.yaml")))
    assert draft.notes == [NOT_IN_CASE]
    text = draft_text(draft, "csc.json")
    assert text.startswith("# Drafted from the CASE package csc.json by `assessor standards import-case`.\n")
    assert f"# - {NOT_IN_CASE}\n" in text
    assert "purpose: |-\n  This unit describes the skills" in text  # paragraphs as a literal block, as in standards/


def foreign_package() -> dict[str, Any]:
    """A package from another publisher: no Assessor extensions, a version that is no whole number, a deprecated document
    without its date, and an item nested below a criterion."""

    def item(identifier, code, statement, item_type):
        return {
            "identifier": identifier,
            "humanCodingScheme": code,
            "fullStatement": statement,
            "CFItemType": item_type,
        }

    def child(origin, destination, sequence):
        return {
            "associationType": "isChildOf",
            "originNodeURI": {"identifier": origin},
            "destinationNodeURI": {"identifier": destination},
            "sequenceNumber": sequence,
        }

    return {
        "CFDocument": {
            "identifier": "doc",
            "title": "Work safely at heights",
            "version": "1.0",
            "adoptionStatus": "Deprecated",
        },
        "CFItems": [
            item("b", "2", "Set up the work area", "Standard"),
            item("a", "1", "Plan the work", "Standard"),
            item("a1", "1.1", "Identify the hazards.", "Indicator"),
            item("a1x", "1.1.a", "falls", "Sub-indicator"),
        ],
        "CFAssociations": [child("b", "doc", 2), child("a", "doc", 1), child("a1", "a", 1), child("a1x", "a1", 1)],
    }


def test_a_package_from_elsewhere_is_drafted_with_what_to_check():
    draft = draft_unit(foreign_package())
    assert draft.document["id"] == "work_safely_at_heights"
    assert draft.document["version"] == 1 and draft.document["framework"] == "other"
    assert draft.document["usage"] == {"status": "superseded"}
    assert [c["number"] for c in draft.document["components"]] == ["1", "2"]  # in sequence, not in the list's order
    assert draft.document["components"][0]["criteria"] == [{"number": "1.1", "text": "Identify the hazards."}]
    assert draft.document["components"][1]["criteria"] == []
    assert draft.notes == [
        "version: the package's version '1.0' is not a whole number; 1 is assumed",
        "framework: the package does not say; other is assumed",
        "results: the package does not say; Competent / Not yet competent is assumed",
        "usage.since: the package gives no date the unit was superseded",
        "component_label: the package calls its top-level items Standard",
        "1.1.a: nested below criterion 1.1, which the unit format does not allow; left out",
        NOT_IN_CASE,
    ]


@pytest.mark.parametrize(
    ("package", "why"),
    [
        ([], "a CASE package is a JSON object with a CFDocument"),
        ({"CFItems": []}, "a CASE package is a JSON object with a CFDocument"),
        ({"CFDocument": {"title": "No identifier"}}, "the CFDocument has no identifier or no title"),
        ({"CFDocument": {"identifier": "d", "title": "Empty"}}, "no CFItem is a child (isChildOf) of the CFDocument"),
    ],
)
def test_what_is_not_a_package_is_refused_saying_why(package, why):
    with pytest.raises(NotAPackage, match=r"^" + why.replace("(", r"\(").replace(")", r"\)")):
        draft_unit(package)


@pytest.fixture
def exported(tmp_path) -> Path:
    path = tmp_path / "csc.json"
    path.write_text(json.dumps(package_of(load_unit(ROOT / "standards" / "cscofm023.yaml"))), encoding="utf-8")
    return path


def test_import_case_writes_a_draft_that_loads_and_loads_nothing_itself(exported, tmp_path):
    target = tmp_path / "draft.yaml"
    result = CliRunner().invoke(main, ["standards", "import-case", str(exported), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert f"drafted cscofm023@1 in {target}" in result.stderr
    assert f"review: {NOT_IN_CASE}" in result.stderr
    assert shape(load_unit(target)) == shape(load_unit(ROOT / "standards" / "cscofm023.yaml"))
    again = CliRunner().invoke(main, ["standards", "import-case", str(exported), "-o", str(target)])
    assert again.exit_code == 1
    assert f"{target} exists already: choose another name, nothing was written" in again.output


def test_import_case_to_standard_output_lists_the_problems_that_keep_a_draft_from_loading(tmp_path):
    source = tmp_path / "heights.json"
    source.write_text(json.dumps(foreign_package()), encoding="utf-8")
    result = CliRunner().invoke(main, ["standards", "import-case", str(source)])
    assert result.exit_code == 1
    assert result.stdout.startswith("# Drafted from the CASE package heights.json")
    assert "title: Work safely at heights" in result.stdout
    assert (
        "<draft>:" in result.stderr
        and "usage.since: a superseded unit needs the date it was superseded" in result.stderr
    )
    assert "the draft does not load yet: correct the problems above" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not a JSON file"),
        (
            '{"CFItems": []}',
            "is not a CASE package to draft a unit from: a CASE package is a JSON object with a CFDocument",
        ),
    ],
)
def test_import_case_refuses_what_is_not_a_package(tmp_path, content, message):
    source = tmp_path / "bad.json"
    source.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["standards", "import-case", str(source)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Drafted" not in result.output
