"""Every export, downloaded and read back with openpyxl, matches the database cell by cell."""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import create_cohort
from assessor.core.labels import CONTEXT, ENROLMENT_STATUS, METHOD, STATUS
from assessor.domain.vocabulary import Context, Method, Verdict
from assessor.evidence.operations import MappingInput, acknowledge, record_evidence
from assessor.models import AuditEvent, CompletionRecord, Enrolment, Evidence, Job, User
from assessor.progress.queries import progress_of
from assessor.records.operations import Declaration, revoke, sign_off
from assessor.transfer.workbook import STATUS_FILLS
from tests.records.factories import TODAY, build_cohort, build_world, observation, satisfy_all
from tests.web.conftest import PDF, csrf_token, sign_in, stored_attachment


@pytest.fixture
def cohort(app):
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        enrolments = build_cohort(session, world, 12)
        return enrolments[0].cohort_id


def export(client, kind: str, **filters: object):
    """Ask for an export as the exports page does; the answer, which sends to the job's page."""
    token = csrf_token(client, "/exports")
    return client.post(f"/exports/{kind}", data={"csrf_token": token, **filters})


def download(app, kind: str, **filters: object) -> openpyxl.Workbook:
    """Ask for an export as a coordinator and download it."""
    client = app.test_client()
    sign_in(client, "coordinator")
    return download_as(client, kind, **filters)


def download_as(client, kind: str, **filters: object) -> openpyxl.Workbook:
    """Ask for an export, follow it to its job's page (done: jobs run at once in tests) and download the file it
    offers."""
    asked = export(client, kind, **filters)
    assert asked.status_code == 302, asked.get_data(as_text=True)
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    link = re.search(r'href="(/exports/\d+/file)"', page)
    assert link, page
    response = client.get(link.group(1))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    response.close()
    return openpyxl.load_workbook(io.BytesIO(data))


def rows_of(sheet) -> list[list[object]]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_progress_summary_matches_the_database(app, cohort):
    book = download(app, "progress", cohort=cohort)
    sheet = book["Progress summary"]
    rows = rows_of(sheet)
    assert rows[0][:3] == ["Trainee username", "Trainee", "Email"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Q{len(rows)}"
    with app.extensions["database"].sessions() as session:
        enrolments = session.scalars(
            sa.select(Enrolment).where(Enrolment.cohort_id == cohort).order_by(Enrolment.id)
        ).all()
        assert len(rows) == len(enrolments) + 1
        for row, enrolment in zip(rows[1:], enrolments, strict=True):
            progress = progress_of(session, enrolment)
            assert row[0] == enrolment.trainee.username
            assert row[1] == enrolment.trainee.display_name and "Ngāti" in row[1]
            assert row[7] == ENROLMENT_STATUS[enrolment.status]
            assert row[8] == datetime.datetime.combine(enrolment.start_date, datetime.time())
            assert row[11:15] == [
                progress.criteria_satisfied,
                progress.criteria_total,
                progress.items_satisfied,
                progress.items_total,
            ]
            assert row[15] == pytest.approx(progress.percent / 100)
    book.close()


def test_criteria_matrix_has_a_column_per_criterion_with_status_and_colour(app, cohort):
    book = download(app, "matrix", cohort=cohort)
    sheet = book[book.sheetnames[0]]
    rows = rows_of(sheet)
    assert rows[0][5:] == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2"]
    with app.extensions["database"].sessions() as session:
        enrolments = session.scalars(
            sa.select(Enrolment).where(Enrolment.cohort_id == cohort).order_by(Enrolment.id)
        ).all()
        for index, enrolment in enumerate(enrolments, start=2):
            progress = progress_of(session, enrolment)
            expected = [
                STATUS[progress.targets[t].status] for t in ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2")
            ]
            assert rows[index - 1][5:] == expected
            for column, status in enumerate(expected, start=6):
                assert sheet.cell(index, column).fill.fgColor.rgb.endswith(STATUS_FILLS[status])
    book.close()


def test_evidence_register_lists_each_piece_with_its_mappings(app, cohort):
    book = download(app, "evidence", cohort=cohort)
    rows = rows_of(book["Evidence register"])
    with app.extensions["database"].sessions() as session:
        evidence = (
            session.scalars(
                sa.select(Evidence)
                .join(Evidence.mappings)
                .join(Enrolment)
                .where(Enrolment.cohort_id == cohort)
                .order_by(Evidence.id)
            )
            .unique()
            .all()
        )
        assert [r[0] for r in rows[1:]] == [e.id for e in evidence]
        for row, item in zip(rows[1:], evidence, strict=True):
            assert row[3] == datetime.datetime.combine(item.observed_on, datetime.time())
            assert row[10] == item.narrative
            assert row[12] == "; ".join(
                f"us_case_mgmt {m.target}: {'Satisfied' if m.verdict.value == 'satisfied' else 'Not yet satisfied'}"
                for m in item.mappings
            )
    book.close()


def test_completion_register_and_every_export_is_audited(app, cohort):
    download(app, "completions").close()
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 0
        made, taken = session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action.in_(["export.make", "export.download"]))
            .order_by(AuditEvent.seq)
        ).all()
        assert (made.action, made.actor, taken.action, taken.actor) == (
            "export.make",
            "coordinator",
            "export.download",
            "coordinator",
        )
        assert made.entity_id == taken.entity_id and '"kind":"completions"' in made.after


