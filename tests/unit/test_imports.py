"""Importing trainees and enrolments: whole files read or refused, every problem of every row reported, re-import
idempotent."""

from __future__ import annotations

import datetime
import io
import zipfile

import openpyxl
import pytest

from assessor.transfer import imports
from assessor.transfer.imports import (
    MAX_ROWS,
    ImportRefused,
    Known,
    KnownUnit,
    Plan,
    PlannedEnrolment,
    PlannedTrainee,
    Problem,
    check,
    read_table,
)

D = datetime.date
DELETED = D(2021, 1, 24)  # the day CSCOFM023 was deleted from training.gov.au
HEADER = "username,name,email,cohort,unit,version,start_date,assessors"
INTAKE = "Case management 2026 intake"
SAVE_AS = "save the sheet as .xlsx or as CSV UTF-8 (Comma delimited) and import that."
DAMAGED = (
    f"The file cannot be read as an .xlsx workbook: it may be damaged or password-protected. Open it and {SAVE_AS}"
)

UNITS = (
    KnownUnit("us_case_mgmt", None, (1, 2), lambda version, start: True),
    KnownUnit("cscofm023", "CSCOFM023", (1,), lambda version, start: start < DELETED),
)
USERS = {
    "sam": ("assessor", "Sam Patel", "sam@example.org", True),
    "lee": ("assessor", "Lee Chan", None, True),
    "gone": ("assessor", "Former Assessor", None, False),
    "jo": ("coordinator", "Jo Williams", "jo@example.org", True),
    "aroha": ("trainee", "Aroha Ngata", "aroha@example.org", True),
}
KNOWN = Known(USERS, UNITS, frozenset({INTAKE}), frozenset())

# A valid file: a new trainee on two rows (two units), a known trainee, a new cohort, code and id, DD/MM/YYYY.
VALID_ROWS = [
    ["tui", "Tūī Parata", "tui@example.org", "Ngāti Porou 2026", "us_case_mgmt", "1", "2026-03-02", "sam"],
    ["TUI", "Tūī Parata", "tui@example.org", "Ngāti Porou 2026", "CSCOFM023", "", "02/11/2020", "sam; lee"],
    [
        "aroha",
        "Aroha Ngata",
        "aroha@example.org",
        "case management 2026 INTAKE",
        "US_CASE_MGMT",
        "",
        "2026-03-09",
        "sam,lee",
    ],
]
VALID_PLAN = Plan(
    new_trainees=(PlannedTrainee("tui", "Tūī Parata", "tui@example.org"),),
    new_cohorts=("Ngāti Porou 2026",),
    new_enrolments=(
        PlannedEnrolment(2, "tui", "us_case_mgmt", 1, D(2026, 3, 2), "Ngāti Porou 2026", ("sam",)),
        PlannedEnrolment(3, "tui", "cscofm023", 1, D(2020, 11, 2), "Ngāti Porou 2026", ("sam", "lee")),
        PlannedEnrolment(4, "aroha", "us_case_mgmt", 2, D(2026, 3, 9), INTAKE, ("sam", "lee")),
    ),
    unchanged=0,
)


