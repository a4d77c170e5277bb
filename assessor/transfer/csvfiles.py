"""Plain rows as CSV, for exports too large for a spreadsheet program or read by other programs: UTF-8 with a
byte-order mark (so that Excel reads accents and macrons right), one file per sheet, in a .zip when there are
several; no row limit. Values are written as `workbook` types them: dates as YYYY-MM-DD, times in UTC, percentages
with a per cent sign, and text that a spreadsheet would take for a formula behind an apostrophe."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from assessor.transfer.workbook import FORMULA_START, PROGRESS_EVERY, Column, Sheet

BOM_ENCODING = "utf-8-sig"


def write_csv(
    sheets: Sequence[Sheet], target: Path, on_row: Callable[[int], None] | None = None, archive: bool = False
) -> int:
    """Write the sheets to `target`: one .csv file, or with `archive` (an export with a sheet per unit, however many
    units it has) a .zip of .csv files; return the number of data rows, reporting progress."""
    if not archive and len(sheets) != 1:
        raise ValueError("a .csv file holds one sheet")
    written = 0
    if not archive:
        with target.open("w", encoding=BOM_ENCODING, newline="") as out:
            written = _write(out, sheets[0], written, on_row)
    else:
        taken: set[str] = set()
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as files:
            for sheet in sheets:
                name = _file_name(sheet.title, taken)
                with files.open(name, "w") as raw, io.TextIOWrapper(raw, encoding=BOM_ENCODING, newline="") as out:
                    written = _write(out, sheet, written, on_row)
    if on_row is not None and (written == 0 or written % PROGRESS_EVERY):
        on_row(written)
    return written


def _write(out: TextIO, sheet: Sheet, written: int, on_row: Callable[[int], None] | None) -> int:
    rows = csv.writer(out)
    rows.writerow([_text(c.header) for c in sheet.columns])
    for row in sheet.rows:
        rows.writerow([_value(column, value) for column, value in zip(sheet.columns, row, strict=True)])
        written += 1
        if on_row is not None and written % PROGRESS_EVERY == 0:
            on_row(written)
    return written


def _value(column: Column, value: object) -> str:
    if value is None:
        return ""
    match column.kind:
        case "text" | "status" if isinstance(value, str):
            return _text(value)
        case "date" if isinstance(value, datetime.date):
            return (value.date() if isinstance(value, datetime.datetime) else value).isoformat()
        case "datetime" if isinstance(value, datetime.datetime):
            moment = value if value.tzinfo is None else value.astimezone(datetime.UTC)
            return moment.strftime("%Y-%m-%d %H:%M")
        case "int" if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        case "percent" if isinstance(value, int) and not isinstance(value, bool):
            return f"{value}%"
    raise TypeError(f"column {column.header!r} ({column.kind}) cannot hold {value!r}")


def _text(text: str) -> str:
    """Text as given, but never as a formula: a trainee's narrative must not run in the reader's spreadsheet."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _file_name(title: str, taken: set[str]) -> str:
    """A file name in the .zip for a sheet: its title without characters file systems refuse, unique."""
    base = "".join(ch if ch.isalnum() or ch in " -_()." else "_" for ch in title).strip(" .") or "sheet"
    name, n = base, 1
    while name.casefold() in taken:
        n += 1
        name = f"{base} ({n})"
    taken.add(name.casefold())
    return f"{name}.csv"
