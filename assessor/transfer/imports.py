"""Reading and checking a spreadsheet of trainees and their enrolments before anything is imported.

File format
-----------
An ``.xlsx`` workbook (its first worksheet) or a ``.csv`` file saved as UTF-8 (a byte order mark is allowed),
comma-separated. Nothing in the file is ever evaluated: a formula counts only by the value the spreadsheet saved
with it, and CSV text is only text.

Row 1 is the header. Header names are matched case-insensitively and surrounding spaces are ignored. Columns, in
any order:

``username``    required. ASCII letters, digits, dots, hyphens and underscores, at most 64; lower-cased.
``name``        required. The trainee's display name, at most 200 characters; any script ("Tūī Parata").
``email``       optional. One "@", a dot in the domain, no spaces, at most 254 characters.
``cohort``      required. A cohort's name, at most 200 characters; a cohort not yet known is created. Matched to
                known cohorts ignoring case and repeated spaces, so "intake 2026" joins "Intake 2026".
``unit``        required. A unit's catalogue id or publisher code, ignoring case ("us_case_mgmt", "CSCOFM023").
``version``     optional whole number; left empty, the latest version in the catalogue.
``start_date``  required. A date cell, or text YYYY-MM-DD or DD/MM/YYYY (day first; one-digit day and month allowed).
``assessors``   required. One or more usernames of active assessor accounts, separated by ";" or ",".

A column the format does not know, or a missing required column, is a problem on row 1. Completely empty rows are
skipped (row numbers still count them). A trainee may appear on several rows, one per enrolment; every row of one
username must give the same name and email. A whole file is refused (ImportRefused) when it cannot be read as a
table: another kind of file, a damaged workbook, text not in UTF-8, no header, no data rows, more than MAX_ROWS
data rows, more than MAX_COLUMNS columns, two columns of one name, a value in a column with no name, or more than
MAX_SCANNED rows in all (empty ones too) or MAX_SECONDS spent reading them.

The rule is all or nothing: `check` reports every problem of every row, and a plan with problems plans nothing.
Importing the same file again plans nothing new: an enrolment (trainee, unit, version) that exists already counts
as unchanged and is not updated.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import re
import time
import unicodedata
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import openpyxl
from openpyxl.utils import get_column_letter

from assessor.domain.text import looks_like_email
from assessor.domain.vocabulary import Role

MAX_ROWS = 10_000
# A workbook can claim millions of empty rows in a few hundred kilobytes: reading stops at these.
MAX_SCANNED = 100_000  # rows read, empty ones included
MAX_SECONDS = 20.0  # spent reading
MAX_COLUMNS = 50
COLUMNS = ("username", "name", "email", "cohort", "unit", "version", "start_date", "assessors")
REQUIRED = ("username", "name", "cohort", "unit", "start_date", "assessors")
LIMITS = {"username": 64, "name": 200, "email": 254, "cohort": 200}

SAVE_AS = "save the sheet as .xlsx or as CSV UTF-8 (Comma delimited) and import that."
DAMAGED = (
    f"The file cannot be read as an .xlsx workbook: it may be damaged or password-protected. Open it and {SAVE_AS}"
)
EMPTY = "The file is empty."
NO_DATA = "The file has a header row but no data rows."
TOO_MANY = f"The file has more than {MAX_ROWS:,} rows of data: split it into files of at most {MAX_ROWS:,} rows."
TOO_LONG = (
    f"The file goes on past row {MAX_SCANNED:,} (most of its rows are empty, or it holds far more than an import "
    "can): copy the rows you mean to import into a new file and import that."
)
TOO_SLOW = f"The file took more than {MAX_SECONDS:g} seconds to read, so it was not imported: {SAVE_AS}"

USERNAME = re.compile(r"[A-Za-z0-9._-]+")
ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
DAY_FIRST_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
WHOLE_NUMBER = re.compile(r"\d+")
SEPARATORS = re.compile(r"[;,]")
SHOWN = 80  # longest value quoted whole in a message


class ImportRefused(Exception):
    """The file as a whole cannot be read; `message` tells the person importing why."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


# --- Reading -----------------------------------------------------------------------------------------------------


