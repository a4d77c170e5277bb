"""A unit's status changes after its text is loaded, audited, without touching the frozen text; pages read the
database, so a version loaded by any process shows at once."""

from __future__ import annotations

import datetime
import json

import sqlalchemy as sa
import yaml

from assessor.cli import main
from assessor.cohorts.operations import enrol
from assessor.domain.errors import InvalidInput
from assessor.domain.standards import Catalogue, parse_unit
from assessor.domain.vocabulary import Role
from assessor.models import AuditEvent, Cohort, UnitStatus, UnitVersion, User
from assessor.standards.operations import register_units
from tests.records.factories import make_user
from tests.web.conftest import csrf_token, sign_in

PAGE = "/standards/us_case_mgmt/v1"


def stored(app) -> tuple[str, str, int, int]:
    with app.extensions["database"].engine.connect() as connection:
        text, sha = connection.execute(
            sa.select(UnitVersion.source_text, UnitVersion.source_sha256).where(UnitVersion.unit_id == "us_case_mgmt")
        ).one()
        changes = connection.execute(sa.select(sa.func.count()).select_from(UnitStatus)).scalar_one()
        events = connection.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one()
    return text, sha, changes, events


def change(client, **fields):
    data = {"csrf_token": csrf_token(client, PAGE), "status": "superseded", "since": "2026-11-30", **fields}
    return client.post(f"{PAGE}/status", data=data)


def test_an_administrator_supersedes_a_unit_and_new_enrolments_stop_while_its_text_stays(app, client, world):
    before = stored(app)
    sign_in(client, "admin")
    response = change(client, replaced_by="US 99999")
    assert response.status_code == 302
    page = client.get(PAGE).get_data(as_text=True)
    assert "Superseded" in page and "since 2026-11-30" in page and "replaced by US 99999" in page
    assert "No new enrolments" in page and "Status history" in page
    text, sha, changes, _ = stored(app)
    assert (text, sha) == before[:2] and changes == before[2] + 1
    with app.extensions["database"].sessions() as session:
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "unit_version.status")).one()
        assert json.loads(event.before)["status"] == "current"
        assert json.loads(event.after) == {"status": "superseded", "since": "2026-11-30", "replaced_by": "US 99999"}
    assert "superseded" in client.get("/standards/").get_data(as_text=True).lower()
    # a coordinator enrols nobody new in it; the refusal says why
    with app.extensions["database"].sessions() as session:
        coordinator = session.scalar(sa.select(User).where(User.username == "coordinator"))
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        version = session.scalar(sa.select(UnitVersion).where(UnitVersion.unit_id == "us_case_mgmt"))
        cohort = session.scalar(sa.select(Cohort).where(Cohort.name == "Intake A"))
        newcomer = make_user(session, "newcomer", Role.TRAINEE)
        try:
            enrol(session, coordinator, newcomer, version, [assessor], datetime.date.today(), cohort)
        except InvalidInput as exc:
            assert "was superseded on 2026-11-30" in exc.problems["unit"]
        else:
            raise AssertionError("a superseded unit took a new enrolment")
        session.rollback()
    # and back to current
    assert change(client, status="current", since="").status_code == 302
    assert "Current" in client.get(PAGE).get_data(as_text=True)


def test_a_wrong_or_repeated_status_change_is_refused_and_changes_nothing(app, client, world):
    sign_in(client, "admin")
    before = stored(app)
    missing_date = change(client, since="")
    assert missing_date.status_code == 400 and "Give the date it was superseded." in missing_date.get_data(as_text=True)
    same = change(client, status="current", since="")
    assert same.status_code == 400 and "That is its status already." in same.get_data(as_text=True)
    unknown = change(client, status="withdrawn")
    assert unknown.status_code == 400 and "Not a valid choice" in unknown.get_data(as_text=True)
    too_long = change(client, replaced_by="x" * 201)
    assert too_long.status_code == 400 and "Use at most 200 characters" in too_long.get_data(as_text=True)
    assert stored(app) == before
    coordinator = client.application.test_client()
    sign_in(coordinator, "coordinator")
    assert "Change its status" not in coordinator.get(PAGE).get_data(as_text=True)
    assert change(coordinator).status_code == 404
    assert stored(app) == before


def test_a_version_loaded_meanwhile_shows_at_once_without_a_restart(app, client, world):
    assert client.get("/standards/us_case_mgmt/v2").status_code == 404
    source = app.extensions["catalogue"].find("us_case_mgmt").source_text
    document = yaml.safe_load(source)
    document["version"] = 2
    document["title"] += " (revised)"
    unit = parse_unit(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "us_case_mgmt_v2.yaml")
    with app.extensions["database"].sessions.begin() as session:  # as another process loading it would
        register_units(session, Catalogue((unit,)))
    page = client.get("/standards/us_case_mgmt/v2")
    assert page.status_code == 200 and "(revised)" in page.get_data(as_text=True)
    assert "version 2" in client.get("/standards/").get_data(as_text=True)
    assert 'href="/standards/us_case_mgmt/v1"' in page.get_data(as_text=True)


def test_the_command_line_changes_the_status_as_an_administrator(app, runner, world):
    result = runner.invoke(
        main, ["standards", "status", "us_case_mgmt", "1", "deleted", "--since", "2026-11-01", "--as", "admin"]
    )
    assert result.exit_code == 0, result.output
    assert "us_case_mgmt@1 is now deleted." in result.output
    refused = runner.invoke(main, ["standards", "status", "us_case_mgmt", "1", "superseded", "--as", "admin"])
    assert refused.exit_code != 0 and "Give the date it was superseded." in refused.output
    not_admin = runner.invoke(main, ["standards", "status", "us_case_mgmt", "1", "current", "--as", "coordinator"])
    assert not_admin.exit_code != 0 and "not an active administrator" in not_admin.output
    with app.extensions["database"].sessions() as session:
        assert [c.status for c in session.scalars(sa.select(UnitStatus))] == ["deleted"]
