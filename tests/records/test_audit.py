"""The audit trail is hash-chained with the audit key: `assessor audit verify` finds an edited, deleted, inserted or
reordered event. The key itself, and the checkpoints written after each commit. (Changes to the records themselves:
test_tamper.)"""

from __future__ import annotations

import json
import multiprocessing
import stat
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor import create_app
from assessor.core import audit_keys
from assessor.core.database import Base
from assessor.domain.audit_chain import ChainedEvent, event_hash
from assessor.domain.vocabulary import Role
from assessor.models import AuditEvent
from tests.records.factories import make_user


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(AUDIT_CHECKPOINT_DIR=str(tmp_path / "checkpoints"))


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["demo", "--password", "demo password 1"])
    assert result.exit_code == 0, result.output
    return runner


def tamper(app, *statements: str) -> None:
    """Change the audit table as someone with direct database access would: triggers off first."""
    engine = app.extensions["database"].engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        for statement in statements:
            connection.exec_driver_sql(statement)
        if engine.dialect.name == "postgresql":
            # The PostgreSQL database outlives this test: put the guard back in the same transaction.
            connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")


def count(app) -> int:
    with app.extensions["database"].engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one()


def test_intact_trail_verifies(app, demo):
    result = demo.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    assert line.startswith(
        f"audit trail intact: {count(app)} events signed with the audit key, the last checkpoint at "
    )
    assert line.endswith(" records agree with it")


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (
            ["UPDATE audit_event SET after = replace(after, 'Alex Morgan', 'Someone Else') WHERE seq = 3"],
            "audit trail broken at event 3: its content does not match its hash (edited)",
        ),
        (
            ["UPDATE audit_event SET action = 'user.delete' WHERE seq = 7"],
            "audit trail broken at event 7: its content does not match its hash (edited)",
        ),
        (
            ["DELETE FROM audit_event WHERE seq = 10"],
            "audit trail broken at event 11: one or more events before it are missing",
        ),
        (
            [
                "UPDATE audit_event SET seq = -1 WHERE seq = 5",
                "UPDATE audit_event SET seq = 5 WHERE seq = 6",
                "UPDATE audit_event SET seq = 6 WHERE seq = -1",
            ],
            "audit trail broken at event 5: it does not link to the event before it (inserted, removed or reordered)",
        ),
    ],
    ids=["edited-text", "edited-action", "deleted", "reordered"],
)
def test_tampering_is_found_and_named(app, demo, statements, message):
    tamper(app, *statements)
    result = demo.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert message in result.output.splitlines()


def test_an_inserted_event_with_a_correct_hash_of_its_own_is_still_found(app, demo):
    """A careful forger chains the new event to the one before it; without the key its hash cannot be right."""
    engine = app.extensions["database"].engine
    with engine.connect() as connection:
        seventh = connection.execute(sa.select(AuditEvent).where(AuditEvent.seq == 7)).one()
    forged = ChainedEvent(
        8, seventh.occurred_at, None, "system", "user.create", "user", "999", "{}", '{"username":"ghost"}'
    )
    forged = replace(forged, prev_hash=seventh.hash, hash=event_hash(seventh.hash, forged))
    columns = ", ".join(vars(forged))
    values = ", ".join(
        "NULL" if v is None else str(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'"
        for v in vars(forged).values()
    )
    tamper(
        app,
        "UPDATE audit_event SET seq = seq + 100000 WHERE seq >= 8",
        "UPDATE audit_event SET seq = seq - 99999 WHERE seq >= 100008",
        f"INSERT INTO audit_event ({columns}) VALUES ({values})",
    )
    result = demo.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert any(
        line.startswith("audit trail broken at event 8: its hash was made without the audit key")
        for line in result.output.splitlines()
    )


# --- the key -------------------------------------------------------------------------------------------------------


def test_the_key_is_made_once_in_the_instance_folder_for_its_owner_only(tmp_path):
    made = []
    barrier = threading.Barrier(8)

    def make() -> None:  # several server processes starting at once
        barrier.wait()
        made.append(audit_keys.instance_key(tmp_path))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    path = tmp_path / "audit_key"
    assert len(set(made)) == 1 and len(made[0]) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert audit_keys.instance_key(tmp_path) == made[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit_key"]  # no half-made files left behind


def test_the_key_and_the_checkpoint_folder_come_from_the_settings(make_app, tmp_path, monkeypatch):
    app = make_app(AUDIT_KEY="ab" * 32)
    assert app.extensions["audit"].key == bytes.fromhex("ab" * 32)
    assert app.extensions["audit"].checkpoint_dir == tmp_path / "audit-checkpoints"  # as make_app sets it
    with pytest.raises(ValueError, match="AUDIT_KEY must be written in hexadecimal"):
        make_app(AUDIT_KEY="not a key")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        make_app(AUDIT_KEY="abcd")
    # From the environment, even a key of digits only (which Flask would read as a number).
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("ASSESSOR_SECRET_KEY", "x")
    monkeypatch.setenv("ASSESSOR_AUDIT_KEY", "0123" * 16)
    monkeypatch.setenv("ASSESSOR_AUDIT_CHECKPOINT_DIR", str(tmp_path / "elsewhere"))
    from_env = create_app()
    try:
        assert from_env.extensions["audit"].key == bytes.fromhex("0123" * 16)
        assert from_env.extensions["audit"].checkpoint_dir == tmp_path / "elsewhere"
    finally:
        from_env.extensions["database"].dispose()


def test_the_key_is_nowhere_in_the_database(app, demo):
    key = app.extensions["audit"].key.hex()
    with app.extensions["database"].engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                assert key not in repr(tuple(row)), table.name


# --- checkpoints ----------------------------------------------------------------------------------------------------


def checkpoint_lines(app) -> list[dict]:
    folder = Path(app.config["AUDIT_CHECKPOINT_DIR"])
    return [json.loads(line) for path in folder.glob("*.checkpoints") for line in path.read_text().splitlines()]


def test_a_checkpoint_follows_each_commit_that_added_events_and_only_those(app, db):
    sessions = app.extensions["database"].sessions
    with sessions.begin() as session:
        make_user(session, "first", Role.ADMIN)
        make_user(session, "second", Role.ADMIN)
    assert [(c["seq"], len(c["mac"])) for c in checkpoint_lines(app)] == [(2, 64)]
    with sessions.begin() as session:
        session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))  # nothing audited
    with pytest.raises(RuntimeError), sessions.begin() as session:
        make_user(session, "third", Role.ADMIN)
        raise RuntimeError("rolled back")
    with sessions.begin() as session:
        make_user(session, "fourth", Role.ADMIN)
    assert [c["seq"] for c in checkpoint_lines(app)] == [2, 3]
    assert db.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == 3)) == checkpoint_lines(app)[-1]["hash"]


def append_checkpoints(folder: str, chain: str, first: int, count: int) -> None:
    settings = audit_keys.AuditSettings(b"k" * 32, Path(folder))
    for seq in range(first, first + count):
        audit_keys.write_checkpoint(settings, chain, seq, f"{seq:064x}")


def test_checkpoints_appended_by_several_processes_at_once_stay_whole_lines(tmp_path):
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in [pool.submit(append_checkpoints, str(tmp_path), "c0ffee", n * 1000, 500) for n in range(4)]:
            done.result()
    log = audit_keys.read_checkpoints(audit_keys.AuditSettings(b"k" * 32, tmp_path), "c0ffee")
    assert (log.forged, log.unreadable) == ([], [])
    assert sorted(c.seq for c in log.checkpoints) == [n * 1000 + i for n in range(4) for i in range(500)]
