"""Plain rows streamed into .xlsx workbooks with openpyxl's write-only mode, typed and styled by column."""

from __future__ import annotations

import contextlib
import datetime
import functools
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

KINDS = ("text", "date", "datetime", "int", "percent", "status")
_FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "percent": "0%"}
PROGRESS_EVERY = 1000
_HEADER_FILL = "DDEBF7"
_GREEN, _RED, _AMBER, _GREY = "C6EFCE", "FFC7CE", "FFEB9C", "E7E6E6"
STATUS_FILLS: dict[str, str] = {
    "Satisfied": _GREEN,
    "Achieved": _GREEN,
    "Competent": _GREEN,
    "Not yet satisfied": _RED,
    "Revoked": _RED,
    "Evidence recorded": _AMBER,
    "Not started": _GREY,
}
# Excel's own Good / Bad / Neutral pairings: dark text of the same hue stays legible on each fill, printed or not.
_TEXT_ON_FILL = {_GREEN: "006100", _RED: "9C0006", _AMBER: "9C5700", _GREY: "262626"}
_MAX_CELL_TEXT = 32767  # Excel's limit, in UTF-16 code units; longer cells make Excel "repair" the file
_MAX_TITLE = 31
SHEET_ROWS = 1_048_576  # Excel's and LibreOffice's rows per sheet, the header included; more are cut off on opening
# Control characters (tab and newline aside), surrogates and non-characters: XML cannot hold them.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Column:
    """One column: its header, its width in Excel character units, and how its values are typed and shown."""

    header: str
    width: float
    kind: str = "text"

    def __post_init__(self) -> None:
        """Refuse kinds the writer does not know."""
        if self.kind not in KINDS:
            raise ValueError(f"column {self.header!r} has unknown kind {self.kind!r}; expected one of {KINDS}")


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a title, its columns, and rows of plain values that are consumed once, as they stream."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]]


def write_workbook(
    sheets: Iterable[Sheet],
    target: BinaryIO | str | Path,
    on_row: Callable[[int], None] | None = None,
    sheet_rows: int = SHEET_ROWS,
) -> int:
    """Write the sheets to target as one workbook; return the number of data rows, reporting progress to on_row.

    A sheet with more rows than a spreadsheet program shows (`sheet_rows`, its header included) goes on in further
    sheets, "Title (2)" and so on, each with the header again: nothing is cut off when the file is opened."""
    book = Workbook(write_only=True)
    taken = {"history"}  # Excel reserves this sheet name
    written = 0
    try:
        for sheet in sheets:
            rows: Iterator[Sequence[object]] = iter(sheet.rows)
            title = sheet.title
            while True:
                part = itertools.islice(rows, sheet_rows - 1)
                written = _write_sheet(book, sheet, _unique_title(title, taken), part, written, on_row)
                following = next(rows, None)
                if following is None:
                    break
                rows = itertools.chain([following], rows)
                title = f"{sheet.title} (cont.)"
        if not book.worksheets:
            raise ValueError("a workbook needs at least one sheet")
        book.save(target)
    except Exception:
        _discard(book)
        raise
    # A total that is a multiple of PROGRESS_EVERY has just been reported; anything else, zero included, has not.
    if on_row is not None and (written == 0 or written % PROGRESS_EVERY):
        on_row(written)
    return written


def _discard(book: Workbook) -> None:
    """Finish a failed workbook into nothing: each streamed sheet's temporary file goes now, not when the process
    exits."""
    with contextlib.suppress(Exception):
        book.save(io.BytesIO())