def csv_file(*lines: str, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """A CSV file of these lines."""
    return "".join(line + newline for line in lines).encode(encoding)


def csv_of(rows: list[list[str]], header: str = HEADER, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """A CSV file with this header and rows, fields quoted where needed."""
    lines = (",".join(f'"{v}"' if "," in v else v for v in row) for row in rows)
    return csv_file(header, *lines, encoding=encoding, newline=newline)


def xlsx_file(*rows: list[object]) -> bytes:
    """An .xlsx workbook whose first sheet holds these rows."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.close()
    return buffer.getvalue()


def imported(data: bytes, filename: str = "trainees.csv", known: Known = KNOWN) -> Plan:
    """Read and check a file."""
    return check(read_table(data, filename), known)


def problems_of(*rows: list[str], header: str = HEADER, known: Known = KNOWN) -> list[tuple[int, str, str]]:
    """The problems a CSV file of these rows has, as (row, column, message)."""
    plan = imported(csv_of(list(rows), header), known=known)
    assert plan.ok or plan == Plan(problems=plan.problems)  # a plan with problems plans nothing
    return [(p.row, p.column, p.message) for p in plan.problems]


def good_row(**changes: str) -> list[str]:
    """A valid row for a new trainee, with some columns changed."""
    row = dict(zip(HEADER.split(","), VALID_ROWS[0], strict=True)) | changes
    return list(row.values())


# --- Valid files ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_valid_csv_file_gives_the_plan(encoding, newline):
    assert imported(csv_of(VALID_ROWS, encoding=encoding, newline=newline)) == VALID_PLAN
    assert VALID_PLAN.ok


def test_a_valid_xlsx_file_with_date_cells_gives_the_plan():
    data = xlsx_file(
        [" Username", "NAME", "Email ", "Cohort", "unit", "Version", "Start_Date", "assessors"],
        ["tui", "Tūī Parata", "tui@example.org", "Ngāti Porou 2026", "us_case_mgmt", 1, D(2026, 3, 2), "sam"],
        [
            "tui",
            "Tūī Parata",
            "tui@example.org",
            "Ngāti Porou 2026",
            "cscofm023",
            None,
            datetime.datetime(2020, 11, 2),
            "sam; lee",
        ],
        ["aroha", "Aroha Ngata", "aroha@example.org", INTAKE, "us_case_mgmt", None, D(2026, 3, 9), "sam,lee"],
    )
    assert imported(data, "Trainees.XLSX") == VALID_PLAN


def test_read_table_keys_cells_by_normalised_header_and_numbers_rows_as_in_the_file():
    data = csv_file(" UserName ,Name,unit", "tui,Tūī Parata,us_case_mgmt", ",,", "", "  , ,", "aroha,,cscofm023,")
    assert read_table(data, "t.csv") == [
        {"username": "tui", "name": "Tūī Parata", "unit": "us_case_mgmt", "_row": 2},
        {"username": "aroha", "name": None, "unit": "cscofm023", "_row": 6},
    ]


def test_read_table_skips_empty_rows_of_a_workbook_and_keeps_its_row_numbers():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["username", "version", "start_date"])
    sheet.append(["tui", 2, D(2026, 3, 2)])
    sheet["A5"] = "aroha"
    sheet["C5"] = "  "
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.close()
    assert read_table(buffer.getvalue(), "t.xlsx") == [
        {"username": "tui", "version": 2, "start_date": datetime.datetime(2026, 3, 2), "_row": 2},
        {"username": "aroha", "version": None, "start_date": None, "_row": 5},
    ]


def test_formulas_are_never_evaluated():
    data = xlsx_file(["username", "name"], ["tui", '=CONCAT("Tūī", " Parata")'])
    assert read_table(data, "t.xlsx") == [{"username": "tui", "name": None, "_row": 2}]


def test_re_import_plans_nothing_and_counts_every_row_unchanged():
    first = imported(csv_of(VALID_ROWS))
    after = Known(
        users={**USERS, **{t.username: ("trainee", t.name, t.email, True) for t in first.new_trainees}},
        units=UNITS,
        cohorts=KNOWN.cohorts | set(first.new_cohorts),
        enrolments=frozenset((e.username, e.unit_id, e.version) for e in first.new_enrolments),
    )
    assert imported(csv_of(VALID_ROWS), known=after) == Plan(unchanged=len(VALID_ROWS))


def test_rows_already_imported_count_as_unchanged_beside_new_ones():
    known = Known(USERS, UNITS, KNOWN.cohorts, frozenset({("aroha", "us_case_mgmt", 2)}))
    plan = imported(csv_of(VALID_ROWS), known=known)
    assert (plan.new_enrolments, plan.unchanged) == (VALID_PLAN.new_enrolments[:2], 1)


@pytest.mark.parametrize(
    ("unit", "version", "expected"),
    [
        ("us_case_mgmt", "", ("us_case_mgmt", 2)),  # no version: the latest
        ("US_Case_Mgmt", "1", ("us_case_mgmt", 1)),
        ("us_case_mgmt", "02", ("us_case_mgmt", 2)),
        ("cscofm023", "", ("cscofm023", 1)),  # catalogue id
        ("CSCOFM023", "1", ("cscofm023", 1)),  # publisher code
        ("CscOfm023", "", ("cscofm023", 1)),
    ],
)
def test_units_are_found_by_id_or_code_ignoring_case_at_the_latest_version_by_default(unit, version, expected):
    plan = imported(csv_of([good_row(unit=unit, version=version, start_date="2020-11-02")]))
    assert [(e.unit_id, e.version) for e in plan.new_enrolments] == [expected]


def test_a_version_given_as_a_number_cell_is_a_whole_number():
    data = xlsx_file(HEADER.split(","), [*good_row()[:5], 2.0, D(2026, 3, 2), "sam"])
    assert [e.version for e in imported(data, "t.xlsx").new_enrolments] == [2]


def test_a_catalogue_id_wins_over_another_units_code_and_a_shared_code_is_ambiguous():
    units = (
        KnownUnit("a1", "B2", (1,), lambda version, start: True),
        KnownUnit("b2", None, (1,), lambda version, start: True),
        KnownUnit("c3", "SAME", (1,), lambda version, start: True),
        KnownUnit("d4", "same", (1,), lambda version, start: True),
    )
    known = Known(USERS, units, frozenset(), frozenset())
    assert [e.unit_id for e in imported(csv_of([good_row(unit="b2")]), known=known).new_enrolments] == ["b2"]
    assert problems_of(good_row(unit="Same"), known=known) == [
        (2, "unit", '"Same" is the code of more than one unit (c3, d4): give the catalogue id instead.')
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-03-02", D(2026, 3, 2)),
        ("2026-3-2", D(2026, 3, 2)),
        ("02/03/2026", D(2026, 3, 2)),  # day first
        ("2/3/2026", D(2026, 3, 2)),
        ("29/02/2024", D(2024, 2, 29)),
        (" 31/12/2025 ", D(2025, 12, 31)),
    ],
)
def test_start_dates_as_text(cell, expected):
    plan = imported(csv_of([good_row(start_date=cell)]))
    assert [e.start_date for e in plan.new_enrolments] == [expected]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("sam", ("sam",)),
        ("sam;lee", ("sam", "lee")),
        ("SAM , lee", ("sam", "lee")),
        ("lee; sam;", ("lee", "sam")),
        ("sam,sam", ("sam",)),
    ],
)
def test_assessors_are_separated_by_semicolons_or_commas(cell, expected):
    assert [e.assessors for e in imported(csv_of([good_row(assessors=cell)])).new_enrolments] == [expected]


def test_a_trainee_without_email_and_an_optional_column_left_out():
    header = "username,name,cohort,unit,start_date,assessors"
    plan = imported(
        csv_file(
            header,
            "Kiri.Te-Ao_2,Kiri  Te Ao,Intake A,us_case_mgmt,2026-03-02,lee",
            "kiri.te-ao_2,Kiri Te Ao,intake a,cscofm023,01/01/2021,lee",
        )
    )
    assert plan == Plan(
        new_trainees=(PlannedTrainee("kiri.te-ao_2", "Kiri Te Ao", None),),
        new_cohorts=("Intake A",),
        new_enrolments=(
            PlannedEnrolment(2, "kiri.te-ao_2", "us_case_mgmt", 2, D(2026, 3, 2), "Intake A", ("lee",)),
            PlannedEnrolment(3, "kiri.te-ao_2", "cscofm023", 1, D(2021, 1, 1), "Intake A", ("lee",)),
        ),
    )


def test_a_known_trainee_with_an_empty_email_cell_is_not_a_clash():
    plan = imported(csv_of([good_row(username="aroha", name="Aroha Ngata", email="")]))
    assert (plan.ok, plan.new_trainees) == (True, ())


# --- Problems ------------------------------------------------------------------------------------------------------


def test_every_problem_in_every_column_of_every_row_is_reported():
    long_name, long_cohort = "N" * 201, "C" * 201
    data = csv_file(
        HEADER,
        f"Bad Name!,{long_name},not-an-email,{long_cohort},csc999,1,2026-02-30,nobody",
        'tui,Tūī Parata,tui@example,Intake,us_case_mgmt,3,31/13/2026,"aroha; gone"',
        "aroha,Aroha N,aroha@elsewhere.org,Intake,cscofm023,one,2026-03-02,jo",
        "sam,Sam Patel,,Intake,CSCOFM023,,2026-03-02,sam",
        ",,,,,2,,",
        "tui,Tui Parata,tui@example.org,Intake,us_case_mgmt,2,2026-03-02,sam",
        "tui,Tūī Parata,,Intake,us_case_mgmt,2,2026-03-02,lee",
    )
    plan = imported(data)
    assert plan == Plan(problems=plan.problems)
    assert not plan.ok
    assert plan.problems == (
        Problem(
            2, "username", '"Bad Name!" is not a valid username: use letters, digits, dots, hyphens or underscores.'
        ),
        Problem(2, "name", "The name is 201 characters long; the most is 200."),
        Problem(2, "email", '"not-an-email" is not an email address.'),
        Problem(2, "cohort", "The cohort name is 201 characters long; the most is 200."),
        Problem(2, "unit", 'No unit "csc999" in the catalogue.'),
        Problem(2, "start_date", "2026-02-30 is not a real date."),
        Problem(2, "assessors", '"nobody" is not a username in Assessor.'),
        Problem(3, "email", '"tui@example" is not an email address.'),
        Problem(3, "version", "us_case_mgmt has no version 3 in the catalogue; it has version 1, 2."),
        Problem(3, "start_date", "31/13/2026 is not a real date."),
        Problem(3, "assessors", '"aroha" is a trainee account, not an assessor.'),
        Problem(3, "assessors", '"gone" is a deactivated assessor account.'),
        Problem(
            4, "name", '"aroha" is named "Aroha Ngata" in Assessor; the file gives "Aroha N". Correct one of them.'
        ),
        Problem(
            4,
            "email",
            (
                '"aroha" has the email "aroha@example.org" in Assessor; '
                'the file gives the email "aroha@elsewhere.org". Correct one of them.'
            ),
        ),
        Problem(4, "version", '"one" is not a whole number.'),
        Problem(4, "assessors", '"jo" is a coordinator account, not an assessor.'),
        Problem(5, "username", '"sam" is an assessor account, not a trainee.'),
        Problem(
            5, "unit", "CSCOFM023 version 1 is deleted or superseded: it takes no enrolment starting on 2026-03-02."
        ),
        Problem(6, "username", "No username given: it is required."),
        Problem(6, "name", "No name given: it is required."),
        Problem(6, "cohort", "No cohort given: it is required."),
        Problem(6, "unit", "No unit given: it is required."),
        Problem(6, "start_date", "No start_date given: it is required."),
        Problem(6, "assessors", "No assessors given: it is required."),
        Problem(7, "name", '"tui" has the name "Tūī Parata" on row 3 but "Tui Parata" here.'),
        Problem(8, "unit", "Duplicate of row 7: the same trainee, unit and version."),
    )


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("username", "tūī", '"tūī" is not a valid username: use letters, digits, dots, hyphens or underscores.'),
        (
            "username",
            "tui parata",
            '"tui parata" is not a valid username: use letters, digits, dots, hyphens or underscores.',
        ),
        ("username", "t" * 65, f'The username "{"t" * 65}" is 65 characters long; the most is 64.'),
        ("email", "tui at example.org", '"tui at example.org" is not an email address.'),
        ("email", "tui@@example.org", '"tui@@example.org" is not an email address.'),
        ("email", "t@" + "e" * 249 + ".org", "The email address is 255 characters long; the most is 254."),
        ("version", "1.5", '"1.5" is not a whole number.'),
        ("version", "-1", '"-1" is not a whole number.'),
        ("start_date", "2026/03/02", '"2026/03/02" is not a date: use YYYY-MM-DD or DD/MM/YYYY.'),
        ("start_date", "03-02-2026", '"03-02-2026" is not a date: use YYYY-MM-DD or DD/MM/YYYY.'),
        ("start_date", "next Monday", '"next Monday" is not a date: use YYYY-MM-DD or DD/MM/YYYY.'),
        ("start_date", "30/02/2026", "30/02/2026 is not a real date."),
        ("start_date", "2025-02-29", "2025-02-29 is not a real date."),
        ("assessors", " ; , ", "No assessors given: it is required."),
        (
            "unit",
            "cscofm023",
            "CSCOFM023 version 1 is deleted or superseded: it takes no enrolment starting on 2026-03-02.",
        ),
    ],
)
def test_one_bad_cell(column, cell, message):
    assert problems_of(good_row(**{column: cell})) == [(2, column, message)]


@pytest.mark.parametrize(
    ("second", "problems"),
    [
        (good_row(unit="cscofm023", start_date="2020-11-02"), []),
        (
            good_row(name="Tui Parata", unit="cscofm023", start_date="2020-11-02"),
            [(3, "name", '"tui" has the name "Tūī Parata" on row 2 but "Tui Parata" here.')],
        ),
        (
            good_row(email="", unit="cscofm023", start_date="2020-11-02"),
            [(3, "email", '"tui" has the email "tui@example.org" on row 2 but no email here.')],
        ),
        (good_row(email="TUI@Example.org", unit="cscofm023", start_date="2020-11-02"), []),
        (
            good_row(username="Tui", version="1"),
            [(3, "unit", "Duplicate of row 2: the same trainee, unit and version.")],
        ),
        (good_row(version="2"), []),
    ],
)
def test_rows_of_one_trainee_agree_and_an_enrolment_appears_once(second, problems):
    assert problems_of(good_row(), second) == problems


def test_a_row_without_a_version_is_a_duplicate_of_one_naming_the_latest():
    assert problems_of(good_row(version="2"), good_row(version="")) == [
        (3, "unit", "Duplicate of row 2: the same trainee, unit and version.")
    ]


def test_unknown_and_missing_columns_are_problems_on_row_1_only():
    header = " Username ,NAME,Emial,cohort,unit,Start_Date,notes"
    rows = [["tui", "Tūī Parata", "tui@example.org", "Intake", "us_case_mgmt", "2026-03-02", "new"]]
    listed = "username, name, email, cohort, unit, version, start_date, assessors"
    assert problems_of(*rows, header=header) == [
        (1, "assessors", 'The required column "assessors" is missing.'),
        (1, "emial", f'Unknown column "emial": the columns are {listed}.'),
        (1, "notes", f'Unknown column "notes": the columns are {listed}.'),
    ]


# --- Whole files refused -------------------------------------------------------------------------------------------


def damaged_xlsx() -> bytes:
    """A real workbook with its worksheet's XML cut short."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_file(["username"], ["tui"])))
    buffer = io.BytesIO()
    with source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            part = source.read(item)
            target.writestr(item, part[: len(part) // 2] if item.filename == "xl/worksheets/sheet1.xml" else part)
    return buffer.getvalue()


NO_DATA = "The file has a header row but no data rows."


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (
            b"username,name\ntui,T\xfb\xee Parata\n",
            "t.csv",
            f"The file is not UTF-8 text (the first character that is not is on line 2): {SAVE_AS}",
        ),
        (
            "username,name\ntui,Tūī Parata\n".encode("utf-16"),
            "t.csv",
            f"The file is not UTF-8 text (the first character that is not is on line 1): {SAVE_AS}",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
            "Trainees.xls",
            f".xls files cannot be imported: {SAVE_AS}",
        ),
        (b"username\ntui\n", "trainees.txt", f".txt files cannot be imported: {SAVE_AS}"),
        (b"username\ntui\n", "trainees", f"Files without an .xlsx or .csv ending cannot be imported: {SAVE_AS}"),
        (b"username\ntui\n", "trainees.csv.xlsx", DAMAGED),
        (b"PK\x03\x04 not really a zip", "t.xlsx", DAMAGED),
        (xlsx_file(["username"], ["tui"])[:300], "t.xlsx", DAMAGED),
        (damaged_xlsx(), "t.xlsx", DAMAGED),
        (b"", "t.csv", "The file is empty."),
        (b"", "t.xlsx", "The file is empty."),
        (b"\xef\xbb\xbf", "t.csv", "The file is empty."),
        (b"\n,,\n \n", "t.csv", "The file is empty."),
        (xlsx_file(), "t.xlsx", "The file is empty."),
        (csv_file(HEADER), "t.csv", NO_DATA),
        (csv_file(HEADER, ",,,,,,,", ""), "t.csv", NO_DATA),
        (xlsx_file(HEADER.split(",")), "t.xlsx", NO_DATA),
        (
            csv_file(",,", HEADER, "tui"),
            "t.csv",
            "Row 1 must hold the column names (username, name, email, cohort, unit, version, start_date, assessors), and it is empty.",
        ),
        (
            csv_file("username,Name,USERNAME", "tui,Tūī,tui"),
            "t.csv",
            'Row 1 names two columns "username" (columns A and C): keep one.',
        ),
        (
            csv_file("username,,name", "tui,,Tūī", "aroha,x,Aroha"),
            "t.csv",
            "Row 3 has a value in column B, which has no name in row 1: name the column or remove the value.",
        ),
        (
            csv_file("username,name", "tui,Tūī,extra"),
            "t.csv",
            "Row 2 has a value in column C, which has no name in row 1: name the column or remove the value.",
        ),
        (
            xlsx_file(["username", "name"], ["tui", "Tūī", None, D(2026, 3, 2)]),
            "t.xlsx",
            "Row 2 has a value in column D, which has no name in row 1: name the column or remove the value.",
        ),
        (
            csv_file(",".join(f"c{i}" for i in range(51)), "x"),
            "t.csv",
            "Row 1 has 51 columns; an import file has at most 50.",
        ),
        (csv_file("username,_Row", "tui,2"), "t.csv", 'Column B is named "_row", which no import column is.'),
    ],
)
def test_whole_files_that_cannot_be_read_are_refused(data, filename, message):
    with pytest.raises(ImportRefused) as refused:
        read_table(data, filename)
    assert refused.value.message == message
    assert str(refused.value) == message


def test_a_file_with_more_than_max_rows_of_data_is_refused():
    rows = [f"t{i},Trainee {i}" for i in range(MAX_ROWS)]
    assert len(read_table(csv_file("username,name", *rows, ",", ""), "t.csv")) == MAX_ROWS
    with pytest.raises(ImportRefused) as refused:
        read_table(csv_file("username,name", *rows, "one,More"), "t.csv")
    assert (
        refused.value.message
        == "The file has more than 10,000 rows of data: split it into files of at most 10,000 rows."
    )


def test_a_workbook_with_too_many_rows_is_refused_and_closed(monkeypatch):
    closed = []
    close = openpyxl.Workbook.close
    monkeypatch.setattr(openpyxl.Workbook, "close", lambda workbook: closed.append(workbook) or close(workbook))
    data = xlsx_file(["username"], *([f"t{i}"] for i in range(MAX_ROWS + 1)))
    closed.clear()
    with pytest.raises(ImportRefused, match="more than 10,000 rows"):
        read_table(data, "t.xlsx")
    assert len(closed) == 1


def test_a_workbook_of_endless_empty_rows_is_stopped_by_the_row_budget_and_closed(monkeypatch):
    closed = []
    close = openpyxl.Workbook.close
    monkeypatch.setattr(openpyxl.Workbook, "close", lambda workbook: closed.append(workbook) or close(workbook))
    # A few kilobytes claiming a million rows: one data row, then empty rows with a cell far down the sheet.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["username", "name"])
    sheet.append(["tui", "Tūī"])
    sheet.cell(row=1_000_000, column=1, value=" ")
    out = io.BytesIO()
    book.save(out)
    assert len(out.getvalue()) < 20_000
    closed.clear()
    with pytest.raises(ImportRefused) as refused:
        read_table(out.getvalue(), "t.xlsx")
    assert refused.value.message == (
        "The file goes on past row 100,000 (most of its rows are empty, or it holds far more than an import can): "
        "copy the rows you mean to import into a new file and import that."
    )
    assert len(closed) == 1


def test_a_file_that_takes_too_long_to_read_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_SECONDS", 0.0)
    rows = [f"t{i},Trainee {i}" for i in range(1500)]
    with pytest.raises(ImportRefused) as refused:
        read_table(csv_file("username,name", *rows), "t.csv")
    assert refused.value.message.startswith("The file took more than ")
    assert len(read_table(csv_file("username,name", *rows[:900]), "t.csv")) == 900  # checked every 1,000 rows


def test_a_csv_field_too_large_to_read_refuses_the_file():
    with pytest.raises(ImportRefused) as refused:
        read_table(csv_file("username,name", "tui," + "x" * 200_000), "t.csv")
    assert refused.value.message.startswith("The file cannot be read as CSV (line 2: field larger than field limit")
