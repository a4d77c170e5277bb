"""The bulk generator writes exactly the records the operations write, with an intact audit chain."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa

from assessor.core.database import Base
from assessor.core.passwords import check_password
from assessor.demo.generate import generate, generate_with_operations, make_plan, parse_cohort_size
from assessor.demo.sample import create_demo
from assessor.domain.vocabulary import EnrolmentStatus, Role
from assessor.models import Cohort, CompletionRecord, Enrolment, Evidence, UnitVersion, User
from assessor.standards.operations import register_units
from assessor.standards.queries import unit_of
from tests.conftest import empty_database
from tests.records.factories import PASSWORD, TODAY

COUNT = 9
SIZES = (3, 5)
SEED = 7
# Differ by design between the two paths: times, salted hashes and random tokens. Only whether each is set is compared.
UNCOMPARED = {
    "created_at",
    "loaded_at",
    "recorded_at",
    "judged_at",
    "acknowledged_at",
    "signed_at",
    "uploaded_at",
    "revoked_at",
    "at",
    "password_hash",
    "session_token",
    "verification_code",
    "occurred_at",
    "prev_hash",
    "hash",
    # the audit seal: each database's chain has an id of its own, sealed at its own time
    "chain_id",
    "sealed_at",
    "mac",
}


def rows_of(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table in primary-key order, with the uncompared columns reduced to whether they are set."""
    found = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings()
            found[table.name] = [{k: (v is not None) if k in UNCOMPARED else v for k, v in row.items()} for row in rows]
    return found


def build(app, bulk: bool) -> dict[str, list[dict[str, Any]]]:
    """The demo, then the generated cohorts by one path or the other; return the rows."""
    database = app.extensions["database"]
    with database.sessions.begin() as session:
        register_units(session, app.extensions["catalogue"])
        create_demo(session, PASSWORD, today=TODAY)
    if bulk:
        generate(database.sessions, COUNT, PASSWORD, today=TODAY, seed=SEED, cohort_size=SIZES, batch=4)
    else:
        with database.sessions.begin() as session:
            generate_with_operations(session, COUNT, PASSWORD, today=TODAY, seed=SEED, cohort_size=SIZES)
    return rows_of(database.engine)


def test_bulk_path_writes_what_the_operations_write(make_app, migrated_template, tmp_path):
    bulk_app = make_app(AUDIT_CHECKPOINT_DIR=str(tmp_path / "checkpoints"))
    bulk = build(bulk_app, bulk=True)
    verified = bulk_app.test_cli_runner().invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    # Each bulk transaction leaves its checkpoint, as the operations' do: the last one names the last event.
    assert "after the last checkpoint" not in verified.output
    bulk_app.extensions["database"].dispose()
    by_operations = build(
        make_app(DATABASE_URL=empty_database(migrated_template, tmp_path / "by_operations.sqlite")), bulk=False
    )

    assert len(bulk["audit_event"]) > 800
    for table, rows in by_operations.items():
        assert bulk[table] == rows, table


def test_generated_records_are_varied_and_realistic(app, db):
    build(app, bulk=True)
    generated = db.scalars(sa.select(User).where(User.username.like("%.%"))).all()
    trainees = [u for u in generated if u.role == Role.TRAINEE]
    assert len(trainees) == COUNT and sum(u.role == Role.ASSESSOR for u in generated) == 1
    assert any(ch in "āēīōū" for u in trainees for ch in u.display_name.lower())
    statuses = db.execute(sa.select(Enrolment.status, sa.func.count()).group_by(Enrolment.status)).all()
    assert {EnrolmentStatus.COMPLETED, EnrolmentStatus.ACTIVE} <= dict(statuses).keys()
    csc = db.scalars(sa.select(Enrolment).join(UnitVersion).where(UnitVersion.unit_id == "cscofm023")).all()
    assert all(e.start_date < datetime.date(2021, 1, 24) for e in csc)
    assert db.scalar(sa.select(sa.func.count()).select_from(Evidence)) == 6 + 20 * COUNT  # the demo's own six
    assert db.scalar(sa.select(sa.func.count()).select_from(CompletionRecord)) > 1
    sizes = db.scalars(sa.select(sa.func.count()).select_from(Enrolment).join(Cohort).group_by(Cohort.id)).all()
    assert sum(sizes) == 6 + 2 * COUNT  # the demo's own six enrolments
    assert check_password(trainees[0].password_hash, PASSWORD)


def test_plans_are_reproducible_and_sized_as_asked(app, db):
    with app.extensions["database"].sessions.begin() as session:
        register_units(session, app.extensions["catalogue"])
    units = {v.unit_id: unit_of(v) for v in db.scalars(sa.select(UnitVersion))}
    first = make_plan(100, units, TODAY, seed=3)
    again = make_plan(100, units, TODAY, seed=3)
    cohorts = list(first.cohorts)
    assert cohorts == list(again.cohorts)
    assert sum(len(c.trainees) for c in cohorts) == 100
    assert all(25 <= len(c.trainees) <= 40 for c in cohorts[:-1])
    assert len(first.assessors) == 3
    assert all(
        len(t.evidence) == 20 and all(len(e.mappings) == 3 for e in t.evidence) for c in cohorts for t in c.trainees
    )
    assert parse_cohort_size("1000") == (1000, 1000) and parse_cohort_size("25-40") == (25, 40)


def test_demo_command_adds_generated_trainees(app, runner):
    result = runner.invoke(args=["demo", "--password", PASSWORD, "--trainees", "30"])
    assert result.exit_code == 0, result.output
    assert "generated 30 trainees" in result.output
    again = runner.invoke(args=["demo", "--password", PASSWORD, "--trainees", "5", "--cohort-size", "5"])
    assert again.exit_code == 0, again.output
    assert "demo accounts" not in again.output
    with app.extensions["database"].read_sessions() as session:
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == Role.TRAINEE)) == 2 + 30 + 5
        )
        assert session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 6 + 2 * 35
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    refused = runner.invoke(args=["demo", "--trainees", "3", "--cohort-size", "9-2"])
    assert refused.exit_code != 0 and "cohort size" in refused.output
