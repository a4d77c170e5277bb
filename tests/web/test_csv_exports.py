"""Exports as CSV: the same rows as the workbook, in UTF-8 with a byte-order mark, text never a formula; the matrix
as a .zip with a .csv file per unit; from the web (through the worker) and the command line."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from assessor.core.access import visible_enrolments
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.models import Job, User
from tests.records.factories import TODAY, build_cohort, build_world, observation
from tests.web.conftest import sign_in
from tests.web.test_exports_download import download_as, export, rows_of

FORMULA = '=HYPERLINK("https://evil.example","Click")'


@pytest.fixture
def cohort(app):
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        enrolments = build_cohort(session, world, 4)
        record_evidence(
            session,
            world.assessor,
            enrolments[0].trainee,
            observation(FORMULA),
            [MappingInput(enrolments[0].id, "1.1", None)],
            today=TODAY,
        )
        return enrolments[0].cohort_id


@pytest.fixture
def coordinator(app, cohort):
    client = app.test_client()
    sign_in(client, "coordinator")
    return client


def csv_file(client, kind: str, **filters) -> tuple[str, str, bytes]:
    """Ask for an export as CSV and download it: its media type, Content-Disposition and bytes."""
    asked = export(client, kind, format="csv", **filters)
    assert asked.status_code == 302, asked.get_data(as_text=True)
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/exports/\d+/file)"', page).group(1)
    response = client.get(link)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    response.close()
    return response.mimetype, response.headers["Content-Disposition"], data


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel looks for
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize(
    ("kind", "sheet"),
    [("progress", "Progress summary"), ("evidence", "Evidence register"), ("completions", "Completion register")],
)
def test_a_csv_export_has_the_rows_of_the_workbook(coordinator, cohort, kind, sheet):
    mimetype, disposition, data = csv_file(coordinator, kind, cohort=cohort)
    assert mimetype == "text/csv"
    assert re.fullmatch(rf"attachment; filename={kind}-\d{{4}}-\d\d-\d\d\.csv", disposition)
    rows = read_csv(data)
    book = download_as(coordinator, kind, cohort=cohort)
    expected = rows_of(book[sheet])
    book.close()
    assert rows[0] == expected[0]  # the same header
    assert len(rows) == len(expected)
    assert [r[0] for r in rows[1:]] == [str(r[0]) for r in expected[1:]]


def test_text_that_looks_like_a_formula_stays_text_and_accents_survive(coordinator, cohort):
    rows = read_csv(csv_file(coordinator, "evidence", cohort=cohort)[2])
    narratives = [r[rows[0].index("Narrative")] for r in rows[1:]]
    assert "'" + FORMULA in narratives and FORMULA not in narratives
    trainees = {r[rows[0].index("Trainee")] for r in rows[1:]}
    assert any("Ngāti" in name for name in trainees)


def test_the_matrix_as_csv_is_a_zip_with_a_file_per_unit(coordinator, cohort):
    mimetype, _disposition, data = csv_file(coordinator, "matrix", cohort=cohort)
    assert mimetype == "application/zip"
    book = download_as(coordinator, "matrix", cohort=cohort)
    with zipfile.ZipFile(io.BytesIO(data)) as files:
        assert files.namelist() == [f"{title}.csv" for title in book.sheetnames]
        for title in book.sheetnames:
            rows = read_csv(files.read(f"{title}.csv"))
            expected = rows_of(book[title])
            assert rows[0] == expected[0] and len(rows) == len(expected)
    book.close()


def test_an_unknown_format_is_refused_and_queues_nothing(app, coordinator, cohort):
    refused = export(coordinator, "progress", cohort=cohort, format="pdf")
    assert refused.status_code == 400 and "Choose an Excel workbook (.xlsx) or CSV." in refused.get_data(as_text=True)
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_the_command_line_writes_csv_by_the_file_name(app, runner, cohort, tmp_path):
    target = tmp_path / "progress.csv"
    result = runner.invoke(args=["export", "progress", "--as", "coordinator", "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = read_csv(target.read_bytes())
    with app.extensions["database"].sessions() as session:
        coordinator = session.scalars(sa.select(User).where(User.username == "coordinator")).one()
        visible = session.scalar(sa.select(sa.func.count()).select_from(visible_enrolments(coordinator).subquery()))
    assert len(rows) - 1 == visible  # a row for each enrolment the coordinator sees
    wrong = runner.invoke(args=["export", "matrix", "--as", "coordinator", "-o", str(tmp_path / "matrix.csv")])
    assert wrong.exit_code != 0 and "is a .zip file" in wrong.output
    archive = tmp_path / "matrix.zip"
    assert runner.invoke(args=["export", "matrix", "--as", "coordinator", "-o", str(archive)]).exit_code == 0
    assert zipfile.is_zipfile(archive)
