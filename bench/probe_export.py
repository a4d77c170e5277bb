"""Run one export (or the openpyxl floor) in a fresh process and print its time and peak memory as JSON."""

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
    """The real `assessor export KIND --as coordinator -o OUTPUT`, in this process."""
    from assessor.cli import main

    baseline = peak_mb()
    started = time.perf_counter()
    main(["export", kind, "--as", "coordinator", "-o", output], standalone_mode=False)
    return {"seconds": time.perf_counter() - started, "peak_mb": peak_mb(), "baseline_mb": baseline}


def matrix_in_memory(database_url: str) -> list[tuple[str, list, list[list[object]]]]:
    """The criteria matrix's sheets as ready lists of rows, made by the export's own queries (not timed)."""
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
            (s.title, list(s.columns), [list(row) for row in s.rows])
            for s in reports.sheets(session, "matrix", filters)
        ]


def write_floor(sheets: list[tuple[str, list, list[list[object]]]], output: str) -> None:
    """Plain openpyxl write-only: the same cells (values, number formats, status fills and fonts) and nothing else."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    from assessor.transfer.workbook import STATUS_FILLS, _status_style

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
        for row in rows:
            cells = []
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    cells.append(None)
                    continue
                cell = WriteOnlyCell(ws, value / 100 if column.kind == "percent" else value)
                if column.kind == "percent":
                    cell.number_format = "0%"
                elif value in styles:
                    cell.fill, cell.font = styles[value]
                cells.append(cell)
            ws.append(cells)
    book.save(output)


def run_floor(database_url: str, output: str) -> dict[str, float]:
    """The floor, and the project's own writer on the same ready rows, each timed alone."""
    from assessor.transfer.workbook import Sheet, write_workbook

    sheets = matrix_in_memory(database_url)
    rows = sum(len(r) for _, _, r in sheets)
    cells = sum(len(r) * len(c) for _, c, r in sheets)
    gc.collect()
    started = time.perf_counter()
    write_floor(sheets, output)
    floor = time.perf_counter() - started
    started = time.perf_counter()
    write_workbook([Sheet(t, c, iter(r)) for t, c, r in sheets], output + ".writer.xlsx")
    writer = time.perf_counter() - started
    return {"seconds": floor, "writer_seconds": writer, "rows": rows, "cells": cells, "peak_mb": peak_mb()}


def main() -> None:
    """Parse the arguments, run one probe, print the JSON result on the last line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", help="progress, matrix, evidence, completions, or floor")
    parser.add_argument("output")
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    result = run_floor(args.database_url, args.output) if args.what == "floor" else run_export(args.what, args.output)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
