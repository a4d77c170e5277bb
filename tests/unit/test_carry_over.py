"""The mapping table a publisher prints when a unit supersedes another, and what carries over because of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assessor.demo.sample import EXAMPLES
from assessor.domain.carry_over import Carry, follows, plan
from assessor.domain.standards import load_unit, parse_unit
from assessor.domain.standards.schema import json_schema
from assessor.domain.vocabulary import TargetKind
from tests.unit.test_loader import line_of, problems_of

DATA = Path(__file__).resolve().parents[1] / "data"
RELEASE_1 = load_unit(EXAMPLES / "example_support_plans_1.yaml")
RELEASE_2 = load_unit(EXAMPLES / "example_support_plans_2.yaml")
SECOND = (EXAMPLES / "example_support_plans_2.yaml").read_text(encoding="utf-8")


def test_the_mapping_table_loads_with_each_criterion_change():
    mapping = RELEASE_2.mapping_from(RELEASE_1)
    assert mapping is not None and mapping.is_equivalent
    assert (mapping.unit, mapping.version, mapping.note) == (
        "example_support_plans",
        1,
        "Minor changes to wording; record keeping is now digital.",
    )
    assert [(c.change, c.source, c.target) for c in mapping.criteria] == [
        ("unchanged", "1.2", "1.2"),
        ("changed", "1.3", "1.3"),
        ("unchanged", "2.2", "2.1"),
        ("removed", "2.1", None),
        ("new", None, "2.2"),
    ]
    assert RELEASE_1.mapping_from(RELEASE_2) is None


def test_what_carries_follows_the_table_and_otherwise_the_same_number_in_the_same_words():
    found = plan(RELEASE_1, RELEASE_2)
    assert [(t.target, t.carry, t.source) for t in found.targets] == [
        ("1.1", Carry.CARRIED, "1.1"),  # the table is silent; same number, same words
        ("1.2", Carry.CARRIED, "1.2"),  # reworded, and the table says unchanged
        ("1.3", Carry.CHANGED, "1.3"),  # the table says changed
        ("2.1", Carry.CARRIED, "2.2"),  # renumbered
        ("2.2", Carry.NEW, None),
        ("PE1", Carry.CARRIED, "PE1"),
        ("KE1.1", Carry.CARRIED, "KE1.1"),
        ("KE1.2.1", Carry.CARRIED, "KE1.2.1"),
        ("KE1.2.2", Carry.CHANGED, "KE1.2.2"),  # the table is silent; its words changed
    ]
    assert {t.kind for t in found.targets if t.target.startswith("KE")} == {TargetKind.ITEM}
    assert found.left_behind == ("1.3", "2.1", "KE1.2.2")
    assert found.targets[2].note == "now includes risks to the community"


def test_without_a_table_only_the_same_words_carry_and_a_changed_range_is_a_change():
    document = yaml.safe_load(SECOND)
    del document["supersedes"]
    document["components"][0]["criteria"][0]["range"] = ["includes plans written by others"]
    untabled = parse_unit(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "r2.yaml")
    carries = {t.target: t.carry for t in plan(RELEASE_1, untabled).targets}
    assert carries["1.1"] is Carry.CHANGED  # a range now
    assert carries["1.2"] is Carry.CHANGED  # reworded, and nothing says it is unchanged
    assert carries["2.1"] is Carry.CHANGED  # 2.1 now means what 2.2 meant
    assert carries["PE1"] is Carry.CARRIED


def test_a_table_naming_a_criterion_the_earlier_unit_lacks_carries_nothing_for_it():
    text = SECOND.replace('      - from: "2.2"\n        to: "2.1"', '      - from: "2.9"\n        to: "2.1"')
    found = {t.target: t for t in plan(RELEASE_1, parse_unit(text, "r2.yaml")).targets}
    assert found["2.1"].carry is Carry.NEW
    assert found["2.1"].note == "the mapping names 2.9, which the earlier unit does not have"


def test_which_units_an_enrolment_may_move_to():
    assert follows(RELEASE_2, RELEASE_1)
    assert not follows(RELEASE_1, RELEASE_2)
    assert not follows(RELEASE_1, RELEASE_1)
    document = yaml.safe_load(SECOND)
    document.update(id="example_new_support", code="EXSUP020", version=1)
    document["supersedes"][0].update(unit="EXSUP010", version=None)
    del document["supersedes"][0]["version"]
    successor = parse_unit(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "new.yaml")
    assert follows(successor, RELEASE_1)  # another unit whose table names it by code, any version
    assert [t.carry for t in plan(RELEASE_1, successor).targets][:2] == [Carry.CARRIED, Carry.CARRIED]
    stranger = parse_unit((DATA / "publisher_fields.yaml").read_text(encoding="utf-8"), "other.yaml")
    assert not follows(stranger, RELEASE_1)


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            '      - to: "2.2"\n        change: new',
            '      - to: "2.7"\n        change: new',
            '      - to: "2.7"',
            'supersedes[0].criteria[4].to: "2.7" is not a criterion or evidence item (without nested items) of this '
            "unit",
        ),
        (
            '      - to: "2.2"\n        change: new',
            '      - to: "KE1.2"\n        change: new',
            '      - to: "KE1.2"',
            'supersedes[0].criteria[4].to: "KE1.2" is not a criterion or evidence item (without nested items) of this '
            "unit",
        ),
        (
            '      - to: "2.2"\n        change: new',
            '      - to: "1.2"\n        change: new',
            '      - to: "1.2"',
            'supersedes[0].criteria[4].to: "1.2" is mapped twice',
        ),
        (
            '      - from: "2.1"\n        change: removed',
            '      - from: "2.1"\n        to: "2.2"\n        change: removed',
            '        to: "2.2"',
            'supersedes[0].criteria[3].to: a mapping "removed" has no "to"',
        ),
        (
            '      - from: "2.2"\n        to: "2.1"\n        change: unchanged',
            '      - to: "2.1"\n        change: unchanged',
            '      - to: "2.1"',
            'supersedes[0].criteria[2].from: a mapping "unchanged" needs "from"',
        ),
        (
            "        change: changed",
            "        change: kept",
            "        change: kept",
            "supersedes[0].criteria[1].change: 'kept' is not one of unchanged, changed, new, removed",
        ),
        (
            "    equivalence: equivalent",
            "    equivalence: yes",
            "    equivalence: yes",
            "supersedes[0].equivalence: expected one of equivalent, not_equivalent, got true/false 'yes'",
        ),
        (
            "    version: 1\n    title",
            "    version: 2\n    title",
            "  - unit: example_support_plans",
            'supersedes[0].version: a unit supersedes only an earlier version of itself: give the "version" below 2',
        ),
        (
            "    version: 1\n    title",
            "    title",
            "  - unit: example_support_plans",
            'supersedes[0].version: a unit supersedes only an earlier version of itself: give the "version" below 2',
        ),
    ],
)
def test_a_wrong_mapping_table_is_refused_with_its_line(old, new, line, message):
    assert old in SECOND
    text = SECOND.replace(old, new, 1)
    assert problems_of(text) == [f"unit.yaml:{line_of(text, line)}: {message}"]


def test_the_json_schema_describes_the_mapping_table():
    table = json_schema()["properties"]["supersedes"]["items"]
    assert table["required"] == ["unit", "equivalence"]
    assert table["properties"]["criteria"]["items"]["properties"]["change"] == {
        "enum": ["unchanged", "changed", "new", "removed"]
    }


@pytest.mark.parametrize("odd", ["[removed]", "{a: 1}", "7", "null"])
def test_a_change_that_is_not_a_word_is_refused_not_a_crash(odd):
    text = SECOND.replace('      - from: "2.1"\n        change: removed', f'      - from: "2.1"\n        change: {odd}')
    assert text != SECOND
    found = problems_of(text)
    assert len(found) == 1 and "supersedes[0].criteria[3].change" in found[0]
