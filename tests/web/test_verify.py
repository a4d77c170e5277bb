"""The public check of a verification code says "Genuine" only for a record the audit trail vouches for with the audit
key, and shows nothing of a record it cannot confirm."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor.domain.audit_chain import ChainedEvent, event_hash
from assessor.models import AuditEvent, CompletionRecord
from tests.records.test_tamper import tamper
from tests.web.conftest import csrf_token, sign_in

# The page's own reads: the record, its revocation, its enrolment, the trainee and the unit version.
STATEMENTS_BEFORE_THE_AUDIT_KEY = 5


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(AUDIT_CHECKPOINT_DIR=str(tmp_path / "checkpoints"))


def check(app, code: str) -> tuple[int, str]:
    response = app.test_client().get(f"/verify/{code}")
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_data(as_text=True)


def assert_unconfirmed(app, code: str) -> None:
    status, page = check(app, code)
    assert status == 409
    assert "Cannot be confirmed." in page and "Genuine" not in page and "Revoked" not in page
    assert "Trainee" not in page and "Competent" not in page


def test_a_genuine_record_shows_its_facts_and_nothing_else(app, world):
    status, page = check(app, world.code)
    assert status == 200 and "Genuine." in page
    assert "Trainee</dt><dd>Trainee</dd>" in page  # the factories name the trainee after their username
    assert "Build and maintain effective and respectful relationships in case management" in page
    assert "Observed the trainee" not in page


def test_an_unknown_code_is_not_found(app, world):
    status, page = check(app, "no-such-code")
    assert status == 404 and "Not found." in page


def test_the_check_reads_one_statement_more_than_before_the_audit_key(app, world):
    engine = app.extensions["database"].engine
    seen: list[str] = []

    def count(_connection, _cursor, statement, *_args) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's transactions begin with a statement of their own
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        status, _page = check(app, world.code)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert status == 200
    assert len(seen) == STATEMENTS_BEFORE_THE_AUDIT_KEY + 1, seen


def test_a_revocation_through_the_application_shows_and_leaves_a_checkpoint(app, world):
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    url = f"/records/{world.record}"
    response = coordinator.post(
        f"{url}/revoke", data={"csrf_token": csrf_token(coordinator, url), "reason": "Wrong unit version."}
    )
    assert response.status_code == 302
    status, page = check(app, world.code)
    assert status == 200 and "Revoked." in page and "Genuine" not in page
    (log,) = Path(app.config["AUDIT_CHECKPOINT_DIR"]).glob("*.checkpoints")
    with app.extensions["database"].engine.connect() as connection:
        last = connection.execute(sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc())).first()
    checkpoint = json.loads(log.read_text().splitlines()[-1])
    assert (checkpoint["seq"], checkpoint["hash"]) == tuple(last)


FORGED = {
    "result": "Competent",
    "declared_valid": True,
    "declared_sufficient": True,
    "declared_authentic": True,
    "declared_current": True,
    "signed_on": datetime.date(2026, 11, 23),
    "signed_at": datetime.datetime(2026, 11, 23, 9, tzinfo=datetime.UTC),
    "snapshot": {"unit": "cscofm023@1"},
}


def test_a_record_inserted_outside_the_application_cannot_be_confirmed(app, world):
    with app.extensions["database"].engine.connect() as connection:
        assessor = connection.execute(
            sa.select(CompletionRecord.assessor_id).where(CompletionRecord.id == world.record)
        ).scalar_one()
    values = {**FORGED, "enrolment_id": world.open_enrolment, "assessor_id": assessor, "verification_code": "forged-1"}
    tamper(app, lambda connection: connection.execute(sa.insert(CompletionRecord.__table__).values(**values)))
    assert_unconfirmed(app, "forged-1")


def test_a_record_with_a_forged_sign_off_event_cannot_be_confirmed(app, world):
    """The forger copies the genuine record's sign-off event for their record, chained and hashed without the key."""
    with app.extensions["database"].engine.connect() as connection:
        genuine = connection.execute(sa.select(CompletionRecord).where(CompletionRecord.id == world.record)).one()
    values = {
        **FORGED,
        "enrolment_id": world.open_enrolment,
        "assessor_id": genuine.assessor_id,
        "snapshot": genuine.snapshot,
        "verification_code": "forged-2",
    }

    def forge(connection: sa.Connection) -> None:
        record_id = connection.execute(
            sa.insert(CompletionRecord.__table__).values(**values).returning(CompletionRecord.id)
        ).scalar_one()
        rows = connection.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).mappings().all()
        sign_off = next(r for r in rows if r["action"] == "completion.sign_off" and r["entity_id"] == str(world.record))
        after = {**json.loads(sign_off["after"]), "enrolment": world.open_enrolment, "signed_on": "2026-11-23"}
        prev, seq = rows[-1]["hash"], rows[-1]["seq"]
        for action, entity_type, entity_id, state in (
            ("completion.sign_off", "completion_record", record_id, after),
            ("enrolment.complete", "enrolment", world.open_enrolment, {"trainee": world.trainee_id}),
        ):
            seq += 1
            event = ChainedEvent(
                seq,
                rows[-1]["occurred_at"],
                None,
                "system",
                action,
                entity_type,
                str(entity_id),
                "{}",
                json.dumps(state),
            )
            made = {**vars(event), "prev_hash": prev, "hash": event_hash(prev, event)}
            connection.execute(sa.insert(AuditEvent.__table__).values(**made))
            prev = made["hash"]

    tamper(app, forge)
    assert_unconfirmed(app, "forged-2")


@pytest.mark.parametrize(
    "statements",
    [
        ["UPDATE completion_record SET result = 'Competent with merit' WHERE id = {record}"],
        ["UPDATE completion_record SET enrolment_id = {open_enrolment} WHERE id = {record}"],
        ["UPDATE user_account SET display_name = 'Someone Else' WHERE id = {trainee_id}"],
        [
            # trainee2's own enrolment in the unit moved aside, then the signed-off one given to trainee2
            "UPDATE enrolment SET unit_version_id = (SELECT unit_version_id FROM enrolment WHERE id = {open_enrolment})"
            " WHERE id = {other_enrolment}",
            "UPDATE enrolment SET trainee_id = {trainee2_id} WHERE id = {completed_enrolment}",
        ],
    ],
    ids=["result", "other-enrolment", "trainee-renamed", "other-trainee"],
)
def test_a_record_changed_outside_the_application_cannot_be_confirmed(app, world, statements):
    tamper(app, *(s.format(**vars(world)) for s in statements))
    assert_unconfirmed(app, world.code)
    assert "Someone Else" not in check(app, world.code)[1]


def test_a_revocation_deleted_outside_the_application_does_not_make_the_record_current_again(app, world):
    coordinator = app.test_client()
    sign_in(coordinator, "coordinator")
    url = f"/records/{world.record}"
    coordinator.post(f"{url}/revoke", data={"csrf_token": csrf_token(coordinator, url), "reason": "Wrong version."})
    tamper(app, f"DELETE FROM revocation WHERE record_id = {world.record}")
    assert_unconfirmed(app, world.code)


def test_a_revocation_inserted_outside_the_application_cannot_be_confirmed_either(app, world):
    tamper(
        app,
        "INSERT INTO revocation (record_id, revoked_by_id, revoked_at, reason) "
        f"VALUES ({world.record}, {world.trainee_id}, '2026-11-24 09:00:00', 'Forged.')",
    )
    assert_unconfirmed(app, world.code)
