"""Unit versions as CASE 1.1 packages, without the app: every package of every unit validates against 1EdTech's
CFPackage schema, identifiers are the same each time and differ between versions, the tree is the unit's, and
supersession and equivalence become replacedBy and exactMatchOf associations."""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from assessor.domain import case
from assessor.domain.standards import Unit, Usage, load_unit, parse_unit
from tests.web.test_any_unit_shape import unit_documents

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "data" / "interop" / "case-1.1" / "cfpackage.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
BASE = "https://assessor.example.org"
LOADED = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)
UNIT_FILES = sorted(
    [
        *(ROOT / "standards").glob("*.yaml"),
        *(ROOT / "assessor" / "demo" / "units").glob("*.yaml"),
        *(ROOT / "tests" / "data").glob("*.yaml"),
    ]
)
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


def published(unit: Unit, usage: Usage | None = None, changed: datetime.datetime = LOADED) -> case.PublishedVersion:
    return case.PublishedVersion(unit, usage or unit.usage, changed)


def every_unit() -> list[case.PublishedVersion]:
    return [published(load_unit(path)) for path in UNIT_FILES]


def problems(package: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(package)]


def by_code(package: dict) -> dict[str, dict]:
    return {item["humanCodingScheme"]: item for item in package["CFItems"]}