def test_a_coordinator_cannot_export_another_coordinators_cohort(app, cohort):
    with app.extensions["database"].sessions.begin() as session:
        admin = session.scalars(sa.select(User).where(User.username == "admin")).one()
        other = create_cohort(session, admin, "Someone else's", [])
        other_id = other.id
    client = app.test_client()
    sign_in(client, "coordinator")
    assert export(client, "progress", cohort=other_id).status_code == 404
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_export_command_writes_the_same_workbook_with_a_progress_bar(app, cohort, runner, tmp_path):
    target = tmp_path / "progress.xlsx"
    result = runner.invoke(
        args=["export", "progress", "--as", "coordinator", "--cohort", "Generated cohort", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 12 rows" in result.output
    book = openpyxl.load_workbook(target)
    assert book["Progress summary"].max_row == 13
    book.close()
    refused = runner.invoke(args=["export", "progress", "--as", "trainee", "-o", str(tmp_path / "x.xlsx")])
    assert refused.exit_code == 1 and "not an active coordinator or admin" in refused.output


def test_the_evidence_register_names_only_the_mappings_in_scope(app):
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        both = [
            MappingInput(world.csc_enrolment.id, "1.1", Verdict.SATISFIED),
            MappingInput(world.nz_enrolment.id, "1.1", Verdict.SATISFIED),
        ]
        evidence = record_evidence(
            session, world.assessor, world.trainee, observation("Seen in both units."), both, today=TODAY
        )
        other = record_evidence(
            session,
            world.assessor,
            world.trainee,
            observation("Seen once more."),
            [MappingInput(world.csc_enrolment.id, "1.2", Verdict.NOT_YET)],
            today=TODAY,
        )
        # The NZQA enrolment moves to a cohort the coordinator does not run: its judgements are out of their scope.
        world.nz_enrolment.cohort = create_cohort(session, world.admin, "Run by someone else", [])
        cohort, evidence_ids = world.csc_enrolment.cohort_id, [evidence.id, other.id]
    rows = rows_of(download(app, "evidence", cohort=cohort)["Evidence register"])
    assert [r[0] for r in rows[1:]] == evidence_ids
    assert [r[12] for r in rows[1:]] == ["CSCOFM023 1.1: Satisfied", "CSCOFM023 1.2: Not yet satisfied"]


def test_an_evidence_register_row_holds_the_piece_its_people_attachments_and_acknowledgement(app):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        mapped = [MappingInput(world.nz_enrolment.id, "1.1", Verdict.SATISFIED)]
        evidence = record_evidence(
            session,
            world.assessor,
            world.trainee,
            observation("=Interviewed a client about housing."),
            mapped,
            [stored_attachment(upload_dir), stored_attachment(upload_dir, "more.pdf", PDF + b"% second\n")],
            today=TODAY,
        )
        acknowledge(session, world.trainee, evidence)
        unacknowledged = record_evidence(
            session, world.assessor, world.trainee, observation("Seen again."), mapped, today=TODAY
        )
        ids = [evidence.id, unacknowledged.id]
        recorded_at = evidence.recorded_at.astimezone(datetime.UTC).replace(tzinfo=None)
    rows = rows_of(download(app, "evidence")["Evidence register"])
    assert [r[0] for r in rows[1:]] == ids
    first = rows[1]
    assert abs(first[8] - recorded_at) < datetime.timedelta(seconds=1)
    assert first[:8] + first[9:] == [
        ids[0],
        "trainee",
        "Trainee",
        datetime.datetime(2026, 11, 2),
        METHOD[Method.DIRECT_OBSERVATION],
        CONTEXT[Context.WORKPLACE],
        "Service centre",
        "assessor",
        "No",
        "=Interviewed a client about housing.",
        "notes.pdf; more.pdf",
        "us_case_mgmt 1.1: Satisfied",
        "Yes",
    ]
    assert rows[2][11:] == [None, "us_case_mgmt 1.1: Satisfied", "No"]


def test_the_completion_register_marks_a_revoked_record_with_when_by_whom_and_why(app):
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        satisfy_all(session, world, world.nz_enrolment)
        revoked = sign_off(session, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), TODAY)
        revocation = revoke(session, world.coordinator, revoked, "Evidence found to be copied.")
        satisfy_all(session, world, world.nz_enrolment)
        standing = sign_off(session, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), TODAY)
        assert isinstance(revoked, CompletionRecord) and isinstance(standing, CompletionRecord)
        about = ["trainee", "Trainee", "Intake A", world.nz.code, world.nz.title, world.nz.version]
        revoked_on = revocation.revoked_at.date()
        first, second = ([r.id, r.result, r.verification_code] for r in (revoked, standing))
    rows = rows_of(download(app, "completions")["Completion register"])
    signed = datetime.datetime.combine(TODAY, datetime.time())
    assert rows[1:] == [
        [first[0], *about, first[1], signed, "assessor", first[2], "Revoked"]
        + [datetime.datetime.combine(revoked_on, datetime.time()), "coordinator", "Evidence found to be copied."],
        [second[0], *about, second[1], signed, "assessor", second[2], "No", None, None, None],
    ]
