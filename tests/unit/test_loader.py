"""The unit standard loader: what it accepts, and a clear message with a line for everything it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from assessor.cli.standards import standards
from assessor.domain.standards import StandardsError, blocks, load_unit, normalise, parse_unit
from assessor.domain.standards.units import MAX_DEPTH, MAX_FILE_BYTES

DATA = Path(__file__).resolve().parents[1] / "data"
VALID = (DATA / "valid_unit.yaml").read_text(encoding="utf-8")


def problems_of(text: str | bytes) -> list[str]:
    with pytest.raises(StandardsError) as caught:
        parse_unit(text, "unit.yaml")
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    """The line number of the line that is exactly `needle`."""
    return text.splitlines().index(needle) + 1


def lines_of(text: str, stripped: str) -> list[int]:
    """The line numbers of every line that is `stripped` once indentation is removed."""
    return [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == stripped]


def test_valid_file_loads_into_frozen_dataclasses():
    unit = load_unit(DATA / "valid_unit.yaml")
    assert unit.key == "example_safe_lifting@1"
    assert [c.number for c in unit.criteria()] == ["1.1", "1.2", "2.1"]
    assert [i.id for i in unit.evidence_items()] == ["KE1", "KE2", "KE2.1", "KE2.2"]
    assert [i.id for i in unit.assessable_items()] == ["KE1", "KE2.1", "KE2.2"]
    assert unit.occasions_for(unit.criteria()[2]) == 2
    assert unit.occasions_for(unit.criteria()[0]) == 1
    assert unit.rules.accepts("workplace") and not unit.rules.accepts("off_the_job")
    assert unit.code is None and unit.level is None
    with pytest.raises(AttributeError):
        unit.title = "changed"  # type: ignore[misc]


def test_source_hash_is_of_the_exact_bytes():
    a = parse_unit(VALID)
    b = parse_unit(VALID.replace("title: Lift loads safely", "title:  Lift loads safely"))
    assert a.title == b.title
    assert a.source_sha256 != b.source_sha256


def test_whitespace_inside_paragraphs_is_normalised_and_paragraphs_kept():
    text = VALID.replace(
        "title: Lift loads safely", "purpose: |\n  First   line\n  continues.\n\n  Second.\ntitle: Lift loads safely"
    )
    assert parse_unit(text).purpose == "First line continues.\n\nSecond."


def test_invalid_yaml_syntax_is_reported_with_its_line():
    text = VALID.replace("text: Assess the load and the route before lifting.", "text: Assess: the load: and the route")
    line = line_of(text, "        text: Assess: the load: and the route")
    assert f"unit.yaml:{line}: invalid YAML: mapping values are not allowed here" in problems_of(text)


def test_syntax_error_does_not_hide_other_problems():
    text = (
        VALID.replace("title: Prepare to lift", "titel: Prepare to lift")
        .replace('number: "2.1"', 'number: "1.2"')
        .replace("text: Use lifting aids where the load requires them.", "text: Use lifting aids: here")
    )
    found = problems_of(text)
    assert (
        f'unit.yaml:{line_of(text, "    titel: Prepare to lift")}: components[0].titel: unknown key in component (did you mean "title"?)'
        in found
    )
    assert (
        f"unit.yaml:{line_of(text, '        text: Use lifting aids: here')}: invalid YAML: mapping values are not allowed here"
        in found
    )
    second = lines_of(text, '- number: "1.2"')[1]
    assert f'unit.yaml:{second}: components[1].criteria[0].number: duplicate criterion number "1.2"' in found


def test_unknown_key_suggests_the_nearest_known_key():
    text = VALID.replace("  accepted_contexts: [workplace]", "  acepted_contexts: [workplace]")
    line = line_of(text, "  acepted_contexts: [workplace]")
    assert problems_of(text) == [
        f'unit.yaml:{line}: rules.acepted_contexts: unknown key in rules (did you mean "accepted_contexts"?)'
    ]


def test_unknown_key_without_a_near_match_has_no_hint():
    text = VALID + "colour: blue\n"
    assert problems_of(text) == [f"unit.yaml:{line_of(text, 'colour: blue')}: colour: unknown key in unit"]


def test_missing_required_field_is_named():
    text = VALID.replace("        text: Use lifting aids where the load requires them.\n", "")
    line = lines_of(text, '- number: "1.2"')[0]
    assert problems_of(text) == [
        f"unit.yaml:{line}: components[0].criteria[1].text: missing required field in criterion"
    ]


def test_missing_top_level_fields_are_all_listed():
    found = problems_of("id: only_an_id\n")
    for field in ("version", "framework", "title", "results", "usage", "component_label", "components"):
        assert f"unit.yaml:1: {field}: missing required field in unit" in found


def test_empty_text_is_refused():
    text = VALID.replace("text: safe lifting techniques", 'text: "   "')
    line = line_of(text, '        text: "   "')
    assert problems_of(text) == [f"unit.yaml:{line}: evidence_requirements[0].items[0].text: text must not be empty"]


def test_duplicate_criterion_number():
    text = VALID.replace('number: "1.2"', 'number: "1.1"')
    second = lines_of(text, '- number: "1.1"')[1]
    assert problems_of(text) == [
        f'unit.yaml:{second}: components[0].criteria[1].number: duplicate criterion number "1.1"'
    ]


def test_duplicate_component_number():
    text = VALID.replace('  - number: "2"', '  - number: "1"').replace('number: "2.1"', 'number: "1.3"')
    second = lines_of(text, '- number: "1"')[1]
    assert problems_of(text) == [f'unit.yaml:{second}: components[1].number: duplicate component number "1"']


def test_duplicate_evidence_identifier():
    text = VALID.replace("id: KE2.2", "id: KE2.1")
    second = lines_of(text, "- id: KE2.1")[1]
    assert problems_of(text) == [
        f'unit.yaml:{second}: evidence_requirements[0].items[1].items[1].id: duplicate evidence identifier "KE2.1"'
    ]


def test_nested_evidence_identifier_must_extend_its_parent():
    text = VALID.replace("id: KE2.2", "id: KE3.2")
    assert problems_of(text) == [
        f'unit.yaml:{line_of(text, "          - id: KE3.2")}: evidence_requirements[0].items[1].items[1].id: nested item "KE3.2" must start with "KE2."'
    ]


def test_occasions_on_a_heading_is_refused_with_its_line():
    text = VALID.replace(
        '        text: "hazards, including:"\n', '        text: "hazards, including:"\n        occasions: 3\n'
    )
    assert problems_of(text) == [
        f"unit.yaml:{line_of(text, '        occasions: 3')}: evidence_requirements[0].items[1].occasions: occasions belongs "
        "on the items evidence is mapped to, not on a heading with nested items: give each nested item its occasions"
    ]


def test_criterion_numbered_outside_its_component():
    text = VALID.replace('number: "2.1"', 'number: "3.1"')
    line = line_of(text, '      - number: "3.1"')
    assert problems_of(text) == [
        f'unit.yaml:{line}: components[1].criteria[0].number: criterion "3.1" is outside component "2": it must start with "2."'
    ]


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ("version: 1", "version: one", "version", "expected a whole number, got text 'one'"),
        ("version: 1", "version: 0", "version", "must be at least 1, got 0"),
        (
            'number: "1.2"',
            "number: 1.20",
            "components[0].criteria[1].number",
            'expected a quoted number such as "1" or "2.10", got a decimal number \'1.20\' (put it in quotes, for example "1.10")',
        ),
        ("title: Lift loads safely", "title: [Lift, loads]", "title", "expected text, got a list"),
        (
            "  status: current",
            "  status: retired",
            "usage.status",
            "'retired' is not one of current, superseded, deleted",
        ),
        (
            "framework: other",
            "framework: nzqa",
            "framework",
            "'nzqa' is not one of NZQA, training.gov.au, other (did you mean \"NZQA\"?)",
        ),
        ("  occasions: 1", "  occasions: true", "rules.occasions", "expected a whole number, got true/false 'true'"),
        (
            "component_label: Element",
            "component_label: 7",
            "component_label",
            "expected one of Outcome, Element, got a whole number '7'",
        ),
        (
            "id: example_safe_lifting",
            "id: Example Lifting",
            "id",
            "'Example Lifting' is not valid: expected lower case letters, digits and underscores, starting with a letter",
        ),
    ],
)
def test_wrong_type_anywhere(old, new, path, message):
    text = VALID.replace(old, new, 1)
    line = next(i + 1 for i, text_line in enumerate(text.splitlines()) if text_line.endswith(new))
    assert problems_of(text) == [f"unit.yaml:{line}: {path}: {message}"]


def test_deleted_unit_needs_its_date():
    text = VALID.replace("  status: current", "  status: deleted")
    assert problems_of(text) == [
        f"unit.yaml:{line_of(text, '  status: deleted')}: usage.since: a deleted unit needs the date it was deleted"
    ]


def test_date_must_be_real():
    text = VALID.replace("  status: current", "  status: deleted\n  since: 2021-02-30")
    assert problems_of(text) == [
        f"unit.yaml:{line_of(text, '  since: 2021-02-30')}: usage.since: 2021-02-30 is not a real date"
    ]


def test_key_given_twice():
    text = VALID + "title: Again\n"
    assert problems_of(text) == [f"unit.yaml:{line_of(text, 'title: Again')}: title: key appears twice"]


def test_file_that_is_not_utf8():
    data = VALID.replace("Lift loads safely", "Lift loads safely \u2013 caf\u00e9").encode("cp1252")
    line = line_of(VALID, "title: Lift loads safely")
    found = problems_of(data)
    assert len(found) == 1 and found[0].startswith(f"unit.yaml:{line}: file is not UTF-8 (byte 0x96")


def test_byte_order_mark_is_accepted():
    assert parse_unit(b"\xef\xbb\xbf" + VALID.encode()).id == "example_safe_lifting"


def test_alias_bomb_is_refused_without_expanding():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)
    )
    found = problems_of(bomb)
    assert found[0] == "unit.yaml:1: YAML anchors and aliases are not allowed in unit standard files"
    assert "unit.yaml:2: YAML anchors and aliases are not allowed in unit standard files" in found


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(VALID + "#" * MAX_FILE_BYTES)
    with pytest.raises(StandardsError) as caught:
        load_unit(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1: file is {path.stat().st_size} bytes; the limit is {MAX_FILE_BYTES}"
    ]


def test_yaml_tags_are_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    text = VALID + f"extra: !!python/object/apply:os.system ['touch {marker}']\n"
    found = problems_of(text)
    assert found == [
        f"unit.yaml:{line_of(text, text.splitlines()[-1])}: YAML tag tag:yaml.org,2002:python/object/apply:os.system is not allowed in unit standard files"
    ]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "file is empty"),
        ("- a\n- b\n", "expected a mapping (unit), got a list"),
        ("id: a\n---\nid: b\n", "file must hold exactly one YAML document"),
    ],
)
def test_files_that_are_not_one_unit(text, message):
    assert f"unit.yaml:1: {message}" in problems_of(text)


def test_unreadable_file_is_reported(tmp_path):
    with pytest.raises(StandardsError) as caught:
        load_unit(tmp_path / "missing.yaml")
    assert "cannot read file" in str(caught.value)


def nested_blocks(kind: str, levels: int) -> str:
    """A file that is `levels` mappings (or lists) deep, one level a line, in block style."""
    if kind == "mapping":
        return "".join(f"{'  ' * i}key:\n" for i in range(levels - 1)) + f"{'  ' * (levels - 1)}key: value\n"
    return "".join(f"{'  ' * i}-\n" for i in range(levels - 1)) + f"{'  ' * (levels - 1)}- value\n"


def nested_flow(kind: str, levels: int) -> str:
    """A value `levels` mappings (or lists) deep, on one line, in flow style."""
    return "{a: " * levels + "x" + "}" * levels if kind == "mapping" else "[" * levels + "]" * levels


@pytest.mark.parametrize("kind", ["mapping", "list"])
def test_deep_nesting_is_refused_without_recursing(kind):
    # Line MAX_DEPTH + 1 opens the first mapping or list nested too deep.
    assert problems_of(nested_blocks(kind, 500)) == [
        f"unit.yaml:{MAX_DEPTH + 1}: file is nested more than {MAX_DEPTH} levels deep"
    ]


@pytest.mark.parametrize("kind", ["mapping", "list"])
def test_nesting_limit_is_exact_and_far_beyond_real_units(kind):
    assert MAX_DEPTH >= 5 * 7  # the seed units are 7 levels deep
    # The unit's own mapping is the first level.
    line = len(VALID.splitlines()) + 1
    too_deep = VALID + f"extra: {nested_flow(kind, MAX_DEPTH)}\n"
    assert problems_of(too_deep) == [f"unit.yaml:{line}: file is nested more than {MAX_DEPTH} levels deep"]
    deep_enough = VALID + f"extra: {nested_flow(kind, MAX_DEPTH - 1)}\n"
    assert problems_of(deep_enough) == [f"unit.yaml:{line}: extra: unknown key in unit"]


@pytest.mark.parametrize("kind", ["mapping", "list"])
def test_validate_command_reports_deep_nesting_and_goes_on(tmp_path, kind):
    deep = tmp_path / "deep.yaml"
    deep.write_text(nested_blocks(kind, 500), encoding="utf-8")
    flow = tmp_path / "flow.yaml"
    flow.write_text(VALID + f"extra: {nested_flow(kind, 500)}\n", encoding="utf-8")
    valid = tmp_path / "valid.yaml"
    valid.write_text(VALID, encoding="utf-8")

    result = CliRunner().invoke(standards, ["validate", str(deep), str(flow), str(valid)])

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        f"{deep}:{MAX_DEPTH + 1}: file is nested more than {MAX_DEPTH} levels deep",
        f"{flow}:{len(VALID.splitlines()) + 1}: file is nested more than {MAX_DEPTH} levels deep",
    ]
    assert result.stdout == f"{valid}: ok: example_safe_lifting@1, 2 elements, 3 criteria, 3 evidence items\n"


PUBLISHED = (DATA / "publisher_fields.yaml").read_text(encoding="utf-8")


def test_the_fields_publishers_print_load():
    unit = parse_unit(PUBLISHED, "unit.yaml")
    assert (unit.publisher_version, unit.sector, unit.standard_setting_body) == (
        "Release 2",
        "Community services",
        "Example Skills Council",
    )
    assert unit.review_date is not None and unit.review_date.isoformat() == "2028-06-30"
    assert (unit.criteria_label, unit.guidance_label, unit.purpose_label) == (
        "Performance criteria",
        "Explanatory notes",
        "Application",
    )
    assert [(p.unit, p.title) for p in unit.prerequisites] == [("EXCLR001", "Interview clients")]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "review_date: 2028-06-30",
            "review_date: next year",
            "review_date: next year",
            "review_date: expected a date written YYYY-MM-DD, got text 'next year'",
        ),
        (
            "  guidance: Explanatory notes",
            "  notes: Explanatory notes",
            "  notes: Explanatory notes",
            "section_names.notes: unknown key in section names",
        ),
        (
            "  - unit: EXCLR001",
            "  - unit: EXCLR002",
            "  - unit: EXCLR002",
            'prerequisites[0].unit: a unit cannot be its own prerequisite ("EXCLR002")',
        ),
        (
            "  - unit: EXCLR001\n    title: Interview clients",
            "  - title: Interview clients",
            "  - title: Interview clients",
            "prerequisites[0].unit: missing required field in prerequisite",
        ),
        (
            "    title: Interview clients\n",
            "    title: Interview clients\n  - unit: exclr001\n",
            "  - unit: exclr001",
            'prerequisites[1].unit: prerequisite "exclr001" is listed twice',
        ),
        (
            "  - skill: Reading\n    description: Interprets case notes to identify changes in the client's situation.",
            "  - skill: Reading",
            "  - skill: Reading",
            "foundation_skills_table[0].description: missing required field in foundation skill",
        ),
        (
            "publisher_version: Release 2",
            "publisher_version: 2",
            "publisher_version: 2",
            "publisher_version: expected text, got a whole number '2'",
        ),
    ],
)
def test_each_new_field_wrong_is_refused_with_its_line(old, new, line, message):
    assert old in PUBLISHED
    text = PUBLISHED.replace(old, new)
    assert problems_of(text) == [f"unit.yaml:{line_of(text, line)}: {message}"]


def test_lists_in_a_text_keep_their_lines_set_apart_from_the_paragraph_that_leads_into_them():
    assert normalise("Bring:\n-  a   pen\n- paper\nand   nothing else.\n\nSecond  paragraph") == (
        "Bring:\n\n- a pen\n- paper\n\nand nothing else.\n\nSecond paragraph"
    )
    assert blocks("Bring:\n\n- a pen\n- paper") == [("paragraph", ["Bring:"]), ("list", ["a pen", "paper"])]
