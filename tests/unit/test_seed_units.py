"""The two seed unit standards, checked word for word against the published texts kept in tests/data/seed_texts.py."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from assessor.domain.standards import Unit, load_unit
from tests.data import seed_texts as seed

STANDARDS = Path(__file__).parents[2] / "standards"


def norm(text: str) -> str:
    """White space normalised as the loader does it, for one paragraph."""
    return " ".join(text.split())


def paragraphs(*texts: str) -> str:
    """Several paragraphs as the loader returns them: each normalised, joined by a blank line."""
    return "\n\n".join(norm(t) for t in texts)


@pytest.fixture(scope="module")
def nz() -> Unit:
    return load_unit(STANDARDS / "us_case_mgmt.yaml")


@pytest.fixture(scope="module")
def csc() -> Unit:
    return load_unit(STANDARDS / "cscofm023.yaml")


@pytest.fixture(scope="module")
def units(nz: Unit, csc: Unit) -> dict[str, Unit]:
    return {"us_case_mgmt": nz, "cscofm023": csc}


# --- expected structure, per unit ------------------------------------------------------------------------------------

COMPONENTS = {"us_case_mgmt": seed.NZ_OUTCOMES, "cscofm023": seed.CSC_ELEMENTS}
CRITERIA = {"us_case_mgmt": seed.NZ_CRITERIA, "cscofm023": seed.CSC_CRITERIA}
RANGES = {"us_case_mgmt": seed.NZ_RANGES, "cscofm023": {}}

ALL_CRITERIA = [(unit_id, number, text) for unit_id, criteria in CRITERIA.items() for number, text in criteria]


# --- metadata --------------------------------------------------------------------------------------------------------


def test_nz_metadata(nz: Unit) -> None:
    assert nz.id == "us_case_mgmt"
    assert nz.version == 1
    assert nz.framework == "NZQA"
    assert nz.code is None  # the published text gives no unit number
    assert nz.display_code == "us_case_mgmt"
    assert nz.title == norm(seed.NZ_TITLE)
    assert nz.level == seed.NZ_LEVEL == 5
    assert nz.credits == seed.NZ_CREDITS == 24
    assert nz.purpose == paragraphs(*seed.NZ_PURPOSE)
    assert nz.classification == seed.NZ_CLASSIFICATION == "Public Sector Services > Case Management"
    assert nz.competency_field is None
    assert nz.results.achieved == seed.NZ_AVAILABLE_GRADE == "Achieved"
    assert nz.results.not_achieved == "Not achieved"
    assert nz.usage.status == "current"
    assert nz.usage.since is None
    assert nz.usage.replaced_by is None
    assert nz.component_label == "Outcome"
    assert nz.assessment_conditions is None
    assert nz.foundation_skills is None
    assert nz.evidence_requirements == ()


def test_nz_purpose_list_entries_are_their_own_paragraphs(nz: Unit) -> None:
    parts = nz.purpose.split("\n\n")
    assert len(parts) == 4
    assert [p for p in parts if p.startswith("– ")] == [norm(p) for p in seed.NZ_PURPOSE[2:]]


def test_csc_metadata(csc: Unit) -> None:
    assert csc.id == "cscofm023"
    assert csc.version == 1
    assert csc.framework == "training.gov.au"
    assert csc.code == seed.CSC_CODE == "CSCOFM023"
    assert csc.display_code == "CSCOFM023"
    assert csc.title == norm(seed.CSC_TITLE)
    assert csc.level is None
    assert csc.credits is None
    assert csc.purpose == paragraphs(*seed.CSC_APPLICATION)
    assert csc.classification is None
    assert csc.competency_field == seed.CSC_COMPETENCY_FIELD == "Offender management"
    assert csc.results.achieved == "Competent"
    assert csc.results.not_achieved == "Not yet competent"
    assert csc.component_label == "Element"
    assert csc.guidance == ()


def test_csc_is_deleted_without_replacement(csc: Unit) -> None:
    assert csc.usage.status == "deleted"
    assert csc.usage.since == datetime.date(2021, 1, 24)
    assert csc.usage.replaced_by is None
    assert not csc.usage.accepts_enrolment_starting(datetime.date(2021, 1, 24))
    assert csc.usage.accepts_enrolment_starting(datetime.date(2021, 1, 23))


def test_csc_assessment_conditions_and_foundation_skills(csc: Unit) -> None:
    assert csc.assessment_conditions == paragraphs(*seed.CSC_ASSESSMENT_CONDITIONS)
    assert csc.foundation_skills == paragraphs(*seed.CSC_FOUNDATION_SKILLS)
    assert csc.assessment_conditions.count("\n\n") == 1
    assert csc.foundation_skills.count("\n\n") == 2


@pytest.mark.parametrize(
    ("unit_id", "basis"),
    [("us_case_mgmt", "Guidance Information 4"), ("cscofm023", "Assessment Conditions")],
)
def test_rules(units: dict[str, Unit], unit_id: str, basis: str) -> None:
    rules = units[unit_id].rules
    assert rules.accepted_contexts == ("workplace", "simulated_workplace")
    assert rules.basis == basis
    assert rules.occasions == 1
    assert rules.accepts("workplace")
    assert rules.accepts("simulated_workplace")
    assert not rules.accepts("off_the_job")


# --- components and criteria -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("unit_id", "components", "criteria"), [("us_case_mgmt", 2, 8), ("cscofm023", 2, 19)])
def test_counts(units: dict[str, Unit], unit_id: str, components: int, criteria: int) -> None:
    unit = units[unit_id]
    assert len(unit.components) == len(COMPONENTS[unit_id]) == components
    assert len(unit.criteria()) == len(CRITERIA[unit_id]) == criteria


@pytest.mark.parametrize("unit_id", ["us_case_mgmt", "cscofm023"])
def test_component_numbers_and_titles(units: dict[str, Unit], unit_id: str) -> None:
    unit = units[unit_id]
    assert [(c.number, c.title) for c in unit.components] == [(n, norm(t)) for n, t in COMPONENTS[unit_id]]


@pytest.mark.parametrize("unit_id", ["us_case_mgmt", "cscofm023"])
def test_criteria_numbers_in_order(units: dict[str, Unit], unit_id: str) -> None:
    unit = units[unit_id]
    assert [c.number for c in unit.criteria()] == [n for n, _ in CRITERIA[unit_id]]
    for component in unit.components:
        assert all(c.number.startswith(f"{component.number}.") for c in component.criteria)


@pytest.mark.parametrize(("unit_id", "number", "text"), ALL_CRITERIA, ids=[f"{u}-{n}" for u, n, _ in ALL_CRITERIA])
def test_criterion_text_is_verbatim(units: dict[str, Unit], unit_id: str, number: str, text: str) -> None:
    criterion = {c.number: c for c in units[unit_id].criteria()}[number]
    assert criterion.text == norm(text)
    assert criterion.occasions is None
    assert units[unit_id].occasions_for(criterion) == 1


@pytest.mark.parametrize("unit_id", ["us_case_mgmt", "cscofm023"])
def test_range_statements(units: dict[str, Unit], unit_id: str) -> None:
    unit = units[unit_id]
    expected = RANGES[unit_id]
    for criterion in unit.criteria():
        assert criterion.range == tuple(norm(r) for r in expected.get(criterion.number, ())), criterion.number
    assert unit.range == ()
    assert all(component.range == () for component in unit.components)


def test_nz_criteria_with_range(nz: Unit) -> None:
    assert [c.number for c in nz.criteria() if c.range] == ["1.3", "1.4", "1.5", "1.6", "2.1"]
    assert all(len(c.range) == 1 for c in nz.criteria() if c.range)


# --- NZQA guidance ----------------------------------------------------------------------------------------------------


def test_nz_guidance_notes(nz: Unit) -> None:
    assert [(n.number, n.topic) for n in nz.guidance] == [
        ("1", "legislation"),
        ("2", "general"),
        ("3", "general"),
        ("4", "general"),
        ("5", "definitions"),
    ]


def test_nz_legislation_note(nz: Unit) -> None:
    note = nz.guidance[0]
    assert note.title is None
    assert note.text == norm(seed.NZ_GUIDANCE_1_TEXT)
    assert note.items == tuple(norm(i) for i in seed.NZ_GUIDANCE_1_ITEMS)
    assert len(note.items) == 7
    assert note.closing == norm(seed.NZ_GUIDANCE_1_CLOSING)
    assert note.definitions == ()


@pytest.mark.parametrize("number", ["2", "3", "4"])
def test_nz_general_notes(nz: Unit, number: str) -> None:
    note = {n.number: n for n in nz.guidance}[number]
    assert note.text == paragraphs(*seed.NZ_GUIDANCE_GENERAL[number])
    assert note.title is None
    assert note.items == ()
    assert note.closing is None
    assert note.definitions == ()


def test_nz_note_3_has_two_paragraphs(nz: Unit) -> None:
    assert nz.guidance[2].text.count("\n\n") == 1


def test_nz_definitions(nz: Unit) -> None:
    note = nz.guidance[4]
    assert note.title == "Definitions"
    assert note.text is None
    assert [(d.term, d.text) for d in note.definitions] == [(norm(t), norm(x)) for t, x in seed.NZ_DEFINITIONS]
    assert len(note.definitions) == 6
    for definition in note.definitions:
        assert definition.term in definition.text


# --- training.gov.au evidence requirements ----------------------------------------------------------------------------


def test_csc_evidence_groups(csc: Unit) -> None:
    assert [(g.id, g.kind, g.title) for g in csc.evidence_requirements] == [
        ("PE", "performance", "Evidence of Performance"),
        ("KE", "knowledge", "Evidence of Knowledge"),
    ]
    pe, ke = csc.evidence_requirements
    assert pe.text == norm(seed.CSC_PE_TEXT)
    assert ke.text == norm(seed.CSC_KE_TEXT)


def test_csc_evidence_counts(csc: Unit) -> None:
    pe, ke = csc.evidence_requirements
    assert len(pe.items) == len(seed.CSC_PE_ITEMS) == 13
    assert all(item.items == () for item in pe.items)
    assert len(ke.items) == len(seed.CSC_KE_ITEMS) == 17
    assert [(i.id, len(i.items)) for i in ke.items if i.items] == [("KE16", 8), ("KE17", 8)]
    nested = sum(len(i.items) for i in ke.items)
    assert nested == 16
    assert len(csc.evidence_items()) == 13 + 17 + 16
    assert len(csc.assessable_items()) == 13 + 15 + 16


def test_csc_performance_evidence(csc: Unit) -> None:
    pe = csc.evidence_requirements[0]
    assert [(i.id, i.text) for i in pe.items] == [(i, norm(t)) for i, t in seed.CSC_PE_ITEMS]


def test_csc_knowledge_evidence(csc: Unit) -> None:
    ke = csc.evidence_requirements[1]
    actual = [(i.id, i.text, tuple((n.id, n.text) for n in i.items)) for i in ke.items]
    expected = [(i, norm(t), tuple((n, norm(x)) for n, x in nested)) for i, t, nested in seed.CSC_KE_ITEMS]
    assert actual == expected
    for item in ke.items:
        assert all(n.items == () for n in item.items)


def test_csc_evidence_items_in_document_order(csc: Unit) -> None:
    expected = [i for i, _ in seed.CSC_PE_ITEMS]
    for item_id, _, nested in seed.CSC_KE_ITEMS:
        expected.append(item_id)
        expected.extend(n for n, _ in nested)
    assert [i.id for i in csc.evidence_items()] == expected
    assert [i.id for i in csc.assessable_items()] == [i for i in expected if i not in {"KE16", "KE17"}]
    assert all(i.occasions is None for i in csc.evidence_items())


# --- the published text's oddities stay as published ------------------------------------------------------------------


def test_nz_keeps_published_wording(nz: Unit) -> None:
    criteria = {c.number: c.text for c in nz.criteria()}
    assert "to encourage, client participation." in criteria["1.3"]
    assert "includes but are not limited to:" in nz.guidance[0].text
    assert nz.guidance[1].text.count("non- public sector") == 2
    assert "New Zealand’s diverse, bi-, and multicultural environment." in nz.guidance[2].text
    assert "their whānau," in nz.guidance[2].text
    assert "may include but is not limited to – use of open questions" in nz.criteria()[2].range[0]


def test_csc_keeps_published_wording(csc: Unit) -> None:
    criteria = {c.number: c.text for c in csc.criteria()}
    assert "longerterm needs of the organisation’s clients." in criteria["1.2"]
    items = {i.id: i.text for i in csc.evidence_items()}
    assert (
        items["PE8"] == "establishing and maintaining relationships and networks interpersonal communication, including"
    )
    assert "increased selfawareness" in items["KE17.7"]
    assert csc.foundation_skills.split("\n\n")[1] == "ACSF levels indicative of performance:"


@pytest.mark.parametrize("unit_id", ["us_case_mgmt", "cscofm023"])
def test_no_table_boilerplate_or_ascii_substitutes(units: dict[str, Unit], unit_id: str) -> None:
    unit = units[unit_id]
    texts = [unit.title, unit.purpose or "", *(c.title for c in unit.components)]
    texts += [c.text for c in unit.criteria()] + [r for c in unit.criteria() for r in c.range]
    texts += [i.text for i in unit.evidence_items()]
    for note in unit.guidance:
        texts += [note.text or "", *note.items, note.closing or "", *(d.text for d in note.definitions)]
    joined = "\n".join(texts)
    for boilerplate in (
        "ELEMENTS",
        "PERFORMANCE CRITERIA",
        "Elements describe the essential outcomes",
        "Performance criteria describe",
    ):
        assert boilerplate not in joined
    assert "'s " not in joined  # the publisher uses the typographic apostrophe ’ throughout
    assert "·" not in joined  # list bullets are layout, not text