def _write_sheet(
    book: Workbook,
    sheet: Sheet,
    title: str,
    rows: Iterable[Sequence[object]],
    written: int,
    on_row: Callable[[int], None] | None,
) -> int:
    """Stream a header and `rows` into a new sheet of book with `sheet`'s columns; return the running count of data
    rows."""
    if not sheet.columns:
        raise ValueError(f"sheet {sheet.title!r} has no columns")
    ws = book.create_sheet(title)
    # Widths and panes belong to the sheet's opening XML, which is written with the first row.
    for index, column in enumerate(sheet.columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"
    ws.append([_header(ws, column.header) for column in sheet.columns])
    cells = _Cells(ws)
    last_row = 1
    for row in rows:
        ws.append([cells.of(column, value) for column, value in zip(sheet.columns, row, strict=True)])
        last_row += 1
        written += 1
        if on_row is not None and written % PROGRESS_EVERY == 0:
            on_row(written)
    # The filter is written after the rows, so its extent can wait until they are all known.
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{last_row}"
    return written


def _header(ws: WriteOnlyWorksheet, text: str) -> Cell:
    """A bold, shaded header cell."""
    cell = _text_cell(ws, text)
    cell.font = Font(bold=True)
    cell.fill = _solid(_HEADER_FILL)
    return cell


class _Cells:
    """The cells of one sheet, typed, formatted and coloured by column kind.

    What openpyxl makes the same cell of from the value alone (text, whole numbers) goes to it as the value; the rest
    are cells given a style built once per sheet, on the first cell that needs it (so the workbook lists the same
    styles in the same order as when each cell was styled alone). Both are about the cost per cell: a cell object
    costs more than its value, and giving each cell its font and fill compares them with every font and fill of the
    workbook."""

    def __init__(self, ws: WriteOnlyWorksheet):
        self.ws = ws
        self.styles: dict[str, StyleArray] = {}

    def of(self, column: Column, value: object) -> Cell | str | float | None:
        """What to append for one value of column: a cell, a plain value, or None for an empty cell."""
        if value is None:
            return None
        kind = column.kind
        if kind in ("text", "status"):
            if not isinstance(value, str):
                raise _wrong(column, value)
            if kind == "status" and value in STATUS_FILLS:
                return self._styled(value, value, _status_style(STATUS_FILLS[value]))
            return self._text(value)
        if kind == "int":
            return _number(column, value)  # type: ignore[return-value]  # int for this kind
        return self._styled(kind, _number(column, value), number_format=_FORMATS[kind])

    def _text(self, text: str) -> str | Cell | None:
        """Text as _text_cell keeps it; as the plain text when openpyxl would store that as text too (not as a
        formula or an error value)."""
        text = _clip(_clean(text), _MAX_CELL_TEXT)
        if text.startswith(FORMULA_START) or text in ERROR_CODES:
            return _text_cell(self.ws, text)
        return text or None

    def _styled(
        self,
        key: str,
        value: object,
        fill_font: tuple[PatternFill, Font] | None = None,
        number_format: str | None = None,
    ) -> Cell:
        """A cell holding value with the style known by key: the sheet's first such cell is styled one attribute at a
        time and lends its style to the rest."""
        style = self.styles.get(key)
        if style is not None:
            return Cell(self.ws, row=1, column=1, value=value, style_array=style)  # type: ignore[arg-type]  # dates too
        cell = WriteOnlyCell(self.ws, value)  # type: ignore[arg-type]  # its stubs leave out dates
        if fill_font:
            cell.fill, cell.font = fill_font
        if number_format:
            cell.number_format = number_format
        self.styles[key] = StyleArray(cell._style)  # type: ignore[attr-defined]  # the array a cell keeps its style in
        return cell


def _number(column: Column, value: object) -> float | datetime.date:
    """The value Excel stores for a date, datetime, int or percent column."""
    match column.kind:
        case "date" if isinstance(value, datetime.date):
            return value.date() if isinstance(value, datetime.datetime) else value
        case "datetime" if isinstance(value, datetime.datetime):
            # Excel has no time zones: aware times are written as UTC.
            return value if value.tzinfo is None else value.astimezone(datetime.UTC).replace(tzinfo=None)
        # bool is an int to Python, not to a spreadsheet; a percentage comes as whole per cent, "0%" wants a fraction.
        case "int" | "percent" if isinstance(value, int) and not isinstance(value, bool):
            return value if column.kind == "int" else value / 100
    raise _wrong(column, value)


def _wrong(column: Column, value: object) -> TypeError:
    """Refuse a value of the wrong type for its column."""
    return TypeError(f"column {column.header!r} ({column.kind}) cannot hold {value!r}")


def _text_cell(ws: WriteOnlyWorksheet, text: str) -> Cell:
    """A cell holding text exactly as given (less what XML cannot hold), never as a formula; empty text leaves it
    empty."""
    text = _clip(_clean(text), _MAX_CELL_TEXT)
    cell = WriteOnlyCell(ws, text or None)
    if text:
        # openpyxl takes "=..." for a formula; trainees' narratives must never run as one in the reader's Excel.
        cell.data_type = "s"
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True  # marked as text, it stays text even when someone edits the cell in Excel
    return cell


def _clean(text: str) -> str:
    """Text without the characters XML cannot hold, with every line break as a newline."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ILLEGAL.sub("", text)


def _clip(text: str, limit: int) -> str:
    """Text cut to at most limit UTF-16 code units, the unit Excel counts in, without splitting a character."""
    if 2 * len(text) <= limit:
        return text  # no character takes more than two units
    encoded = text.encode("utf-16-le")
    return text if len(encoded) <= 2 * limit else encoded[: 2 * limit].decode("utf-16-le", "ignore")


def _unique_title(title: str, taken: set[str]) -> str:
    """A valid sheet name close to title and unlike those taken (Excel ignores case); adds it to taken."""
    base = " ".join(_BAD_TITLE.sub(" ", _clean(title)).split()).strip("' ") or "Sheet"
    name, number = _clip(base, _MAX_TITLE).rstrip("' "), 1
    while name.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        name = _clip(base, _MAX_TITLE - len(suffix)).rstrip("' ") + suffix
    taken.add(name.casefold())
    return name


@functools.cache
def _status_style(fill: str) -> tuple[PatternFill, Font]:
    """The fill and legible font for one status colour, built once."""
    return _solid(fill), Font(color="FF" + _TEXT_ON_FILL.get(fill, "000000"))


def _solid(colour: str) -> PatternFill:
    """A solid fill of this RRGGBB colour, written opaque (FF alpha) as Excel itself writes it."""
    return PatternFill("solid", fgColor="FF" + colour)
