"""Exported workbooks read back with the headers, values, types, styles and sheet names they were written with."""

from __future__ import annotations

import ast
import datetime
import io
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from assessor.transfer import workbook as exports
from assessor.transfer.workbook import STATUS_FILLS, Column, Sheet, write_workbook

NZDT = datetime.timezone(datetime.timedelta(hours=13))
COLUMNS = (
    Column("Trainee", 24),
    Column("Observed", 12, "date"),
    Column("Recorded at", 17.5, "datetime"),
    Column("Criteria", 9, "int"),
    Column("Progress", 10, "percent"),
    Column("Status", 18, "status"),
)
ROWS = [
    ("Aroha", datetime.date(2024, 3, 5), datetime.datetime(2024, 3, 5, 9, 30, tzinfo=NZDT), 7, 75, "Satisfied"),
    ("Ben", datetime.date(2023, 12, 31), datetime.datetime(2024, 1, 2, 14, 5), 0, 0, "Not started"),
    (None, None, None, None, None, None),
]


@contextmanager
def opened(source: Path | io.BytesIO) -> Iterator[Workbook]:
    """The workbook read back in normal mode, closed afterwards."""
    book = openpyxl.load_workbook(source)
    try:
        yield book
    finally:
        book.close()


def values(source: Path | io.BytesIO, sheet: int = 0) -> list[tuple[object, ...]]:
    """Every row of one sheet as read back."""
    with opened(source) as book:
        return list(book.worksheets[sheet].iter_rows(values_only=True))


def single_column(tmp_path: Path, kind: str, cells: list[object]) -> list[openpyxl.cell.Cell]:
    """Write cells as one column of this kind and read back its data cells."""
    target = tmp_path / "one.xlsx"
    write_workbook([Sheet("One", [Column("Value", 20, kind)], ([value] for value in cells))], target)
    with opened(target) as book:
        return [row[0] for row in book.active.iter_rows(min_row=2, max_row=len(cells) + 1)]


def test_headers_values_and_types_read_back_cell_by_cell(tmp_path):
    target = tmp_path / "progress.xlsx"
    assert write_workbook([Sheet("Progress", COLUMNS, iter(ROWS))], target) == 3

    with opened(target) as book:
        ws = book["Progress"]
        assert [c.value for c in ws[1]] == ["Trainee", "Observed", "Recorded at", "Criteria", "Progress", "Status"]
        assert all(c.font.b and c.fill.fill_type == "solid" and c.fill.fgColor.rgb == "FFDDEBF7" for c in ws[1])
        assert [ws.column_dimensions[letter].width for letter in "ABCDEF"] == [24, 12, 17.5, 9, 10, 18]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == "A1:F4"

        name, observed, recorded, criteria, progress, status = ws[2]
        assert (name.value, name.data_type) == ("Aroha", "s")
        assert (
            observed.value == datetime.datetime(2024, 3, 5)
            and observed.is_date
            and observed.number_format == "yyyy-mm-dd"
        )
        # 09:30 in New Zealand daylight time is 20:30 UTC the day before.
        assert recorded.value == datetime.datetime(2024, 3, 4, 20, 30) and recorded.number_format == "yyyy-mm-dd hh:mm"
        assert criteria.value == 7 and type(criteria.value) is int
        assert progress.value == 0.75 and progress.number_format == "0%"
        assert (status.value, status.data_type) == ("Satisfied", "s")

        assert [c.value for c in ws[3]] == [
            "Ben",
            datetime.datetime(2023, 12, 31),
            datetime.datetime(2024, 1, 2, 14, 5),
            0,
            0,
            "Not started",
        ]
        assert type(ws["D3"].value) is int and ws["E3"].number_format == "0%"
        assert [c.value for c in ws[4]] == [None] * 6


