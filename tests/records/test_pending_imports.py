"""The rows an import is still writing: seen by that import alone, whatever the query, until it is done; in the audit
trail like any other rows, so that `assessor audit verify` checks them; and removed, with the trail saying which, when
the import is undone."""

from __future__ import annotations

import datetime
import json

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts.operations import create_user
from assessor.cohorts.operations import create_cohort, enrol
from assessor.core.access import visible_cohorts, visible_enrolments
from assessor.domain.vocabulary import Role
from assessor.models import AuditEvent, Cohort, Enrolment, EnrolmentProgress, User, enrolment_assessor
from assessor.models.pending import sees
from assessor.transfer.operations import finish_import, undo_import
from tests.records.factories import build_world

IMPORT = 7


@pytest.fixture
def written(app):
    """A trainee, a cohort and an enrolment written by import 7, not yet done; their ids."""
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        coordinator, assessor, nz = world.coordinator.id, world.assessor.id, world.nz.id
    with app.extensions["database"].sessions.begin() as session:
        sees(session, IMPORT)
        coordinator_row, assessor_row = session.get_one(User, coordinator), session.get_one(User, assessor)
        cohort = create_cohort(session, coordinator_row, "Intake 2027", [coordinator_row])
        trainee = create_user(session, coordinator_row, "aroha", "Aroha Ngata", Role.TRAINEE, None)
        enrolment = enrol(
            session,
            coordinator_row,
            trainee,
            session.get_one(Enrolment, world.nz_enrolment.id).unit_version,
            [assessor_row],
            datetime.date(2026, 9, 1),
            cohort,
        )
        assert nz == enrolment.unit_version_id
        return {"user": trainee.id, "cohort": cohort.id, "enrolment": enrolment.id, "coordinator": coordinator}


def marks(app) -> dict[str, list[int | None]]:
    """Each table's import marks, read without the ORM (which would hide the marked rows)."""
    with app.extensions["database"].engine.connect() as connection:
        return {
            table.name: sorted(
                mark for mark in connection.scalars(sa.select(table.c.pending_import_id)) if mark is not None
            )
            for table in (User.__table__, Cohort.__table__, Enrolment.__table__)
        }


def what_is_seen(session: so.Session, ids: dict[str, int]) -> dict[str, object]:
    """The written rows as queries of many shapes find them."""
    coordinator = session.get_one(User, ids["coordinator"])
    return {
        "get": (
            session.get(User, ids["user"]) is not None,
            session.get(Cohort, ids["cohort"]) is not None,
            session.get(Enrolment, ids["enrolment"]) is not None,
        ),
        "by name": session.scalar(sa.select(User.id).where(User.username == "aroha")) is not None,
        "count": session.scalar(sa.select(sa.func.count()).select_from(Enrolment)),
        "joined": session.scalars(
            sa.select(User.username).join(Enrolment, Enrolment.trainee_id == User.id).order_by(User.username)
        ).all(),
        "subquery": session.scalar(
            sa.select(sa.func.count()).where(EnrolmentProgress.enrolment_id.in_(sa.select(Enrolment.id)))
        ),
        "cohorts": sorted(session.scalars(visible_cohorts(coordinator).with_only_columns(Cohort.name))),
        "enrolments": len(session.scalars(visible_enrolments(coordinator)).all()),
    }


def test_the_rows_an_import_is_writing_are_seen_by_that_import_alone(app, written):
    assert marks(app) == {"user_account": [IMPORT], "cohort": [IMPORT], "enrolment": [IMPORT]}
    sessions = app.extensions["database"].read_sessions
    with sessions() as session:
        hidden = what_is_seen(session, written)
    with sessions() as session:
        other_import = what_is_seen(sees(session, IMPORT + 1), written)
    with sessions() as session:
        own = what_is_seen(sees(session, IMPORT), written)
    with sessions() as session:
        every = what_is_seen(sees(session), written)
    assert hidden == other_import
    assert hidden["get"] == (False, False, False) and not hidden["by name"]
    assert hidden["joined"] == ["trainee", "trainee"] and hidden["cohorts"] == ["Intake A"]
    assert own == every
    assert own["get"] == (True, True, True) and own["by name"]
    assert own["joined"] == ["aroha", "trainee", "trainee"] and own["cohorts"] == ["Intake 2027", "Intake A"]
    for shape in ("count", "subquery", "enrolments"):
        assert own[shape] == hidden[shape] + 1, shape  # type: ignore[operator]
    with sessions() as session:  # nor does reaching it through the assessor it is assigned to
        assessor = session.scalars(sa.select(User).where(User.username == "assessor")).one()
        linked = session.scalars(
            sa.select(Enrolment).join(enrolment_assessor).where(enrolment_assessor.c.user_id == assessor.id)
        ).all()
        assert written["enrolment"] not in [e.id for e in linked]

    with app.extensions["database"].sessions.begin() as session:
        coordinator = session.get_one(User, written["coordinator"])
        finish_import(session, coordinator, {"enrolments": 1}, IMPORT)
    assert marks(app) == {"user_account": [], "cohort": [], "enrolment": []}
    with sessions() as session:
        assert what_is_seen(session, written) == own  # done: everyone's


def verify(app) -> str:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.output


def test_the_audit_trail_checks_the_rows_of_an_import_under_way_and_vouches_for_their_removal(app, written):
    assert "audit trail intact" in verify(app)  # the rows are in the trail, and the check sees them
    removed = []
    with app.extensions["database"].sessions.begin() as session:
        removed.append(undo_import(session, IMPORT, limit=1))
    assert "audit trail intact" in verify(app)  # the enrolment is gone, and the trail says so
    while removed[-1]:
        with app.extensions["database"].sessions.begin() as session:
            removed.append(undo_import(session, IMPORT, limit=1))
    assert removed == [1, 1, 1, 0]  # the enrolment, then the trainee, then the cohort; then nothing is left
    assert marks(app) == {"user_account": [], "cohort": [], "enrolment": []}
    with app.extensions["database"].engine.connect() as connection:
        assert (
            connection.scalar(sa.select(sa.func.count()).select_from(User.__table__).where(User.username == "aroha"))
            == 0
        )
    assert "audit trail intact" in verify(app)
    with app.extensions["database"].read_sessions() as session:
        undone = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "import.undo").order_by(AuditEvent.seq)
        ).all()
    assert [(e.actor, e.entity_type, e.entity_id) for e in undone] == [("system", "import", str(IMPORT))] * 3
    assert [json.loads(e.after) for e in undone] == [
        {"enrolments": [written["enrolment"]], "accounts": [], "cohorts": []},
        {"enrolments": [], "accounts": [written["user"]], "cohorts": []},
        {"enrolments": [], "accounts": [], "cohorts": [written["cohort"]]},
    ]


def test_rows_of_an_import_removed_without_saying_so_are_found_missing(app, written):
    with app.extensions["database"].engine.begin() as connection:
        enrolment = Enrolment.__table__
        connection.execute(
            sa.delete(EnrolmentProgress.__table__).where(EnrolmentProgress.enrolment_id == written["enrolment"])
        )
        connection.execute(
            sa.delete(enrolment_assessor).where(enrolment_assessor.c.enrolment_id == written["enrolment"])
        )
        connection.execute(sa.delete(enrolment).where(enrolment.c.id == written["enrolment"]))
    assert f"enrolment {written['enrolment']}: missing" in verify(app)
