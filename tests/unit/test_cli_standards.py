"""The `assessor standards` commands, through click's test runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from assessor.cli import main

ROOT = Path(__file__).resolve().parents[2]
STANDARDS = ROOT / "standards"
DATA = ROOT / "tests" / "data"


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("ASSESSOR_STANDARDS_DIR", str(STANDARDS))
    return CliRunner()


def test_validate_accepts_the_seed_units(cli):
    result = cli.invoke(main, ["standards", "validate", *map(str, sorted(STANDARDS.glob("*.yaml")))])
    assert result.exit_code == 0, result.output
    assert "us_case_mgmt.yaml: ok: us_case_mgmt@1, 2 outcomes, 8 criteria, 0 evidence items" in result.output
    assert "cscofm023.yaml: ok: cscofm023@1, 2 elements, 19 criteria" in result.output


def test_validate_lists_every_problem_of_every_file_and_exits_1(cli, tmp_path):
    broken = tmp_path / "broken.yaml"
    text = (STANDARDS / "us_case_mgmt.yaml").read_text(encoding="utf-8")
    text = text.replace('number: "1.2"', 'number: "1.1"', 1).replace("classification:", "clasification:", 1)
    lines = text.splitlines()
    syntax_line = next(i for i, line in enumerate(lines) if line.strip().startswith("title:"))
    lines[syntax_line] += " : broken: here"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text("id: [\n", encoding="utf-8")

    result = cli.invoke(main, ["standards", "validate", str(broken), str(other), str(DATA / "valid_unit.yaml")])

    assert result.exit_code == 1
    errors = result.stderr
    dup_line = [i + 1 for i, line in enumerate(lines) if line.strip() == '- number: "1.1"'][1]
    key_line = next(i + 1 for i, line in enumerate(lines) if line.startswith("clasification:"))
    assert f'{broken}:{dup_line}: components[0].criteria[1].number: duplicate criterion number "1.1"' in errors
    assert f'{broken}:{key_line}: clasification: unknown key in unit (did you mean "classification"?)' in errors
    assert f"{broken}:{syntax_line + 1}: invalid YAML: mapping values are not allowed here" in errors
    assert f"{other}:2: invalid YAML" in errors
    assert "valid_unit.yaml: ok: example_safe_lifting@1" in result.stdout


def test_validate_needs_a_file(cli):
    result = cli.invoke(main, ["standards", "validate"])
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_list_shows_every_unit(cli):
    result = cli.invoke(main, ["standards", "list"])
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.output.splitlines()]
    assert [
        "cscofm023",
        "v1",
        "CSCOFM023",
        "training.gov.au",
        "deleted",
        "Establish offender management practices",
    ] in rows
    assert [
        "us_case_mgmt",
        "v1",
        "-",
        "NZQA",
        "current",
        "Build and maintain effective and respectful relationships in case management",
    ] in rows


@pytest.mark.parametrize("name", ["CSCOFM023", "cscofm023"])
def test_show_prints_the_unit_as_a_tree(cli, name):
    result = cli.invoke(main, ["standards", "show", name])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "CSCOFM023 Establish offender management practices (cscofm023@1)"
    assert "  Element 2: Design and monitor implementation procedures" in lines
    assert "    2.10 Complete all relevant reporting procedures." in lines
    assert any(line.startswith("      KE16.1 organisation’s policies") for line in lines)


def test_show_includes_range_statements(cli):
    result = cli.invoke(main, ["standards", "show", "us_case_mgmt"])
    assert result.exit_code == 0, result.output
    assert "        Range: professionalism, empathy." in result.output.splitlines()


def test_show_unknown_unit_fails_clearly(cli):
    result = cli.invoke(main, ["standards", "show", "nope"])
    assert result.exit_code == 1
    assert "no unit 'nope' in the catalogue" in result.output


def test_schema_is_valid_json_schema_and_accepts_the_seeds(cli):
    result = cli.invoke(main, ["standards", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for path in [*STANDARDS.glob("*.yaml"), DATA / "valid_unit.yaml"]:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_DatesAsText)
        assert list(validator.iter_errors(document)) == [], path


def test_schema_refuses_what_the_loader_refuses(cli):
    schema = json.loads(cli.invoke(main, ["standards", "schema"]).output)
    document = yaml.load((DATA / "valid_unit.yaml").read_text(), Loader=_DatesAsText)
    document["components"][0]["titel"] = document["components"][0].pop("title")
    document["components"][1]["criteria"][0]["number"] = 2.1
    messages = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]
    assert any("'title' is a required property" in m for m in messages)
    assert any("2.1 is not of type 'string'" in m for m in messages)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["standards"],
        ["standards", "validate"],
        ["standards", "list"],
        ["standards", "show"],
        ["standards", "schema"],
    ],
)
def test_every_command_has_help(cli, command):
    result = cli.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_flask_cli_knows_the_same_commands(runner):
    result = runner.invoke(args=["standards", "list"])
    assert result.exit_code == 0
    assert "cscofm023" in result.output


def test_broken_standards_folder_does_not_stop_validate(cli, tmp_path, monkeypatch):
    shutil.copy(DATA / "valid_unit.yaml", tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("id: [\n")
    monkeypatch.setenv("ASSESSOR_STANDARDS_DIR", str(tmp_path))
    result = cli.invoke(main, ["standards", "validate", str(tmp_path / "a.yaml")])
    assert result.exit_code == 0, result.output


class _DatesAsText(yaml.SafeLoader):
    """Reads YAML dates as text, as editors validating against a JSON Schema do."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def test_show_prints_everything_the_unit_page_shows(cli):
    nz = cli.invoke(main, ["standards", "show", "us_case_mgmt"]).output.splitlines()
    assert "  Purpose" in nz and "  Guidance information" in nz
    assert "      - Human Rights Act 1993;" in nz and "      and all subsequent amendments and replacements." in nz
    assert "  Evidence accepted from: workplace, simulated_workplace (Guidance Information 4)" in nz
    csc = cli.invoke(main, ["standards", "show", "cscofm023"]).output.splitlines()
    assert "  status deleted" not in csc and any(
        "status deleted since 2021-01-24, no replacement" in line for line in csc
    )
    assert "  Application" in csc and "  Assessment conditions" in csc and "  Foundation skills" in csc
    assert "    Assessors must satisfy the NVR/AQTF mandatory competency requirements for assessors." in csc
    assert any(line.startswith("    Evidence required to demonstrate competence") for line in csc)


def test_show_gives_the_occasions_each_target_needs(cli, tmp_path, monkeypatch):
    (tmp_path / "unit.yaml").write_text((DATA / "valid_unit.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("ASSESSOR_STANDARDS_DIR", str(tmp_path))
    lines = cli.invoke(main, ["standards", "show", "example_safe_lifting"]).output.splitlines()
    needing_two = [line.strip() for line in lines if line.endswith("[2 occasions]")]
    assert needing_two == ["2.1 Lift with a straight back and bent knees. [2 occasions]"], lines
    assert "  Occasions needed: 1 for each criterion and evidence item, unless stated" in lines