@pytest.mark.parametrize(
    ("status", "fill", "font"),
    [
        ("Satisfied", "C6EFCE", "006100"),
        ("Achieved", "C6EFCE", "006100"),
        ("Competent", "C6EFCE", "006100"),
        ("Not yet satisfied", "FFC7CE", "9C0006"),
        ("Revoked", "FFC7CE", "9C0006"),
        ("Evidence recorded", "FFEB9C", "9C5700"),
        ("Not started", "E7E6E6", "262626"),
    ],
)
def test_each_status_gets_its_fill_and_a_legible_font(tmp_path, status, fill, font):
    assert STATUS_FILLS[status] == fill
    (cell,) = single_column(tmp_path, "status", [status])
    assert cell.value == status
    assert (cell.fill.fill_type, cell.fill.fgColor.rgb) == ("solid", "FF" + fill)
    assert cell.font.color.rgb == "FF" + font


def test_unknown_statuses_get_no_fill(tmp_path):
    withdrawn, no = single_column(tmp_path, "status", ["Withdrawn", "No"])
    assert (withdrawn.value, no.value) == ("Withdrawn", "No")
    assert withdrawn.fill.fill_type is None and no.fill.fill_type is None


def test_each_cell_of_a_column_gets_its_own_values_style_however_the_statuses_mix(tmp_path):
    statuses = ["Satisfied", "Not started", "Withdrawn", "Satisfied", "Not yet satisfied", "", "Not started"]
    cells = single_column(tmp_path, "status", statuses)
    assert [c.value for c in cells] == [s or None for s in statuses]
    assert [c.fill.fgColor.rgb if c.fill.fill_type else None for c in cells] == [
        "FFC6EFCE",
        "FFE7E6E6",
        None,
        "FFC6EFCE",
        "FFFFC7CE",
        None,
        "FFE7E6E6",
    ]
    assert [c.font.color.rgb for c in cells if c.fill.fill_type] == [
        "FF006100",
        "FF262626",
        "FF006100",
        "FF9C0006",
        "FF262626",
    ]


def test_dates_keep_their_format_down_a_column_and_beside_other_kinds(tmp_path):
    target = tmp_path / "dates.xlsx"
    day = datetime.date(2024, 3, 5)
    rows = [(day, "=1", 5, "Satisfied"), (None, "plain", None, "Not started"), (day, "-2", 7, "Satisfied")] * 2
    write_workbook(
        [
            Sheet(
                "Dates",
                [Column("On", 12, "date"), Column("Note", 9), Column("N", 5, "int"), Column("S", 9, "status")],
                rows,
            )
        ],
        target,
    )
    with opened(target) as book:
        ws = book.active
        on = [row[0] for row in ws.iter_rows(min_row=2)]
        assert [c.value for c in on] == [datetime.datetime(2024, 3, 5), None, datetime.datetime(2024, 3, 5)] * 2
        assert [c.number_format for c in on if c.value] == ["yyyy-mm-dd"] * 4
        notes = [row[1] for row in ws.iter_rows(min_row=2)]
        assert [(c.value, c.data_type, c.quotePrefix) for c in notes] == [
            ("=1", "s", True),
            ("plain", "s", False),
            ("-2", "s", True),
        ] * 2
        numbers = [row[2] for row in ws.iter_rows(min_row=2)]
        assert [(c.value, c.number_format, c.fill.fill_type) for c in numbers] == [
            (5, "General", None),
            (None, "General", None),
            (7, "General", None),
        ] * 2


def test_text_that_looks_like_an_error_value_stays_text(tmp_path):
    cells = single_column(tmp_path, "text", ["#N/A", "#DIV/0!", "#REF!", "N/A"])
    assert [(c.value, c.data_type, c.quotePrefix) for c in cells] == [
        ("#N/A", "s", False),
        ("#DIV/0!", "s", False),
        ("#REF!", "s", False),
        ("N/A", "s", False),
    ]


