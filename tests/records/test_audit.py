"""The audit trail is hash-chained: `assessor audit verify` finds an edited, deleted, inserted or reordered event."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from assessor.domain.audit_chain import ChainedEvent, event_hash
from assessor.models import AuditEvent


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
    assert result.exit_code == 0
    assert result.output == f"audit trail intact: {count(app)} events\n"


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
    assert result.output.strip() == message


def test_an_inserted_event_with_a_correct_hash_of_its_own_is_still_found(app, demo):
    """A careful forger chains the new event to the one before it; the event after it no longer links."""
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
    assert (
        result.output.strip()
        == "audit trail broken at event 9: it does not link to the event before it (inserted, removed or reordered)"
    )
