"""Upgrading a database that already holds records keeps them."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from assessor import migrate
from assessor.db import make_engine
from assessor.domain.progress import Tally


def database_at(tmp_path: Path, revision: str, statements: list[str], parameters: dict[str, str] | None = None) -> sa.Engine:
    """A SQLite database migrated only as far as `revision`, holding what `statements` insert."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    config = migrate.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        for statement in statements:
            connection.execute(sa.text(statement), parameters or {})
    return engine


def test_upgrade_from_the_first_migration_keeps_accounts_and_gives_each_a_session_token(tmp_path):
    engine = database_at(tmp_path, "0001", [
        "INSERT INTO user_account (username, display_name, password_hash, role, active, created_at) "
        "VALUES ('kim', 'Kim', 'x', 'trainee', 1, '2026-01-01'), ('lee', 'Lee', 'y', 'assessor', 1, '2026-01-01')"
    ])
    migrate.upgrade(engine)
    with engine.connect() as connection:
        tokens = connection.execute(sa.text("SELECT username, session_token FROM user_account ORDER BY username")).all()
    engine.dispose()
    assert [u for u, _ in tokens] == ["kim", "lee"]
    assert all(len(t) >= 40 for _, t in tokens) and tokens[0][1] != tokens[1][1]


def test_upgrade_gives_enrolments_that_already_have_evidence_their_tally(tmp_path):
    source = (Path(__file__).parents[2] / "standards" / "us_case_mgmt.yaml").read_text()
    engine = database_at(tmp_path, "0002", [
        "INSERT INTO user_account (id, username, display_name, password_hash, role, active, created_at, session_token) VALUES "
        "(1, 'kim', 'Kim', 'x', 'trainee', 1, '2026-01-01', 'a'), (2, 'lee', 'Lee', 'y', 'assessor', 1, '2026-01-01', 'b'), (3, 'ari', 'Ari', 'z', 'trainee', 1, '2026-01-01', 'c')",
        "INSERT INTO unit_version (id, unit_id, version, title, framework, source_sha256, source_text, loaded_at) "
        "VALUES (1, 'us_case_mgmt', '1', 'Case management', 'NZQA', 'h', :source, '2026-01-01')",
        "INSERT INTO enrolment (id, trainee_id, unit_version_id, status, start_date, version) VALUES (1, 1, 1, 'active', '2026-01-05', 1), (2, 3, 1, 'active', '2026-01-05', 1)",
        "INSERT INTO evidence (id, trainee_id, method, context, observed_on, location, narrative, recorded_by_id, recorded_at, submitted_by_trainee, version) "
        "VALUES (1, 1, 'direct_observation', 'workplace', '2026-02-03', '', 'Seen.', 2, '2026-02-03', 0, 1)",
        "INSERT INTO evidence_mapping (evidence_id, enrolment_id, target_kind, target, verdict, comment, version) "
        "VALUES (1, 1, 'criterion', '1.1', 'satisfied', '', 1), (1, 1, 'criterion', '1.2', 'not_yet', '', 1)",
    ], {"source": source})
    migrate.upgrade(engine)
    with engine.connect() as connection:
        stored = dict(connection.execute(sa.text("SELECT enrolment_id, tally FROM enrolment_progress")).all())
        columns = connection.execute(sa.text("SELECT percent, outstanding, last_evidence FROM enrolment_progress WHERE enrolment_id = 1")).one()
    engine.dispose()
    with_evidence, without = Tally.from_json(json.loads(stored[1])), Tally.from_json(json.loads(stored[2]))
    assert (with_evidence.satisfied, with_evidence.last_evidence) == (1, datetime.date(2026, 2, 3))
    assert [c.satisfied for c in with_evidence.components] == [1, 0]
    assert (without.satisfied, without.total, without.last_evidence) == (0, with_evidence.total, None)
    assert (columns[0], columns[1], str(columns[2])) == (with_evidence.percent, with_evidence.total - 1, "2026-02-03")
