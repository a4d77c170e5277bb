"""Every export opens in a real spreadsheet program: LibreOffice converts each sheet to CSV and the values match."""

from __future__ import annotations

import csv
import datetime
import os
import shutil
import subprocess

import openpyxl
import pytest

from tests.records.factories import build_cohort, build_world

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# UTF-8 (76), cell contents as shown (the ninth token), every sheet to its own file (-1).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"

pytestmark = pytest.mark.skipif(
    SOFFICE is None and os.environ.get("CI") != "true",
    reason="LibreOffice is not installed (apt-get install libreoffice-calc); CI installs it",
)


def shown(cell) -> str:
    """What a spreadsheet shows for a cell, given its value and number format."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if "hh" in cell.number_format else value.date().isoformat()
    if cell.number_format == "0%":
        return f"{round(value * 100)}%"
    return str(value)


@pytest.mark.parametrize("kind", ["progress", "matrix", "evidence", "completions"])
def test_libreoffice_opens_each_export_with_the_same_values(app, runner, tmp_path, kind):
    assert SOFFICE, "LibreOffice must be installed in CI"
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        build_cohort(session, world, 6)
    target = tmp_path / f"{kind}.xlsx"
    result = runner.invoke(args=["export", kind, "--as", "coordinator", "-o", str(target)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "csv"
    subprocess.run(
        [SOFFICE, "--headless", "--convert-to", CSV_FILTER, "--outdir", str(out), str(target)],
        check=True,
        capture_output=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    book = openpyxl.load_workbook(target)
    try:
        for sheet in book.worksheets:
            converted = out / f"{kind}-{sheet.title}.csv"
            if len(book.worksheets) == 1 and not converted.exists():
                converted = out / f"{kind}.csv"
            with converted.open(encoding="utf-8", newline="") as handle:
                from_libreoffice = list(csv.reader(handle))
            expected = [[shown(cell) for cell in row] for row in sheet.iter_rows()]
            assert from_libreoffice == expected, sheet.title
    finally:
        book.close()