def read_table(data: bytes, filename: str) -> list[dict[str, object]]:
    """The data rows of an .xlsx or .csv file, keyed by normalised header name, with "_row" the row number."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        what = f"{suffix} files" if suffix else "Files without an .xlsx or .csv ending"
        raise ImportRefused(f"{what} cannot be imported: {SAVE_AS}")
    if not data:
        raise ImportRefused(EMPTY)
    rows: Generator[Sequence[object]] = _xlsx_rows(data) if suffix == ".xlsx" else _csv_rows(data)
    try:
        return _table(rows)
    finally:
        rows.close()  # closes the workbook even when the table is refused half-way


def _xlsx_rows(data: bytes) -> Generator[Sequence[object]]:
    """The cell values of the first worksheet, row by row, as saved (formulas are not evaluated)."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error on a damaged file; each means "cannot be read"
        raise ImportRefused(DAMAGED) from exc
    try:
        if workbook.worksheets:
            sheet = workbook.worksheets[0]
            # The saved dimensions may be wrong or huge; without them each row is only as wide as its own cells.
            sheet.reset_dimensions()
            yield from sheet.iter_rows(values_only=True)
    except Exception as exc:  # the sheet itself is parsed lazily, so damage can show only here
        raise ImportRefused(DAMAGED) from exc
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Generator[Sequence[object]]:
    """The fields of a UTF-8 CSV file, record by record."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportRefused(
            f"The file is not UTF-8 text (the first character that is not is on line {line}): {SAVE_AS}"
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise ImportRefused(f"The file cannot be read as CSV (line {reader.line_num}: {exc}): {SAVE_AS}") from exc


def _table(rows: Iterator[Sequence[object]]) -> list[dict[str, object]]:
    """Pair each non-empty data row with the header; refuse a file that is not a table of at most MAX_ROWS, or that
    takes more than MAX_SCANNED rows or MAX_SECONDS to read."""
    header = _header(rows)
    table: list[dict[str, object]] = []
    deadline = time.monotonic() + MAX_SECONDS
    for number, cells in enumerate(rows, start=2):
        if number > MAX_SCANNED:
            raise ImportRefused(TOO_LONG)
        if number % 1000 == 0 and time.monotonic() > deadline:
            raise ImportRefused(TOO_SLOW)
        if all(_blank(cell) for cell in cells):
            continue
        if len(table) == MAX_ROWS:
            raise ImportRefused(TOO_MANY)
        table.append(_record(header, cells, number))
    if not table:
        raise ImportRefused(NO_DATA)
    return table


def _header(rows: Iterator[Sequence[object]]) -> list[str]:
    """The normalised names of row 1, checked to name each column once."""
    first = next(rows, None)
    names = [] if first is None else [_text(cell).lower() for cell in first]
    while names and not names[-1]:
        names.pop()
    if not names:
        if any(not all(_blank(cell) for cell in cells) for cells in rows):
            raise ImportRefused(f"Row 1 must hold the column names ({', '.join(COLUMNS)}), and it is empty.")
        raise ImportRefused(EMPTY)
    if len(names) > MAX_COLUMNS:
        raise ImportRefused(f"Row 1 has {len(names)} columns; an import file has at most {MAX_COLUMNS}.")
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name == "_row":
            raise ImportRefused(f'Column {get_column_letter(index + 1)} is named "_row", which no import column is.')
        if name and name in seen:
            where = f"columns {get_column_letter(seen[name] + 1)} and {get_column_letter(index + 1)}"
            raise ImportRefused(f'Row 1 names two columns "{_shorten(name)}" ({where}): keep one.')
        seen.setdefault(name, index)
    return names


def _record(header: list[str], cells: Sequence[object], number: int) -> dict[str, object]:
    """One data row as a dict of its named cells; a value under no column name refuses the file."""
    for index in range(len(cells)):
        if (index >= len(header) or not header[index]) and not _blank(cells[index]):
            raise ImportRefused(
                f"Row {number} has a value in column {get_column_letter(index + 1)}, which has no name in row 1: "
                "name the column or remove the value."
            )
    record: dict[str, object] = {
        name: None if index >= len(cells) or _blank(cells[index]) else cells[index]
        for index, name in enumerate(header)
        if name
    }
    record["_row"] = number
    return record


# --- What is known, what is found, what is planned ---------------------------------------------------------------


@dataclass(frozen=True)
class KnownUnit:
    """A unit in the catalogue: its id, publisher code, versions, and whether a version takes an enrolment starting
    then."""

    id: str
    code: str | None
    versions: tuple[int, ...]
    accepts: Callable[[int, datetime.date], bool]


@dataclass(frozen=True)
class Known:
    """What exists already, as far as the person importing may know it: accounts by username (role, display name,
    email, active), units, cohorts, enrolments; and the usernames taken by accounts they may not know of."""

    users: Mapping[str, tuple[str, str, str | None, bool]]
    units: Sequence[KnownUnit]
    cohorts: frozenset[str]
    enrolments: frozenset[tuple[str, str, int]]  # (trainee username, unit id, version)
    hidden: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Problem:
    """Why one cell (or, on row 1, one column) cannot be imported."""

    row: int
    column: str
    message: str


@dataclass(frozen=True)
class PlannedEnrolment:
    """An enrolment to create, from one row of the file."""

    row: int
    username: str
    unit_id: str
    version: int
    start_date: datetime.date
    cohort: str
    assessors: tuple[str, ...]


@dataclass(frozen=True)
class PlannedTrainee:
    """A trainee account to create."""

    username: str
    name: str
    email: str | None


@dataclass(frozen=True)
class Plan:
    """What importing the file would create; with any problem it plans nothing."""

    new_trainees: tuple[PlannedTrainee, ...] = ()
    new_cohorts: tuple[str, ...] = ()
    new_enrolments: tuple[PlannedEnrolment, ...] = ()
    unchanged: int = 0
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the file can be imported as planned."""
        return not self.problems


