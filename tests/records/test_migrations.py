"""Upgrading a database that already holds records keeps them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from alembic import command

from assessor.core import audit, migrate
from assessor.core.audit_keys import SETTINGS, AuditSettings
from assessor.core.database import make_engine
from assessor.domain.audit_chain import GENESIS, ChainedEvent, canonical, event_hash, find_break
from assessor.domain.progress import Tally
from assessor.domain.standards import parse_unit

STANDARDS = Path(__file__).parents[2] / "standards"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

Rows = dict[str, list[dict[str, Any]]]


@pytest.fixture
def scratch_engine(tmp_path) -> Iterator[sa.Engine]:
    """An engine on an empty database of this test's own, gone afterwards.

    On SQLite a file under tmp_path. When TEST_DATABASE_URL names a PostgreSQL database, that database is left alone
    (other tests use it): a database with a unique name is created beside it on the same server and dropped at the end.
    """
    if not POSTGRES_URL or sa.make_url(POSTGRES_URL).get_backend_name() != "postgresql":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
        yield engine
        engine.dispose()
        return
    name = f"assessor_migration_{uuid.uuid4().hex[:12]}"
    server = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine = make_engine(sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
        try:
            yield engine
        finally:
            engine.dispose()
            with server.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        server.dispose()


def database_at(engine: sa.Engine, revision: str, rows: Rows) -> sa.Engine:
    """The database of `engine` migrated only as far as `revision`, holding `rows` (table name to rows, in order)."""
    config = migrate.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        tables = reflect(connection)
        for name, table_rows in rows.items():
            if table_rows:
                connection.execute(sa.insert(tables[name]), table_rows)
    return engine


def reflect(connection: sa.Connection) -> dict[str, sa.Table]:
    """The tables as they are in the database now, typed by what it says of them."""
    metadata = sa.MetaData()
    metadata.reflect(connection)
    return dict(metadata.tables)


def comparable(value: Any) -> Any:
    """Instants as naive UTC: SQLite gives back naive datetimes, PostgreSQL aware ones in the session's time zone."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def stored(engine: sa.Engine, columns: dict[str, list[str] | None]) -> Rows:
    """Every row the database holds now in these tables (these columns, or all), in primary key order."""
    with engine.connect() as connection:
        tables = reflect(connection)
        found = {}
        for name, names in columns.items():
            table = tables[name]
            query = sa.select(*(table.c[n] for n in names) if names else table.c).order_by(*table.primary_key.columns)
            found[name] = [{k: comparable(v) for k, v in row.items()} for row in connection.execute(query).mappings()]
    return found


def in_key_order(engine: sa.Engine, rows: Rows) -> Rows:
    """`rows` as `stored` gives them back when nothing changed them."""
    with engine.connect() as connection:
        tables = reflect(connection)
    ordered = {}
    for name, table_rows in rows.items():
        key = [c.name for c in tables[name].primary_key.columns]
        comparable_rows = [{k: comparable(v) for k, v in row.items()} for row in table_rows]
        ordered[name] = sorted(comparable_rows, key=lambda row: [row[k] for k in key])
    return ordered


