"""Range of Conditions: the terms a criterion marks in bold, each with the list of what it must or may include."""

from __future__ import annotations

from pathlib import Path

import pytest

from assessor.cli.standards import unit_tree
from assessor.demo.sample import EXAMPLES
from assessor.domain.standards import load_unit
from assessor.domain.standards.schema import json_schema
from tests.unit.test_loader import line_of, problems_of

DATA = Path(__file__).resolve().parents[1] / "data"
TEXT = (EXAMPLES / "example_support_plans_1.yaml").read_text(encoding="utf-8")
UNIT = load_unit(EXAMPLES / "example_support_plans_1.yaml")


def test_a_marked_term_is_plain_in_the_text_and_linked_to_its_list():
    first, _, third = UNIT.components[0].criteria
    assert first.text == "Read the person's plan and confirm the support it asks for."  # plain, for every export
    assert first.marked == "Read the person's **plan** and confirm the support it asks for."
    assert first.terms == ("plan",)
    (plan,) = UNIT.conditions_for(first)
    assert (plan.term, plan.text, plan.items) == (
        "plan",
        "must include one or more of:",
        ("a support plan", "a care plan", "a plan the person wrote themselves"),
    )
    assert [c.term for c in UNIT.conditions_for(third)] == ["risks"]
    assert UNIT.conditions_for(UNIT.components[0].criteria[1]) == ()
    assert UNIT.components[0].criteria[1].marked is None


def test_standards_show_prints_each_criterions_conditions_under_it():
    lines = list(unit_tree(UNIT))
    at = lines.index("    1.1 Read the person's plan and confirm the support it asks for.")
    assert lines[at + 1 : at + 5] == [
        "        Range of conditions, plan: must include one or more of:",
        "          - a support plan",
        "          - a care plan",
        "          - a plan the person wrote themselves",
    ]


UNUSED_RISKS = (
    "  - term: risks",
    "range_of_conditions[1].term: no criterion marks this term (write it **so** in the criterion)",
)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "Identify **risks** to",
            "Identify **hazards** to",
            [
                (
                    "        text: Identify **hazards** to the person and to workers.",
                    'components[0].criteria[2].text: "hazards" is marked but range_of_conditions has no entry for it',
                ),
                UNUSED_RISKS,
            ],
        ),
        (
            "Identify **risks** to",
            "Identify **risks to",
            [
                (
                    "        text: Identify **risks to the person and to workers.",
                    "components[0].criteria[2].text: a ** has no partner: mark a Range of Conditions term **so**",
                ),
                UNUSED_RISKS,
            ],
        ),
        (
            "Identify **risks** to",
            "Identify **Plan** to",
            [UNUSED_RISKS],  # terms match whatever their case
        ),
        (
            "  - term: risks\n",
            "  - term: Plan\n",
            [
                ("  - term: Plan", 'range_of_conditions[1].term: "Plan" has two entries'),
                (
                    "        text: Identify **risks** to the person and to workers.",
                    'components[0].criteria[2].text: "risks" is marked but range_of_conditions has no entry for it',
                ),
            ],
        ),
        (
            "      - risks to the person's rights\n",
            "      - risks to the person's rights\n  - term: dangers\n    items: [slips]\n",
            [
                (
                    "  - term: dangers",
                    "range_of_conditions[2].term: no criterion marks this term (write it **so** in the criterion)",
                )
            ],
        ),
        (
            "    items:\n      - risks to physical safety\n      - risks to the person's rights\n",
            "",
            [("  - term: risks", "range_of_conditions[1].items: missing required field in range condition")],
        ),
    ],
)
def test_a_wrong_range_of_conditions_is_refused_with_its_line(old, new, expected):
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    assert problems_of(text) == sorted(
        [f"unit.yaml:{line_of(text, line)}: {message}" for line, message in expected],
        key=lambda p: int(p.split(":")[1]),
    )


def test_the_json_schema_describes_range_of_conditions():
    entry = json_schema()["properties"]["range_of_conditions"]["items"]
    assert entry["required"] == ["term", "items"] and entry["additionalProperties"] is False