@dataclass
class _Row:
    """One data row's values as checked: a value is None when its cell is empty, its column missing, or it is wrong."""

    number: int
    username: str | None = None
    name: str | None = None
    email: str | None = None
    cohort: str | None = None
    unit: KnownUnit | None = None
    version: int | None = None
    start_date: datetime.date | None = None
    assessors: tuple[str, ...] | None = None
    problems: list[Problem] = field(default_factory=list)

    def bad(self, column: str, message: str) -> None:
        """Record a problem in this row's column."""
        self.problems.append(Problem(self.number, column, message))

    def failed(self, column: str) -> bool:
        """Whether this row has a problem in the column."""
        return any(p.column == column for p in self.problems)


# --- Checking ----------------------------------------------------------------------------------------------------


def check(rows: list[dict[str, object]], known: Known) -> Plan:
    """Check every row against the format and what is known; plan the import only if there is no problem at all."""
    columns = list(dict.fromkeys(name for row in rows for name in row if name != "_row"))
    problems = _column_problems(columns)
    checked = [_check_row(row, set(columns), known) for row in rows]
    _check_across_rows(checked)
    problems += [p for row in checked for p in row.problems]
    if problems:
        order = {name: index for index, name in enumerate(COLUMNS)}
        return Plan(problems=tuple(sorted(problems, key=lambda p: (p.row, order.get(p.column, len(COLUMNS))))))
    return _plan(checked, known)


def _column_problems(columns: list[str]) -> list[Problem]:
    """Unknown and missing columns, reported on row 1."""
    listed = ", ".join(COLUMNS)
    unknown = [
        Problem(1, c, f'Unknown column "{_shorten(c)}": the columns are {listed}.') for c in columns if c not in COLUMNS
    ]
    missing = [Problem(1, c, f'The required column "{c}" is missing.') for c in REQUIRED if c not in columns]
    return unknown + missing


def _check_row(record: Mapping[str, object], columns: set[str], known: Known) -> _Row:
    """Check each cell of one row on its own, then the cells that depend on each other."""
    row = _Row(int(str(record["_row"])))
    for column, read in _READERS.items():
        if column not in columns:
            continue
        value = record.get(column)
        if _blank(value):
            if column in REQUIRED:
                row.bad(column, f"No {column} given: it is required.")
            continue
        setattr(row, column, read(value, known, functools.partial(row.bad, column)))
    _check_version(row)
    _check_trainee(row, known)
    return row


def _read_username(value: object, known: Known, bad: Callable[[str], None]) -> str | None:
    """A username: lower-cased, of the allowed characters, not too long."""
    text = _text(value)
    if len(text) > LIMITS["username"]:
        bad(f'The username "{_shorten(text)}" is {len(text)} characters long; the most is 64.')
        return None
    if not USERNAME.fullmatch(text):
        bad(f'"{_shorten(text)}" is not a valid username: use letters, digits, dots, hyphens or underscores.')
        return None
    return text.lower()


def _read_name(value: object, known: Known, bad: Callable[[str], None]) -> str | None:
    """A display name, its spaces tidied."""
    name = _tidy(_text(value))
    if len(name) > LIMITS["name"]:
        bad(f"The name is {len(name)} characters long; the most is {LIMITS['name']}.")
        return None
    return name