def test_formula_looking_text_stays_text(tmp_path):
    texts = [
        "=1+2",
        '=HYPERLINK("http://evil.example","click")',
        "+64 21 555 0100",
        "-5",
        "@SUM(A1:A9)",
        "plain",
        "a=b",
    ]
    cells = single_column(tmp_path, "text", texts)
    assert [(c.value, c.data_type) for c in cells] == [(t, "s") for t in texts]
    assert [c.quotePrefix for c in cells] == [True, True, True, True, True, False, False]
    with zipfile.ZipFile(tmp_path / "one.xlsx") as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_characters_xml_cannot_hold_are_removed(tmp_path):
    cells = single_column(
        tmp_path,
        "text",
        ["a\x00b\x07c\x0bd\x1be\x7ff\x85g\ud800h\uffff", "tab\there\nnext line", "windows\r\nmac\rend", "\x01\x02"],
    )
    assert [c.value for c in cells] == ["abcdefgh", "tab\there\nnext line", "windows\nmac\nend", None]


def test_macrons_survive_in_values_headers_and_titles(tmp_path):
    target = tmp_path / "whanau.xlsx"
    write_workbook(
        [Sheet("Whānau ora", [Column("Iwi", 12), Column("Hapū", 12)], [("Ngāti Porou", "Tūhoe"), ("whānau", "Māori")])],
        target,
    )
    with opened(target) as book:
        assert book.sheetnames == ["Whānau ora"]
    assert values(target) == [("Iwi", "Hapū"), ("Ngāti Porou", "Tūhoe"), ("whānau", "Māori")]


def test_text_beyond_excels_cell_limit_is_cut_without_splitting_a_character(tmp_path):
    long, emoji = "x" * 40_000, "y" + "🙂" * 20_000
    cut_long, cut_emoji = (c.value for c in single_column(tmp_path, "text", [long, emoji]))
    assert cut_long == "x" * 32_767
    # Excel counts UTF-16 units: each emoji is two, so 16,383 of them fit after the "y".
    assert cut_emoji == "y" + "🙂" * 16_383


def test_clashing_and_invalid_titles_become_valid_unique_names(tmp_path):
    titles = [
        "Progress",
        "progress",
        "Units 1/2: [draft]?",
        "",
        "History",
        "'Quoted'",
        "Trainee's *notes*",
        "N" * 40,
        "n" * 40,
        "N" * 40,
        "Progress",
    ]
    target = tmp_path / "titles.xlsx"
    write_workbook([Sheet(title, [Column("A", 8)], [(title,)]) for title in titles], target)
    with opened(target) as book:
        assert book.sheetnames == [
            "Progress",
            "progress (2)",
            "Units 1 2 draft",
            "Sheet",
            "History (2)",
            "Quoted",
            "Trainee's notes",
            "N" * 31,
            "n" * 27 + " (2)",
            "N" * 27 + " (3)",
            "Progress (3)",
        ]
        assert [ws["A2"].value or "" for ws in book.worksheets] == titles
        assert all(ws.auto_filter.ref == "A1:A2" and ws.freeze_panes == "A2" for ws in book.worksheets)


def test_a_sheet_without_rows_is_a_header_with_its_filter(tmp_path):
    target = tmp_path / "empty.xlsx"
    calls: list[int] = []
    assert write_workbook([Sheet("Nothing yet", COLUMNS[:3], iter(()))], target, calls.append) == 0
    assert calls == [0]
    with opened(target) as book:
        ws = book.active
        assert ws.max_row == 1
        assert ws.auto_filter.ref == "A1:C1"
        assert ws.freeze_panes == "A2"
    assert values(target) == [("Trainee", "Observed", "Recorded at")]


def test_a_generator_of_5000_rows_is_streamed_with_progress(tmp_path):
    produced = 0
    seen: list[tuple[int, int]] = []

    def rows() -> Iterator[tuple[object, ...]]:
        nonlocal produced
        for n in range(1, 5001):
            produced += 1
            yield (f"trainee{n}", n, n % 101)

    target = tmp_path / "big.xlsx"
    written = write_workbook(
        [Sheet("Big", [Column("Trainee", 16), Column("Number", 8, "int"), Column("Progress", 9, "percent")], rows())],
        target,
        lambda count: seen.append((count, produced)),
    )
    assert written == 5000
    # Each report comes as the rows are streamed, not after the generator has been drained.
    assert seen == [(1000, 1000), (2000, 2000), (3000, 3000), (4000, 4000), (5000, 5000)]
    with opened(target) as book:
        ws = book.active
        assert ws.auto_filter.ref == "A1:C5001"
        assert [c.value for c in ws[5001]] == ["trainee5000", 5000, 0.51]
        assert sum(1 for _ in ws.iter_rows(min_row=2)) == 5000


