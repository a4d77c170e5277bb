"""Importing trainees and enrolments from the web and the command line: preview, all or nothing, idempotent."""

from __future__ import annotations

import io
import os
import re
import time

import openpyxl
import sqlalchemy as sa

from assessor.core.passwords import UNUSABLE
from assessor.domain.vocabulary import Role
from assessor.models import AuditEvent, Cohort, Enrolment, User
from assessor.transfer.importing import pending_folder, remove_stale_imports
from tests.records.factories import make_user
from tests.web.conftest import csrf_token

GOOD_CSV = (
    "username,name,email,cohort,unit,version,start_date,assessors\n"
    "mere,Mere Tūhoe,mere@example.org,Intake A,us_case_mgmt,1,2026-09-01,assessor\n"
    "hemi,Hemi Ngāti,,Intake A,US_CASE_MGMT,,01/09/2026,assessor;assessor2\n"
)


def counts(app) -> tuple[int, int, int, int]:
    with app.extensions["database"].engine.connect() as connection:
        return tuple(
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (User, Enrolment, Cohort, AuditEvent)
        )


def upload(client, name: str, data: bytes):
    """Upload a file to check; the page of the job that checks it (done at once in tests)."""
    token = csrf_token(client, "/import")
    asked = client.post(
        "/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/jobs/")
    return client.get(asked.headers["Location"])


def confirm(client, preview_page: str):
    """Confirm a checked file's import; the page of the job that imports it."""
    job = re.search(r'name="job" value="(\d+)"', preview_page).group(1)
    asked = client.post("/import/confirm", data={"csrf_token": csrf_token(client, "/import"), "job": job})
    assert asked.status_code == 302, asked.get_data(as_text=True)
    return client.get(asked.headers["Location"])


def test_preview_then_import_then_reimport_creates_nothing_new(app, signed_in, world):
    client = signed_in("coordinator")
    before = counts(app)
    preview = upload(client, "intake.csv", ("\ufeff" + GOOD_CSV).encode("utf-8"))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "will create 2 trainees, 2 enrolments and 0 cohorts" in page
    assert counts(app) == before  # a preview changes nothing
    assert "Imported: 2 new trainees, 2 new enrolments, 0 new cohorts." in confirm(client, page).get_data(as_text=True)
    with app.extensions["database"].sessions() as session:
        mere = session.scalars(sa.select(User).where(User.username == "mere")).one()
        assert mere.display_name == "Mere Tūhoe"
        assert mere.password_hash == UNUSABLE  # no password yet: none was hashed, and none signs in as her
        hemi = session.scalars(sa.select(Enrolment).join(Enrolment.trainee).where(User.username == "hemi")).one()
        assert sorted(a.username for a in hemi.assessors) == ["assessor", "assessor2"]
    after = counts(app)
    again = upload(client, "intake.csv", GOOD_CSV.encode("utf-8")).get_data(as_text=True)
    assert "2 rows are imported already" in again and "Import</button>" not in again
    assert counts(app) == after