def _read_email(value: object, known: Known, bad: Callable[[str], None]) -> str | None:
    """An email address, roughly checked."""
    email = _text(value)
    if len(email) > LIMITS["email"]:
        bad(f"The email address is {len(email)} characters long; the most is {LIMITS['email']}.")
        return None
    if not looks_like_email(email):
        bad(f'"{_shorten(email)}" is not an email address.')
        return None
    return email


def _read_cohort(value: object, known: Known, bad: Callable[[str], None]) -> str | None:
    """A cohort name, its spaces tidied."""
    cohort = _tidy(_text(value))
    if len(cohort) > LIMITS["cohort"]:
        bad(f"The cohort name is {len(cohort)} characters long; the most is {LIMITS['cohort']}.")
        return None
    return cohort


def _read_unit(value: object, known: Known, bad: Callable[[str], None]) -> KnownUnit | None:
    """The unit with this catalogue id or, failing that, this publisher code, ignoring case."""
    wanted = _text(value).casefold()
    by_id = [u for u in known.units if u.id.casefold() == wanted]
    by_code = list({u.id: u for u in known.units if (u.code or "").casefold() == wanted}.values())
    matches = by_id or by_code
    if not matches:
        bad(f'No unit "{_shorten(_text(value))}" in the catalogue.')
        return None
    if len(matches) > 1:
        ids = ", ".join(sorted(u.id for u in matches))
        bad(f'"{_text(value)}" is the code of more than one unit ({ids}): give the catalogue id instead.')
        return None
    return matches[0]


def _read_version(value: object, known: Known, bad: Callable[[str], None]) -> int | None:
    """A whole number, from a number cell or text."""
    text = _text(value)
    if not WHOLE_NUMBER.fullmatch(text):
        bad(f'"{_shorten(text)}" is not a whole number.')
        return None
    return int(text)


def _read_start_date(value: object, known: Known, bad: Callable[[str], None]) -> datetime.date | None:
    """A date from a date cell, or from text YYYY-MM-DD or DD/MM/YYYY."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if iso := ISO_DATE.fullmatch(text):
        year, month, day = iso.groups()
    elif day_first := DAY_FIRST_DATE.fullmatch(text):
        day, month, year = day_first.groups()
    else:
        bad(f'"{_shorten(text)}" is not a date: use YYYY-MM-DD or DD/MM/YYYY.')
        return None
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        bad(f"{text} is not a real date.")
        return None


def _read_assessors(value: object, known: Known, bad: Callable[[str], None]) -> tuple[str, ...] | None:
    """Usernames of active assessor accounts, separated by ";" or ","."""
    usernames = tuple(dict.fromkeys(u for u in (p.strip().lower() for p in SEPARATORS.split(_text(value))) if u))
    if not usernames:
        bad("No assessors given: it is required.")
        return None
    good = True
    for username in usernames:
        account = known.users.get(username)
        if username in known.hidden:
            bad(f'"{_shorten(username)}" is not an assessor you can assign.')
        elif account is None:
            bad(f'"{_shorten(username)}" is not a username in Assessor.')
        elif account[0] != Role.ASSESSOR:
            bad(f'"{username}" is {_article(account[0])} account, not an assessor.')
        elif not account[3]:
            bad(f'"{username}" is a deactivated assessor account.')
        else:
            continue
        good = False
    return usernames if good else None


_READERS: dict[str, Callable[[object, Known, Callable[[str], None]], object]] = {
    "username": _read_username,
    "name": _read_name,
    "email": _read_email,
    "cohort": _read_cohort,
    "unit": _read_unit,
    "version": _read_version,
    "start_date": _read_start_date,
    "assessors": _read_assessors,
}


def _check_version(row: _Row) -> None:
    """Settle the unit's version (the latest when none is given) and whether it takes an enrolment starting then."""
    unit = row.unit
    if unit is None or row.failed("version"):
        return
    version = max(unit.versions) if row.version is None else row.version
    if version not in unit.versions:
        listed = ", ".join(str(v) for v in sorted(unit.versions))
        row.bad("version", f"{_label(unit)} has no version {version} in the catalogue; it has version {listed}.")
        row.version = None
        return
    row.version = version
    if row.start_date is not None and not unit.accepts(version, row.start_date):
        row.bad(
            "unit",
            f"{_label(unit)} version {version} is deleted or superseded: "
            f"it takes no enrolment starting on {row.start_date.isoformat()}.",
        )


