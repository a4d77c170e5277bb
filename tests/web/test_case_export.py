"""`assessor standards export-case`: a loaded unit version's CASE package to standard output or a file, the same as
the REST path serves, and a clear refusal when there is nothing to export."""

from __future__ import annotations

import json

import pytest

from tests.web.test_case_api import API, CSC, NZ, seeds_and_one_unloaded


@pytest.fixture
def app(make_app, tmp_path):
    return seeds_and_one_unloaded(make_app, tmp_path)


def test_export_case_writes_the_package_the_api_serves(app, client, runner, tmp_path):
    served = client.get(f"{API}/CFPackages/{CSC}").get_json()
    result = runner.invoke(args=["standards", "export-case", "CSCOFM023"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == served
    target = tmp_path / "csc.json"
    result = runner.invoke(args=["standards", "export-case", "us_case_mgmt", "--version", "1", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "us_case_mgmt@1: 10 items and 10 associations written to" in result.output
    assert json.loads(target.read_text(encoding="utf-8")) == client.get(f"{API}/CFPackages/{NZ}").get_json()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nothing_here"], "no unit 'nothing_here' is loaded; `assessor standards list` shows the units"),
        (
            ["cscofm023", "--version", "2"],
            "no unit 'cscofm023' version 2 is loaded; loaded versions of it: cscofm023@1",
        ),
        (
            ["example_safe_lifting"],
            "unit 'example_safe_lifting' is in the standards folder but not loaded: run `assessor init`",
        ),
    ],
)
def test_export_case_says_why_there_is_nothing_to_export(runner, arguments, message):
    result = runner.invoke(args=["standards", "export-case", *arguments])
    assert result.exit_code == 1
    assert message in result.output
    assert "CFDocument" not in result.output


def test_export_case_needs_an_initialised_database(make_app, tmp_path):
    empty = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite'}")
    result = empty.test_cli_runner().invoke(args=["standards", "export-case", "cscofm023"])
    assert result.exit_code == 1
    assert "the database is not initialised or not up to date: run `assessor init` first" in result.output