def test_a_file_with_problems_imports_nothing_and_lists_each_by_row_and_column(app, signed_in, world):
    client = signed_in("coordinator")
    bad = (
        "username,name,email,cohort,unit,version,start_date,assessors\n"
        "ok.one,Good Row,,Intake A,us_case_mgmt,,2026-09-01,assessor\n"
        "Bad Name!,,not-an-email,,csc999,,2026-02-30,nobody\n"
    )
    before = counts(app)
    response = upload(client, "bad.csv", bad.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Nothing was imported" in page and 'name="job"' not in page
    for column in ("username", "name", "email", "cohort", "unit", "start_date", "assessors"):
        assert f"<td>3</td><td>{column}</td>" in page, column
    assert counts(app) == before


def test_an_xlsx_file_imports_too(app, signed_in, world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Username", "Name", "Email", "Cohort", "Unit", "Version", "Start_date", "Assessors"])
    import datetime

    sheet.append(
        ["tui", "Tūī Parata", None, "New intake", "us_case_mgmt", 1, datetime.datetime(2026, 9, 1), "assessor"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    book.close()
    client = signed_in("coordinator")
    page = upload(client, "intake.xlsx", buffer.getvalue()).get_data(as_text=True)
    assert "will create 1 trainees, 1 enrolments and 1 cohorts" in page
    assert "Imported: 1 new trainees" in confirm(client, page).get_data(as_text=True)
    with app.extensions["database"].sessions() as session:
        cohort = session.scalars(sa.select(Cohort).where(Cohort.name == "New intake")).one()
        assert [c.username for c in cohort.coordinators] == ["coordinator"]


def test_a_cohort_run_by_someone_else_is_a_problem(app, signed_in, world):
    client = signed_in("coordinator")
    text = GOOD_CSV.replace("Intake A", "Intake B")
    page = upload(client, "other.csv", text.encode()).get_data(as_text=True)
    assert "is run by another coordinator" in page


def test_import_command(app, runner, world, tmp_path):
    path = tmp_path / "intake.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    dry = runner.invoke(args=["import", str(path), "--as", "coordinator", "--dry-run"])
    assert dry.exit_code == 0 and "would import: 2 new trainees, 2 new enrolments" in dry.output
    done = runner.invoke(args=["import", str(path), "--as", "coordinator"])
    assert done.exit_code == 0, done.output
    again = runner.invoke(args=["import", str(path), "--as", "coordinator"])
    assert "0 new trainees, 0 new enrolments, 0 new cohorts, 2 rows already imported" in again.output
    path.write_text(GOOD_CSV.replace("2026-09-01", "someday"), encoding="utf-8")
    bad = runner.invoke(args=["import", str(path), "--as", "coordinator"])
    assert bad.exit_code == 1 and "row 2, start_date" in bad.output and "nothing was imported" in bad.output


def test_the_preview_tells_a_coordinator_only_what_they_may_know_of_other_accounts(app, signed_in, world):
    """`admin` and `trainee2` (a trainee of a cohort this coordinator does not run) are not theirs to describe."""
    client = signed_in("coordinator")
    probe = (
        b"username,name,email,cohort,unit,version,start_date,assessors\n"
        b"admin,Someone,,Intake A,us_case_mgmt,1,2026-09-01,assessor\n"
        b"trainee2,Someone Else,someone@example.org,Intake A,us_case_mgmt,1,2026-09-01,coordinator\n"
    )
    before = counts(app)
    page = upload(client, "probe.csv", probe).get_data(as_text=True)
    assert "admin account" not in page and "coordinator account" not in page
    assert "Trainee2" not in page  # trainee2's name as Assessor holds it
    assert page.count("belongs to an account you do not manage") == 2
    assert "&#34;coordinator&#34; is not an assessor you can assign." in page
    assert counts(app) == before


def test_an_import_is_confirmed_once_by_whoever_checked_it_and_checked_again_when_carried_out(app, signed_in, world):
    client = signed_in("coordinator")
    page = upload(client, "intake.csv", GOOD_CSV.encode()).get_data(as_text=True)
    job = re.search(r'name="job" value="(\d+)"', page).group(1)
    with app.extensions["database"].sessions.begin() as session:
        make_user(session, "coordinator2", Role.COORDINATOR)
    before = counts(app)
    for other in ("admin", "coordinator2"):
        stranger = signed_in(other)
        refused = stranger.post("/import/confirm", data={"csrf_token": csrf_token(stranger, "/import"), "job": job})
        assert refused.status_code == 404
    for wrong in ("", "x", "99999999999"):
        bad = client.post("/import/confirm", data={"csrf_token": csrf_token(client, "/import"), "job": wrong})
        assert bad.status_code == 400 and "That preview has expired" in bad.get_data(as_text=True)
    assert counts(app) == before

    # Someone takes one of its usernames meanwhile: checked again, the file no longer checks out.
    with app.extensions["database"].sessions.begin() as session:
        make_user(session, "mere", Role.TRAINEE)
    meanwhile = counts(app)
    done = confirm(client, page).get_data(as_text=True)
    assert "The file no longer checks out: upload it again to see why. Nothing was imported." in done
    assert counts(app) == meanwhile
    again = client.post("/import/confirm", data={"csrf_token": csrf_token(client, "/import"), "job": job})
    assert again.status_code == 409 and "That preview has expired: upload the file again." in again.get_data(
        as_text=True
    )


def test_a_file_that_is_not_a_table_is_answered_on_the_jobs_page(app, signed_in, world):
    client = signed_in("coordinator")
    page = upload(client, "intake.txt", b"hello").get_data(as_text=True)
    assert ".txt files cannot be imported" in page and 'name="job"' not in page


def test_files_whose_import_was_never_confirmed_are_removed_a_day_on(app, signed_in, world):
    client = signed_in("coordinator")
    upload(client, "intake.csv", GOOD_CSV.encode())
    with app.app_context():
        folder = pending_folder()
        (waiting,) = folder.iterdir()
        forgotten = folder / ("0" * 32 + ".csv")
        forgotten.write_text(GOOD_CSV)
        a_day_ago = time.time() - 25 * 3600
        os.utime(forgotten, (a_day_ago, a_day_ago))
        remove_stale_imports()
        assert list(folder.iterdir()) == [waiting]