def _check_trainee(row: _Row, known: Known) -> None:
    """A username known already must be a trainee's, with the name and email the file gives."""
    username = row.username
    if username in known.hidden:
        row.bad(
            "username",
            f'The username "{username}" belongs to an account you do not manage: choose another, '
            "or ask the coordinator who runs that trainee's cohort.",
        )
        return
    account = None if username is None else known.users.get(username)
    if account is None:
        return
    role, name, email, _active = account
    if role != Role.TRAINEE:
        row.bad("username", f'"{username}" is {_article(role)} account, not a trainee.')
        return
    if row.name is not None and row.name != _tidy(name):
        row.bad(
            "name", f'"{username}" is named "{name}" in Assessor; the file gives "{row.name}". Correct one of them.'
        )
    # An empty email cell claims nothing, so it does not clash with an address Assessor holds.
    if row.email is not None and row.email.casefold() != (email or "").casefold():
        row.bad(
            "email",
            f'"{username}" has {_email_words(email)} in Assessor; the file gives {_email_words(row.email)}. '
            "Correct one of them.",
        )


def _check_across_rows(rows: list[_Row]) -> None:
    """Each username keeps one name and email on all its rows; each enrolment appears once."""
    first: dict[str, _Row] = {}
    enrolments: dict[tuple[str, str, int], int] = {}
    for row in rows:
        if row.username is None:
            continue
        earlier = first.setdefault(row.username, row)
        if earlier is not row:
            _compare_people(earlier, row, row.username)
        if row.unit is not None and row.version is not None:
            key = (row.username, row.unit.id, row.version)
            if key in enrolments:
                row.bad("unit", f"Duplicate of row {enrolments[key]}: the same trainee, unit and version.")
            enrolments.setdefault(key, row.number)


def _compare_people(earlier: _Row, row: _Row, username: str) -> None:
    """Report a name or email on this row that differs from the username's first row."""
    if earlier.name is not None and row.name is not None and earlier.name != row.name:
        row.bad("name", f'"{username}" has the name "{earlier.name}" on row {earlier.number} but "{row.name}" here.')
    if earlier.failed("email") or row.failed("email"):
        return
    if (earlier.email or "").casefold() != (row.email or "").casefold():
        row.bad(
            "email",
            f'"{username}" has {_email_words(earlier.email)} on row {earlier.number} '
            f"but {_email_words(row.email)} here.",
        )


# --- Planning ----------------------------------------------------------------------------------------------------


def _plan(rows: list[_Row], known: Known) -> Plan:
    """What to create for rows that are all valid: new trainees, new cohorts, enrolments that do not exist yet."""
    trainees: dict[str, PlannedTrainee] = {}
    cohorts = {_fold(name): name for name in sorted(known.cohorts)}
    new_cohorts: list[str] = []
    enrolments: list[PlannedEnrolment] = []
    unchanged = 0
    for row in rows:
        # check() plans only when no row has a problem, and such a row has every required value.
        assert (
            row.username and row.name and row.cohort and row.unit and row.version and row.start_date and row.assessors
        )
        if (row.username, row.unit.id, row.version) in known.enrolments:
            unchanged += 1
            continue
        if row.username not in known.users and row.username not in trainees:
            trainees[row.username] = PlannedTrainee(row.username, row.name, row.email)
        cohort = row.cohort if row.cohort in known.cohorts else cohorts.setdefault(_fold(row.cohort), row.cohort)
        if cohort not in known.cohorts and cohort not in new_cohorts:
            new_cohorts.append(cohort)
        enrolments.append(
            PlannedEnrolment(row.number, row.username, row.unit.id, row.version, row.start_date, cohort, row.assessors)
        )
    return Plan(tuple(trainees.values()), tuple(new_cohorts), tuple(enrolments), unchanged)


# --- Values ------------------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """A cell's value as tidy text: NFC, no surrounding spaces; whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        value = value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def _blank(value: object) -> bool:
    """Whether a cell is empty or holds only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def _tidy(text: str) -> str:
    """Text in one Unicode form (NFC) with single spaces and none around it."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _fold(text: str) -> str:
    """Text compared ignoring case, Unicode form and repeated spaces."""
    return _tidy(text).casefold()


def _shorten(text: str) -> str:
    """A value short enough to quote in a message."""
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _label(unit: KnownUnit) -> str:
    """How messages name a unit: its publisher code, or its catalogue id when it has none."""
    return unit.code or unit.id


def _article(role: str) -> str:
    """A role with its indefinite article: "an assessor", "a trainee"."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"


def _email_words(email: object) -> str:
    """An email address as words: 'the email "x@y.org"' or "no email"."""
    return f'the email "{email}"' if email else "no email"