def test_progress_counts_across_sheets_and_ends_with_the_total(tmp_path):
    calls: list[int] = []
    sheets = [
        Sheet(name, [Column("N", 8, "int")], ([n] for n in range(count)))
        for name, count in (("First", 1500), ("Second", 1000))
    ]
    assert write_workbook(sheets, tmp_path / "two.xlsx", calls.append) == 2500
    assert calls == [1000, 2000, 2500]
    assert len(values(tmp_path / "two.xlsx", 0)) == 1501 and len(values(tmp_path / "two.xlsx", 1)) == 1001


def test_a_sheet_longer_than_a_spreadsheet_shows_goes_on_in_further_sheets_each_with_its_header(tmp_path):
    target = tmp_path / "long.xlsx"
    sheets = [
        Sheet("Register", [Column("N", 8, "int")], ([n] for n in range(1, 8))),
        Sheet("After", [Column("N", 8, "int")], ([n] for n in range(1, 3))),
    ]
    assert write_workbook(sheets, target, sheet_rows=4) == 9  # three data rows and the header fit in each sheet
    with opened(target) as book:
        assert book.sheetnames == ["Register", "Register (cont.)", "Register (cont.) (2)", "After"]
        assert [values(target, i) for i in range(3)] == [
            [("N",), (1,), (2,), (3,)],
            [("N",), (4,), (5,), (6,)],
            [("N",), (7,)],
        ]
        assert [ws.auto_filter.ref for ws in book.worksheets] == ["A1:A4", "A1:A4", "A1:A2", "A1:A3"]
    assert exports.SHEET_ROWS == 1_048_576
    # Exactly full: no empty continuation sheet.
    assert write_workbook([Sheet("Full", [Column("N", 8, "int")], [[1], [2], [3]])], target, sheet_rows=4) == 3
    with opened(target) as book:
        assert book.sheetnames == ["Full"]


def test_writing_to_bytes_a_path_and_a_string_path_gives_the_same_workbook(tmp_path):
    buffer = io.BytesIO()
    assert write_workbook([Sheet("Progress", COLUMNS, ROWS)], buffer) == 3
    assert buffer.getvalue().startswith(b"PK")
    write_workbook([Sheet("Progress", COLUMNS, ROWS)], tmp_path / "as-path.xlsx")
    write_workbook([Sheet("Progress", COLUMNS, ROWS)], str(tmp_path / "as-string.xlsx"))
    assert values(buffer) == values(tmp_path / "as-path.xlsx") == values(tmp_path / "as-string.xlsx")
    assert values(buffer)[1][0] == "Aroha"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("text", 5),
        ("status", 3),
        ("date", "2024-03-05"),
        ("datetime", datetime.date(2024, 3, 5)),
        ("int", True),
        ("int", 2.5),
        ("percent", 0.75),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_and_leaves_no_temporary_files(tmp_path, monkeypatch, kind, value):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    target = tmp_path / "refused.xlsx"
    with pytest.raises(TypeError, match="column 'Value'"):
        write_workbook([Sheet("One", [Column("Value", 8, kind)], iter([[None], [value]]))], target)
    assert list(scratch.iterdir()) == []
    assert not target.exists()


def test_rows_must_match_the_columns_and_kinds_must_be_known(tmp_path):
    with pytest.raises(ValueError):
        write_workbook([Sheet("Short", COLUMNS, [("Aroha",)])], io.BytesIO())
    with pytest.raises(ValueError, match="unknown kind"):
        Column("Score", 8, "float")
    with pytest.raises(ValueError, match="at least one sheet"):
        write_workbook([], io.BytesIO())


def test_the_module_needs_neither_flask_nor_sqlalchemy():
    tree = ast.parse(Path(exports.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name.split(".")[0] in ("flask", "sqlalchemy")}