def table(columns: str, *rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows given as tuples in the order of `columns` (names separated by spaces)."""
    return [dict(zip(columns.split(), row, strict=True)) for row in rows]


def at(day: str, time: str = "09:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}:00+00:00")


def date(day: str) -> datetime.date:
    return datetime.date.fromisoformat(day)


def test_upgrade_from_the_first_migration_keeps_accounts_and_gives_each_a_session_token(scratch_engine):
    accounts = table(
        "username display_name password_hash role active created_at",
        ("kim", "Kim", "x", "trainee", True, at("2026-01-01")),
        ("lee", "Lee", "y", "assessor", True, at("2026-01-01")),
    )
    engine = database_at(scratch_engine, "0001", {"user_account": accounts})
    migrate.upgrade(engine)
    with engine.connect() as connection:
        tokens = connection.execute(sa.text("SELECT username, session_token FROM user_account ORDER BY username")).all()
    assert [u for u, _ in tokens] == ["kim", "lee"]
    assert all(len(t) >= 40 for _, t in tokens) and tokens[0][1] != tokens[1][1]


def test_upgrade_gives_enrolments_that_already_have_evidence_their_tally(scratch_engine):
    source = (STANDARDS / "us_case_mgmt.yaml").read_text()
    day = at("2026-01-01")
    rows = {
        "user_account": table(
            "id username display_name password_hash role active created_at session_token",
            (1, "kim", "Kim", "x", "trainee", True, day, "a"),
            (2, "lee", "Lee", "y", "assessor", True, day, "b"),
            (3, "ari", "Ari", "z", "trainee", True, day, "c"),
        ),
        "unit_version": table(
            "id unit_id version title framework source_sha256 source_text loaded_at",
            (1, "us_case_mgmt", 1, "Case management", "NZQA", "h", source, day),
        ),
        "enrolment": table(
            "id trainee_id unit_version_id status start_date version",
            (1, 1, 1, "active", date("2026-01-05"), 1),
            (2, 3, 1, "active", date("2026-01-05"), 1),
        ),
        "evidence": table(
            "id trainee_id method context observed_on location narrative recorded_by_id recorded_at "
            "submitted_by_trainee version",
            (1, 1, "direct_observation", "workplace", date("2026-02-03"), "", "Seen.", 2, at("2026-02-03"), False, 1),
        ),
        "evidence_mapping": table(
            "evidence_id enrolment_id target_kind target verdict comment version",
            (1, 1, "criterion", "1.1", "satisfied", "", 1),
            (1, 1, "criterion", "1.2", "not_yet", "", 1),
        ),
    }
    engine = database_at(scratch_engine, "0002", rows)
    migrate.upgrade(engine)
    progress = {row["enrolment_id"]: row for row in stored(engine, {"enrolment_progress": None})["enrolment_progress"]}
    with_evidence, without = Tally.from_json(progress[1]["tally"]), Tally.from_json(progress[2]["tally"])
    assert (with_evidence.satisfied, with_evidence.last_evidence) == (1, date("2026-02-03"))
    assert [c.satisfied for c in with_evidence.components] == [1, 0]
    assert (without.satisfied, without.total, without.last_evidence) == (0, with_evidence.total, None)
    columns = (progress[1]["percent"], progress[1]["outstanding"], progress[1]["last_evidence"])
    assert columns == (with_evidence.percent, with_evidence.total - 1, date("2026-02-03"))


# --- a database at the first revision, with something in every table -------------------------------------------------

CASE_MGMT = (STANDARDS / "us_case_mgmt.yaml").read_text()
OFFENDERS = (STANDARDS / "cscofm023.yaml").read_text()
CASE_MGMT_UNIT = parse_unit(CASE_MGMT, "us_case_mgmt.yaml")
OFFENDERS_UNIT = parse_unit(OFFENDERS, "cscofm023.yaml")

ADA, CORA, LEE, SAM, KIM, ARI, TUI = range(1, 8)
ACCOUNTS = table(
    "id username display_name email role active",
    (ADA, "ada", "Ada Admin", "ada@example.org", "admin", True),
    (CORA, "cora", "Cora Coordinator", "cora@example.org", "coordinator", True),
    (LEE, "lee", "Lee Assessor", "lee@example.org", "assessor", True),
    (SAM, "sam", "Sam O'Brien", None, "assessor", True),
    (KIM, "kim", "Kim Trainee", "kim@example.org", "trainee", True),
    (ARI, "ari", "Ari Te Whata", None, "trainee", True),
    (TUI, "tui", "Tūī Ngāta", None, "trainee", False),
)
USERNAMES = {account["id"]: account["username"] for account in ACCOUNTS}
LOADED = at("2026-01-02", "07:00")
JUDGED = at("2026-03-05", "14:30")
NARRATIVE = "Kim set up a private interview room.\nClient: “I felt safe.”"
NOTES = "Case notes written up at home; 50% of the template."


def _snapshot(evidence_ids: list[int]) -> dict[str, Any]:
    """A completion record's snapshot of the case management unit, as sign-off freezes it."""
    criteria = [{"number": c.number, "text": c.text, "evidence_ids": evidence_ids} for c in CASE_MGMT_UNIT.criteria()]
    evidence = [{"id": i, "method": "direct_observation"} for i in evidence_ids]
    unit = {"unit": "us_case_mgmt@1", "source_sha256": CASE_MGMT_UNIT.source_sha256}
    return {**unit, "criteria": criteria, "items": [], "evidence": evidence}


def _audit_chain(*events: tuple[str, int | None, str, str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit events (time, actor, action, entity, after) chained the way the application chains them."""
    chain, prev = [], GENESIS
    for seq, (occurred_at, actor_id, action, entity, after) in enumerate(events, start=1):
        entity_type, entity_id = entity.split(":")
        actor = USERNAMES.get(actor_id, "system")
        event = ChainedEvent(seq, occurred_at, actor_id, actor, action, entity_type, entity_id, "{}", canonical(after))
        chain.append({**vars(event), "prev_hash": prev, "hash": event_hash(prev, event)})
        prev = chain[-1]["hash"]
    return chain


FIRST_REVISION_ROWS: Rows = {
    "user_account": [
        {**a, "password_hash": f"$argon2id$v=19$m=65536,t=3,p=4${a['username']}", "created_at": at("2026-01-02")}
        for a in ACCOUNTS
    ],
    "unit_version": table(
        "id unit_id version code title framework source_sha256 source_text loaded_at",
        (1, "us_case_mgmt", 1, None, CASE_MGMT_UNIT.title, "NZQA", CASE_MGMT_UNIT.source_sha256, CASE_MGMT, LOADED),
        (2, "cscofm023", 1, "CSCOFM023", OFFENDERS_UNIT.title, "tga", OFFENDERS_UNIT.source_sha256, OFFENDERS, LOADED),
    ),
    "cohort": table(
        "id name created_at",
        (1, "Wellington case managers 2026", at("2026-01-03")),
        (2, "Auckland corrections 2026", at("2026-01-03", "10:00")),
    ),
    "cohort_coordinator": table("cohort_id user_id", (1, CORA), (2, CORA), (2, ADA)),
    "enrolment": table(
        "id trainee_id unit_version_id cohort_id status start_date end_date version",
        (1, KIM, 1, 1, "active", date("2026-01-05"), None, 4),
        (2, ARI, 1, 1, "completed", date("2026-01-05"), date("2026-03-20"), 7),
        (3, TUI, 1, None, "withdrawn", date("2026-01-12"), date("2026-02-01"), 2),
        (4, KIM, 2, 2, "active", date("2026-01-19"), None, 3),
    ),
    "enrolment_assessor": table("enrolment_id user_id", (1, LEE), (2, LEE), (2, SAM), (3, SAM), (4, SAM)),
    "evidence": table(
        "id trainee_id method context observed_on location narrative recorded_by_id recorded_at "
        "submitted_by_trainee version",
        (1, KIM, "direct_observation", "workplace", date("2026-02-03"), "Te Aro", NARRATIVE, LEE, JUDGED, False, 2),
        (2, KIM, "work_product", "off_the_job", date("2026-02-10"), "", NOTES, KIM, at("2026-02-10"), True, 1),
        (3, ARI, "direct_observation", "workplace", date("2026-02-20"), "Porirua", "Intake.", LEE, JUDGED, False, 1),
        (4, ARI, "questioning", "simulated_workplace", date("2026-03-02"), "Room 2", "Q&A.", SAM, JUDGED, False, 1),
    ),
    "attachment": table(
        "id evidence_id original_name size content_type sha256 stored_name uploaded_by_id uploaded_at",
        (1, 2, "case notes – draft.pdf", 48213, "application/pdf", "9f2c" * 16, "b3f1c2d4e5f6", KIM, at("2026-02-10")),
    ),
    "acknowledgement": table(
        "id evidence_id evidence_version trainee_id acknowledged_at",
        (1, 1, 1, KIM, at("2026-02-04", "08:15")),
        (2, 1, 2, KIM, at("2026-02-06", "08:15")),
        (3, 3, 1, ARI, at("2026-02-21")),
    ),
    "evidence_mapping": table(
        "id evidence_id enrolment_id target_kind target verdict comment judged_by_id judged_at version",
        # Kim, case management: 1.1 met, 1.2 not yet, 1.3 to judge, 1.4 judged satisfied off the job (not accepted).
        (1, 1, 1, "criterion", "1.1", "satisfied", "Clear.", LEE, JUDGED, 1),
        (2, 1, 1, "criterion", "1.2", "not_yet", "Rushed the close.", LEE, JUDGED, 2),
        (3, 1, 1, "criterion", "1.3", None, "", None, None, 1),
        (4, 2, 1, "criterion", "1.4", "satisfied", "", LEE, JUDGED, 1),
        # Kim, offender management: a criterion and an item met, an item judged on off-the-job evidence.
        (5, 1, 4, "criterion", "2.1", "satisfied", "", SAM, JUDGED, 1),
        (6, 1, 4, "item", "PE1", "satisfied", "", SAM, JUDGED, 1),
        (7, 2, 4, "item", "KE16.1", "satisfied", "", SAM, JUDGED, 1),
        # Ari: every criterion met; a later "not yet" on 1.1 does not undo an accepted occasion.
        *((7 + n, 3, 2, "criterion", f"1.{n}", "satisfied", "", LEE, JUDGED, 1) for n in range(1, 7)),
        (14, 4, 2, "criterion", "2.1", "satisfied", "", SAM, JUDGED, 1),
        (15, 4, 2, "criterion", "2.2", "satisfied", "", SAM, JUDGED, 1),
        (16, 4, 2, "criterion", "1.1", "not_yet", "Check again at the next visit.", SAM, JUDGED, 1),
    ),
    "completion_record": table(
        "id enrolment_id result declared_valid declared_sufficient declared_authentic declared_current assessor_id "
        "signed_on signed_at snapshot verification_code",
        (1, 2, "Achieved", True, True, True, True, LEE, date("2026-03-10"), JUDGED, _snapshot([3]), "Zq4mN8rT2v"),
        (2, 2, "Achieved", True, True, True, True, SAM, date("2026-03-20"), JUDGED, _snapshot([3, 4]), "hJ9kL1mN3p"),
    ),
    "revocation": table(
        "id record_id revoked_by_id revoked_at reason",
        (1, 1, CORA, at("2026-03-12", "09:45"), "Signed off before the stakeholder criteria were assessed."),
    ),
    "audit_event": _audit_chain(
        ("2026-01-02T08:00:00.000000+00:00", None, "account.create", "user_account:1", {"username": "ada"}),
        ("2026-01-02T08:05:00.000000+00:00", ADA, "account.create", "user_account:5", {"username": "kim"}),
        ("2026-01-05T09:00:00.000000+00:00", CORA, "enrolment.create", "enrolment:1", {"trainee": KIM}),
        ("2026-02-03T16:45:00.000000+00:00", LEE, "evidence.record", "evidence:1", {"narrative": NARRATIVE}),
        ("2026-03-10T15:00:00.000000+00:00", LEE, "completion.sign_off", "completion_record:1", {"result": "Achieved"}),
        ("2026-03-12T09:45:00.000000+00:00", CORA, "completion.revoke", "completion_record:1", {"reason": "Early."}),
        ("2026-03-20T10:30:00.000000+00:00", SAM, "enrolment.complete", "enrolment:2", {"status": "completed"}),
    ),
}


def test_upgrade_from_the_first_revision_keeps_every_record_and_derives_tokens_and_tallies(scratch_engine):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    with engine.connect() as connection:
        assert set(reflect(connection)) - {"alembic_version"} == set(FIRST_REVISION_ROWS), "a table of 0001 left empty"

    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    columns = {name: list(rows[0]) for name, rows in FIRST_REVISION_ROWS.items()}
    assert stored(engine, columns) == in_key_order(engine, FIRST_REVISION_ROWS)
    derived = stored(engine, {"user_account": ["id", "session_token"], "enrolment_progress": None})

    tokens = [row["session_token"] for row in derived["user_account"]]
    assert [row["id"] for row in derived["user_account"]] == list(USERNAMES)
    assert all(len(token) >= 40 for token in tokens) and len(set(tokens)) == len(tokens)

    progress = {row["enrolment_id"]: row for row in derived["enrolment_progress"]}
    tallies = {id: Tally.from_json(row["tally"]) for id, row in progress.items()}
    assert sorted(progress) == [1, 2, 3, 4]
    for id, row in progress.items():
        expected = (tallies[id].to_json(), tallies[id].percent, tallies[id].outstanding, tallies[id].last_evidence)
        assert (row["tally"], row["percent"], row["outstanding"], row["last_evidence"]) == expected
    case_mgmt, offenders = CASE_MGMT_UNIT.components, OFFENDERS_UNIT.components
    assert [(c.number, c.title) for c in tallies[1].components] == [(c.number, c.title) for c in case_mgmt]
    assert [(c.number, c.title) for c in tallies[4].components] == [(c.number, c.title) for c in offenders]

    def summary(id: int) -> tuple[Any, ...]:
        return tallies[id].letters, progress[id]["percent"], progress[id]["outstanding"], progress[id]["last_evidence"]

    # Kim: 1.1 met; 1.2 not yet; 1.3 mapped but not judged; 1.4 met only off the job, which the unit does not accept.
    assert summary(1) == ("snen----", 12, 7, date("2026-02-10"))
    assert [(c.satisfied, c.total) for c in tallies[1].components] == [(1, 6), (0, 2)]
    # Ari: everything met. Tui withdrew before any evidence.
    assert summary(2) == ("ssssssss", 100, 0, date("2026-03-02"))
    assert summary(3) == ("--------", 0, 8, None)
    # Kim, offender management: criterion 2.1 and item PE1 met, item KE16.1 judged on evidence the unit does not accept.
    targets = [c.number for c in OFFENDERS_UNIT.criteria()] + [i.id for i in OFFENDERS_UNIT.assessable_items()]
    letters = "".join({"2.1": "s", "PE1": "s", "KE16.1": "n"}.get(target, "-") for target in targets)
    assert summary(4) == (letters, 100 * 2 // len(targets), len(targets) - 2, date("2026-02-10"))
    assert (tallies[4].criteria_satisfied, tallies[4].items_satisfied, tallies[4].total) == (1, 1, len(targets))
    assert [c.satisfied for c in tallies[4].components] == [0, 1]

    # The audit trail still chains, and the legal records are still append-only.
    with engine.connect() as connection:
        events = connection.execute(sa.text("SELECT * FROM audit_event ORDER BY seq")).mappings().all()
        assert find_break(ChainedEvent(**row) for row in events) == (len(FIRST_REVISION_ROWS["audit_event"]), None)
        refused = ["UPDATE audit_event SET actor = 'x'", "DELETE FROM completion_record", "DELETE FROM revocation"]
        for statement in refused:
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), connection.begin_nested():
                connection.execute(sa.text(statement))


def test_upgrade_adds_append_only_seals_and_a_trail_from_before_the_key_can_be_sealed(scratch_engine, tmp_path):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    migrate.upgrade(engine)
    settings = AuditSettings(b"k" * 32, tmp_path / "checkpoints")
    with so.Session(engine, info={SETTINGS: settings}) as session, session.begin():
        sealed = audit.seal(session)
    # The last event starts the keyed era; the sign-off and the event after it are vouched for one by one.
    assert (sealed.seq, sealed.vouched, sealed.broken) == (7, 2, None)
    with engine.connect() as connection:
        seals = connection.execute(sa.text("SELECT kind, seq FROM audit_seal ORDER BY id")).all()
        assert [tuple(s) for s in seals] == [("event", 5), ("event", 6), ("start", 7)]
        for statement in ("UPDATE audit_seal SET seq = 1", "DELETE FROM audit_seal"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), connection.begin_nested():
                connection.execute(sa.text(statement))


def test_the_seals_migration_goes_down_and_up_again(scratch_engine):
    engine = database_at(scratch_engine, "0004", {})
    config = migrate.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
        assert "audit_seal" not in reflect(connection)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert "audit_seal" in reflect(connection)


def test_the_retention_migration_goes_down_and_up_again_and_the_trail_stays_append_only(scratch_engine):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0004")
    with engine.connect() as connection:
        tables = reflect(connection)
        assert "legal_hold" not in tables and "erased_on" not in tables["evidence"].c
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), connection.begin_nested():
            connection.execute(sa.text("UPDATE audit_event SET after = after"))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert "legal_hold" in reflect(connection)
        connection.execute(sa.text("UPDATE audit_event SET after = after"))  # an erasure's rewrite
        for statement in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), connection.begin_nested():
                connection.execute(sa.text(statement))


def test_the_quality_migration_goes_down_and_up_again_and_completion_records_stay_append_only(scratch_engine):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    migrate.upgrade(engine)

    def refused(connection: sa.Connection) -> None:
        for statement in ("UPDATE completion_record SET result = 'x'", "DELETE FROM completion_record"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), connection.begin_nested():
                connection.execute(sa.text(statement))

    with engine.connect() as connection:
        assert "countersigned_by_id" in reflect(connection)["completion_record"].c
        refused(connection)
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():  # no such role before 0012
            connection.execute(sa.text("UPDATE user_account SET role = 'auditor' WHERE id = 1"))
        savepoint = connection.begin_nested()
        connection.execute(sa.text("UPDATE user_account SET role = 'quality_assurer' WHERE id = 1"))
        savepoint.rollback()
    migrate.downgrade(engine, "0011")
    with engine.connect() as connection:
        tables = reflect(connection)
        assert "sampling_plan" not in tables and "countersigned_by_id" not in tables["completion_record"].c
        refused(connection)
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            connection.execute(sa.text("UPDATE user_account SET role = 'quality_assurer' WHERE id = 1"))
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert {"sampling_plan", "sample_review", "review_decision", "countersign_rule"} <= set(reflect(connection))
        refused(connection)


def test_the_group_observation_migration_goes_down_and_up_again_keeping_evidence(scratch_engine):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    migrate.upgrade(engine)
    before = stored(engine, {"evidence": ["id", "narrative"]})
    with engine.connect() as connection:
        assert "group_id" in reflect(connection)["evidence"].c
    migrate.downgrade(engine, "0012")
    with engine.connect() as connection:
        tables = reflect(connection)
        assert "group_observation" not in tables and "group_id" not in tables["evidence"].c
    assert stored(engine, {"evidence": ["id", "narrative"]}) == before
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert "group_observation" in reflect(connection)
    assert stored(engine, {"evidence": ["id", "narrative"]}) == before


def test_the_carry_over_migration_goes_down_and_up_again_and_accepts_a_moved_enrolment(scratch_engine):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    migrate.upgrade(engine)
    before = stored(engine, {"enrolment": ["id", "status"], "evidence_mapping": ["id", "target"]})
    migrate.downgrade(engine, "0014")
    with engine.connect() as connection:
        tables = reflect(connection)
        assert "transferred_to_id" not in tables["enrolment"].c
        assert "carried_from_id" not in tables["evidence_mapping"].c
    migrate.upgrade(engine)
    assert stored(engine, {"enrolment": ["id", "status"], "evidence_mapping": ["id", "target"]}) == before
    with engine.begin() as connection:
        first = connection.scalar(sa.text("SELECT min(id) FROM enrolment"))
        connection.execute(sa.text("UPDATE enrolment SET status = 'transferred' WHERE id = :id"), {"id": first})
        with pytest.raises(sa.exc.IntegrityError):  # the check constraint still refuses what is not a status
            with connection.begin_nested():
                connection.execute(sa.text("UPDATE enrolment SET status = 'moved' WHERE id = :id"), {"id": first})
    with pytest.raises(RuntimeError, match="would lose where they went"):
        migrate.downgrade(engine, "0014")


def test_the_credits_migration_goes_down_and_up_again(scratch_engine):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    migrate.upgrade(engine)
    before = stored(engine, {"enrolment": ["id", "status"]})
    migrate.downgrade(engine, "0015")
    with engine.connect() as connection:
        assert "credit" not in reflect(connection)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        assert {"trainee_id", "unit", "awarded_on", "source", "withdrawn_because"} <= set(
            reflect(connection)["credit"].c.keys()
        )
    assert stored(engine, {"enrolment": ["id", "status"]}) == before
    with engine.begin() as connection:
        trainee = connection.scalar(sa.text("SELECT min(id) FROM user_account"))
        connection.execute(
            sa.text(
                "INSERT INTO credit (trainee_id, unit, unit_key, awarded_on, source, recorded_by_id, recorded_at) "
                "VALUES (:t, 'EX1', 'ex1', '2024-01-01', 'seen', :t, '2024-01-02 00:00:00')"
            ),
            {"t": trainee},
        )
    with pytest.raises(RuntimeError, match="would lose them"):
        migrate.downgrade(engine, "0015")


def test_the_logbook_migration_goes_down_and_up_again_and_keeps_logged_hours(scratch_engine):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0017")
    with engine.connect() as connection:
        assert "logbook_entry" not in reflect(connection)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        enrolment, user = (
            connection.scalar(sa.text(f"SELECT min(id) FROM {t}")) for t in ("enrolment", "user_account")
        )
        connection.execute(
            sa.text(
                "INSERT INTO logbook_entry (enrolment_id, worked_on, minutes, description, recorded_by_id, recorded_at,"
                " submission) VALUES (:e, '2026-09-01', 480, 'work', :u, '2026-09-01 00:00:00', :s)"
            ),
            {"e": enrolment, "u": user, "s": "0" * 32},
        )
    with pytest.raises(RuntimeError, match="would lose them"):
        migrate.downgrade(engine, "0017")


def test_the_credentials_migration_goes_down_and_up_again_and_keeps_issued_credentials(scratch_engine):
    engine = database_at(scratch_engine, "0001", FIRST_REVISION_ROWS)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0023")
    with engine.connect() as connection:
        assert "issued_credential" not in reflect(connection)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        record, user = (
            connection.scalar(sa.text(f"SELECT min(id) FROM {t}")) for t in ("completion_record", "user_account")
        )
        connection.execute(
            sa.text(
                "INSERT INTO issued_credential (record_id, credential_id, status_list, status_index, public_key,"
                " document, issued_by_id, issued_at) VALUES (:r, 'urn:uuid:x', 1, 7, 'z6Mk', '{}', :u,"
                " '2026-12-01 00:00:00')"
            ),
            {"r": record, "u": user},
        )
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
        connection.exec_driver_sql("UPDATE issued_credential SET status_index = 8")
    with pytest.raises(RuntimeError, match="would lose them"):
        migrate.downgrade(engine, "0023")