def links(package: dict, kind: str) -> set[tuple[str, str]]:
    """(origin identifier, destination identifier) of every association of a kind."""
    return {
        (a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"])
        for a in package["CFAssociations"]
        if a["associationType"] == kind
    }


def variant(path: Path, **changes) -> Unit:
    """A unit file with some top-level fields changed, as another file would have them."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document.update(changes)
    return parse_unit(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), f"{path.stem}-variant.yaml")


def test_the_format_checker_checks_uris_and_timestamps():
    # Without jsonschema's format extras `uri` and `date-time` pass unchecked, and the schema would say less.
    checker = Draft202012Validator.FORMAT_CHECKER
    assert {"uri", "date-time", "date"} <= set(checker.checkers)
    assert list(VALIDATOR.iter_errors({"CFDocument": {"identifier": "x", "uri": "not a uri"}}))


@pytest.mark.parametrize("path", UNIT_FILES, ids=lambda p: p.name)
def test_every_unit_shipped_or_in_the_test_data_is_a_valid_cf_package(path):
    versions = every_unit()
    version = next(v for v in versions if v.unit.source_sha256 == load_unit(path).source_sha256)
    package = case.package(version, versions, BASE)
    assert problems(package) == []
    unit = version.unit
    expected = (
        len(unit.components) + len(unit.criteria()) + len(unit.evidence_requirements) + len(unit.evidence_items())
    )
    assert len(package["CFItems"]) == expected
    assert package["CFDocument"]["title"] == unit.title


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit_documents())
def test_any_unit_shape_the_format_allows_is_a_valid_cf_package(document):
    unit = parse_unit(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "generated.yaml")
    version = published(unit)
    package = case.package(version, [version], BASE)
    assert problems(package) == []
    codes = [item["humanCodingScheme"] for item in package["CFItems"]]
    assert codes == [
        *(n for c in unit.components for n in (c.number, *(k.number for k in c.criteria))),
        *(i for g in unit.evidence_requirements for i in (g.id, *(item.id for top in g.items for item in top.walk()))),
    ]
    assert len(links(package, case.IS_CHILD_OF)) == len(codes)


def test_the_seed_units_items_carry_their_numbers_and_verbatim_texts():
    nz = case.package(published(load_unit(ROOT / "standards" / "us_case_mgmt.yaml")), [], BASE)
    items = by_code(nz)
    assert items["1"]["CFItemType"] == "Outcome"
    assert items["1.3"]["CFItemType"] == "Performance criterion"
    assert items["1.3"]["fullStatement"] == (
        "Demonstrate active communication to establish facts and needs to encourage, client participation."
    )
    assert items["1.3"]["extensions"]["range"] == [
        "may include but is not limited to – use of open questions, reflective listening, appropriate non-verbal "
        "behaviours, tone of voice."
    ]
    csc = case.package(published(load_unit(ROOT / "standards" / "cscofm023.yaml")), [], BASE)
    items = by_code(csc)
    assert items["PE"]["CFItemType"] == "Evidence requirement"
    assert items["PE"]["fullStatement"] == "Evidence of Performance"
    assert items["PE1"]["CFItemType"] == "Performance evidence"
    assert items["PE1"]["fullStatement"] == (
        "interpreting and applying legislation, strategic plans and organisational purpose"
    )
    assert items["KE1"]["CFItemType"] == "Knowledge evidence"
    assert csc["CFDocument"]["adoptionStatus"] == "Deprecated"
    assert csc["CFDocument"]["statusStartDate"] == "2021-01-24"
    assert csc["CFDocument"]["extensions"]["code"] == "CSCOFM023"
    assert nz["CFDocument"]["adoptionStatus"] == "Adopted"
    assert "statusStartDate" not in nz["CFDocument"]


def test_identifiers_are_lower_case_name_based_uuids_under_the_projects_namespace():
    assert case.NAMESPACE == uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/assessor-project/assessor/case")
    package = case.package(published(load_unit(ROOT / "standards" / "cscofm023.yaml")), [], BASE)
    identifiers = [package["CFDocument"]["identifier"]]
    identifiers += [i["identifier"] for i in package["CFItems"]] + [a["identifier"] for a in package["CFAssociations"]]
    assert len(set(identifiers)) == len(identifiers)
    for identifier in identifiers:
        parsed = uuid.UUID(identifier)
        assert str(parsed) == identifier  # lower case, hyphenated
        assert parsed.version == 5 and parsed.variant == uuid.RFC_4122
    assert package["CFDocument"]["identifier"] == str(uuid.uuid5(case.NAMESPACE, "unit:cscofm023@1"))
    assert by_code(package)["1.1"]["identifier"] == str(uuid.uuid5(case.NAMESPACE, "unit:cscofm023@1:criterion:1.1"))
    assert by_code(package)["KE16.1"]["identifier"] == case.item_identifier("cscofm023", 1, "evidence", "KE16.1")


def test_the_same_unit_version_always_gets_the_same_identifiers_wherever_and_whenever_it_is_served():
    path = ROOT / "standards" / "us_case_mgmt.yaml"
    first = case.package(published(load_unit(path)), [], BASE)
    again = case.package(published(load_unit(path), changed=LOADED + datetime.timedelta(days=30)), [], "http://x.test")
    assert first == case.package(published(load_unit(path)), [], BASE)
    ids = lambda p: [p["CFDocument"]["identifier"], *(i["identifier"] for i in p["CFItems"])]  # noqa: E731
    assert ids(first) == ids(again)
    assert [a["identifier"] for a in first["CFAssociations"]] == [a["identifier"] for a in again["CFAssociations"]]
    assert again["CFDocument"]["uri"].startswith("http://x.test/ims/case/v1p1/CFDocuments/")


def test_another_version_of_the_same_unit_shares_no_identifier():
    path = ROOT / "standards" / "us_case_mgmt.yaml"
    first = case.package(published(load_unit(path)), [], BASE)
    second = case.package(published(variant(path, version=2)), [], BASE)
    ids = lambda p: {p["CFDocument"]["identifier"], *(i["identifier"] for i in p["CFItems"])}  # noqa: E731
    assert ids(first).isdisjoint(ids(second))
    assert [i["humanCodingScheme"] for i in first["CFItems"]] == [i["humanCodingScheme"] for i in second["CFItems"]]


def test_the_tree_hangs_components_and_evidence_groups_off_the_document_and_nested_items_off_their_heading():
    package = case.package(published(load_unit(ROOT / "standards" / "cscofm023.yaml")), [], BASE)
    items = by_code(package)
    document = package["CFDocument"]["identifier"]
    parent = {origin: destination for origin, destination in links(package, case.IS_CHILD_OF)}
    assert len(parent) == len(package["CFItems"])  # every item has exactly one parent
    assert parent[items["1"]["identifier"]] == document
    assert parent[items["PE"]["identifier"]] == document
    assert parent[items["1.1"]["identifier"]] == items["1"]["identifier"]
    assert parent[items["PE1"]["identifier"]] == items["PE"]["identifier"]
    assert parent[items["KE16"]["identifier"]] == items["KE"]["identifier"]
    assert parent[items["KE16.1"]["identifier"]] == items["KE16"]["identifier"]
    order = {
        a["originNodeURI"]["identifier"]: a["sequenceNumber"]
        for a in package["CFAssociations"]
        if a["associationType"] == case.IS_CHILD_OF
    }
    assert [order[items[n]["identifier"]] for n in ("1.1", "1.2", "1.3")] == [1, 2, 3]
    assert "occasions" not in items["KE16"].get("extensions", {})  # a heading: evidence is mapped to its items
    assert items["KE16.1"]["extensions"]["occasions"] == 1


def test_a_release_with_a_mapping_table_replaces_the_one_before_and_says_what_matches_exactly():
    units = ROOT / "assessor" / "demo" / "units"
    release1 = published(load_unit(units / "example_support_plans_1.yaml"))
    release2 = published(load_unit(units / "example_support_plans_2.yaml"), changed=LOADED + datetime.timedelta(1))
    both = [release1, release2]
    old, new = case.package(release1, both, BASE), case.package(release2, both, BASE)
    old_doc, new_doc = old["CFDocument"]["identifier"], new["CFDocument"]["identifier"]
    before, after = by_code(old), by_code(new)
    # the documents: release 1 replaced by release 2, equivalent as the table says
    assert links(old, case.REPLACED_BY) == links(new, case.REPLACED_BY)
    assert (old_doc, new_doc) in links(new, case.REPLACED_BY)
    assert (new_doc, old_doc) in links(new, case.EXACT_MATCH_OF)
    # the criteria: unchanged ones (renumbered or not) match exactly, a changed one is replaced, removed and new ones
    # have no counterpart
    assert (after["1.2"]["identifier"], before["1.2"]["identifier"]) in links(new, case.EXACT_MATCH_OF)
    assert (after["2.1"]["identifier"], before["2.2"]["identifier"]) in links(new, case.EXACT_MATCH_OF)
    assert (before["1.3"]["identifier"], after["1.3"]["identifier"]) in links(new, case.REPLACED_BY)
    named = {i for pair in links(new, case.EXACT_MATCH_OF) | links(new, case.REPLACED_BY) for i in pair}
    assert before["2.1"]["identifier"] not in named and after["2.2"]["identifier"] not in named
    # the same association has the same identifier and time in both packages
    shared = {a["identifier"]: a for a in old["CFAssociations"] if a["associationType"] != case.IS_CHILD_OF}
    assert shared and all(a in new["CFAssociations"] for a in shared.values())
    assert {a["lastChangeDateTime"] for a in shared.values()} == {"2026-03-02T09:30:00Z"}
    assert problems(old) == [] and problems(new) == []
    # a criterion's Range of Conditions goes with it, its text plain
    assert after["1.1"]["fullStatement"] == "Read the person's plan and confirm the support it asks for."
    assert after["1.1"]["extensions"]["rangeOfConditions"] == [
        {
            "term": "plan",
            "text": "must include one or more of:",
            "items": ["a support plan", "a care plan", "a plan the person wrote themselves"],
        }
    ]


def test_a_later_catalogue_version_replaces_the_earlier_without_a_table():
    path = ROOT / "standards" / "us_case_mgmt.yaml"
    first, second = published(load_unit(path)), published(variant(path, version=2))
    package = case.package(first, [first, second], BASE)
    assert links(package, case.REPLACED_BY) == {
        (case.document_identifier("us_case_mgmt", 1), case.document_identifier("us_case_mgmt", 2))
    }
    assert links(package, case.EXACT_MATCH_OF) == set()  # no table says they are equivalent
    assert links(case.package(second, [second], BASE), case.REPLACED_BY) == set()


def test_a_status_naming_a_replacement_replaces_the_unit_with_the_replacements_latest_version():
    csc = load_unit(ROOT / "standards" / "cscofm023.yaml")
    nz = load_unit(ROOT / "standards" / "us_case_mgmt.yaml")
    replacement = variant(ROOT / "standards" / "us_case_mgmt.yaml", id="csc_new", code="CSCOFM099", version=3)
    superseded = Usage("superseded", datetime.date(2026, 1, 1), "cscofm099")  # by code, in any case
    versions = [published(csc, superseded), published(nz), published(replacement)]
    package = case.package(versions[0], versions, BASE)
    assert links(package, case.REPLACED_BY) == {
        (case.document_identifier("cscofm023", 1), case.document_identifier("csc_new", 3))
    }
    assert package["CFDocument"]["extensions"]["replacedBy"] == "cscofm099"
    assert package["CFDocument"]["statusStartDate"] == "2026-01-01"
    assert problems(package) == []


def test_a_replacement_not_published_here_leaves_no_dangling_association():
    csc = load_unit(ROOT / "standards" / "cscofm023.yaml")
    alone = published(csc, Usage("superseded", datetime.date(2026, 1, 1), "US 99999"))
    package = case.package(alone, [alone], BASE)
    assert links(package, case.REPLACED_BY) == set()
    assert package["CFDocument"]["adoptionStatus"] == "Deprecated"
    assert package["CFDocument"]["extensions"]["replacedBy"] == "US 99999"


def test_an_association_is_found_by_its_identifier_and_an_unknown_one_is_not():
    version = published(load_unit(ROOT / "standards" / "us_case_mgmt.yaml"))
    package = case.package(version, [version], BASE)
    first = package["CFAssociations"][0]
    assert case.association([version], first["identifier"], BASE) == first
    assert case.association([version], str(uuid.uuid4()), BASE) is None


def test_a_single_item_names_its_document():
    version = published(load_unit(ROOT / "standards" / "us_case_mgmt.yaml"))
    identifier = case.item_identifier("us_case_mgmt", 1, "criterion", "2.2")
    item = case.listed_item(version, identifier, BASE)
    assert item is not None and item["humanCodingScheme"] == "2.2"
    assert item["CFDocumentURI"]["identifier"] == case.document_identifier("us_case_mgmt", 1)
    assert case.listed_item(version, case.document_identifier("us_case_mgmt", 1), BASE) is None


def test_a_prerequisite_published_here_precedes_the_unit_requiring_it():
    requiring = published(load_unit(ROOT / "tests" / "data" / "publisher_fields.yaml"))  # requires EXCLR001
    assert links(case.package(requiring, [requiring], BASE), case.PRECEDES) == set()  # EXCLR001 is not published
    interviewing = published(variant(ROOT / "tests" / "data" / "valid_unit.yaml", code="EXCLR001"))
    both = [requiring, interviewing]
    expected = {
        (case.document_identifier("example_safe_lifting", 1), case.document_identifier("example_client_review", 1))
    }
    assert links(case.package(requiring, both, BASE), case.PRECEDES) == expected
    assert links(case.package(interviewing, both, BASE), case.PRECEDES) == expected
    assert problems(case.package(requiring, both, BASE)) == []
