"""Run one export (or its openpyxl floor) in a fresh process and print its time and peak memory as JSON.

Beside each time, the process's CPU time: on a machine other work shares, it varies less than the time, though it
leaves out what a database server does for the export."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    """This program's peak resident memory so far, in MB: VmHWM, which starts afresh at exec (ru_maxrss would carry the
    parent's peak over from the fork, and the benchmark's own process is larger than an export)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_export(kind: str, output: str) -> dict[str, float]:
    """The real `assessor export KIND --as coordinator -o OUTPUT`, in this process. The application is built first by
    the command's own factory and timed apart ("start_seconds"): its start-up is the same for every export, whatever
    its size, and a worker doing export jobs has paid it once for all of them."""
    from flask.cli import ScriptInfo

    from assessor.cli import _create_app, main

    baseline = peak_mb()
    started = time.perf_counter()
    app = _create_app()
    start_seconds = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    main(
        ["export", kind, "--as", "coordinator", "-o", output],
        standalone_mode=False,
        obj=ScriptInfo(create_app=lambda: app),
    )
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "start_seconds": start_seconds,
        "peak_mb": peak_mb(),
        "baseline_mb": baseline,
    }


def sheets_in_memory(database_url: str, kind: str) -> list[tuple[str, list, list[list[object]]]]:
    """One export's sheets as ready lists of rows, made by the export's own queries (not timed)."""
    from assessor import create_app
    from assessor.core.access import visible_enrolments
    from assessor.core.database import database
    from assessor.models import Enrolment, User
    from assessor.transfer import reports

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench"})
    with app.app_context(), database().read_sessions() as session:
        import sqlalchemy as sa

        actor = session.scalar(sa.select(User).where(User.username == "coordinator"))
        filters = reports.Filters(visible_enrolments(actor).with_only_columns(Enrolment.id))
        return [
            (s.title, list(s.columns), [list(row) for row in s.rows]) for s in reports.sheets(session, kind, filters)
        ]


def stored_values(sheets: list[tuple[str, list, list[list[object]]]]) -> list[tuple[str, list, list[list[object]]]]:
    """The values the cells hold, as the export stores them (not timed): whole per cent as a fraction, a date
    column's datetime as its date, an aware time as naive UTC, empty text as no cell."""
    import datetime

    def stored(kind: str, value: object) -> object:
        if value is None or value == "":
            return None
        if kind == "percent":
            return value / 100  # type: ignore[operator]
        if kind == "date" and isinstance(value, datetime.datetime):
            return value.date()
        if kind == "datetime" and isinstance(value, datetime.datetime) and value.tzinfo is not None:
            return value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value

    kinds = [[column.kind for column in columns] for _, columns, _ in sheets]
    return [
        (title, columns, [[stored(k, v) for k, v in zip(sheet_kinds, row, strict=True)] for row in rows])
        for (title, columns, rows), sheet_kinds in zip(sheets, kinds, strict=True)
    ]


def write_floor(sheets: list[tuple[str, list, list[list[object]]]], output: str) -> None:
    """Plain openpyxl write-only: the same cells (values, number formats, status fills and fonts, text kept as text)
    and nothing else, from values already as stored."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.styles import Font, PatternFill

    from assessor.transfer.workbook import _FORMATS, FORMULA_START, STATUS_FILLS, _status_style

    styles = {text: _status_style(fill) for text, fill in STATUS_FILLS.items()}
    header_font, header_fill = Font(bold=True), PatternFill("solid", fgColor="FFDDEBF7")
    book = Workbook(write_only=True)
    for title, columns, rows in sheets:
        ws = book.create_sheet(title[:31])
        header = []
        for column in columns:
            cell = WriteOnlyCell(ws, column.header)
            cell.font, cell.fill = header_font, header_fill
            header.append(cell)
        ws.append(header)
        formats = [_FORMATS.get(column.kind) for column in columns]
        statuses = [column.kind == "status" for column in columns]
        for row in rows:
            cells = []
            for number_format, status, value in zip(formats, statuses, row, strict=True):
                # A cell object only where the value alone would not make the same cell: openpyxl writes a value as
                # a cell of its type, unstyled.
                if value is None:
                    cell = None
                elif number_format:
                    cell = WriteOnlyCell(ws, value)
                    cell.number_format = number_format
                elif status and value in styles:
                    cell = WriteOnlyCell(ws, value)
                    cell.fill, cell.font = styles[value]
                elif isinstance(value, str) and (value.startswith(FORMULA_START) or value in ERROR_CODES):
                    cell = WriteOnlyCell(ws, value)
                    cell.data_type = "s"
                    if value.startswith(FORMULA_START):
                        cell.quotePrefix = True
                else:
                    cell = value
                cells.append(cell)
            ws.append(cells)
    book.save(output)


def run_floor(database_url: str, kind: str, output: str) -> dict[str, float]:
    """One export's floor, and the project's own writer on the same ready rows, each timed alone."""
    from assessor.transfer.workbook import Sheet, write_workbook

    sheets = sheets_in_memory(database_url, kind)
    stored = stored_values(sheets)
    rows = sum(len(r) for _, _, r in sheets)
    cells = sum(len(r) * len(c) for _, c, r in sheets)
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    write_floor(stored, output)
    floor, floor_cpu = time.perf_counter() - started, time.process_time() - cpu
    del stored
    gc.collect()
    started = time.perf_counter()
    write_workbook([Sheet(t, c, iter(r)) for t, c, r in sheets], output + ".writer.xlsx")
    writer = time.perf_counter() - started
    return {
        "seconds": floor,
        "cpu_seconds": floor_cpu,
        "writer_seconds": writer,
        "rows": rows,
        "cells": cells,
        "peak_mb": peak_mb(),
    }


def main() -> None:
    """Parse the arguments, run one probe, print the JSON result on the last line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", help="an export (progress, matrix, evidence, completions), or floor-KIND for its floor")
    parser.add_argument("output")
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    floor, _, kind = args.what.partition("-")
    if floor == "floor":
        result = run_floor(args.database_url, kind, args.output)
    else:
        result = run_export(args.what, args.output)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
