"""Someone with write access to the database, but neither the audit key nor the checkpoints, drops the append-only
triggers and changes the database behind the application's back: `assessor audit verify` names every change, and
`/verify` stops vouching for what they forged.

Each change is made through SQL on a connection of its own, as such a person would. On PostgreSQL the triggers are
disabled and enabled again inside the same transaction, so the shared test database keeps its guards."""

from __future__ import annotations

import datetime
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import enrol
from assessor.domain.audit_chain import GENESIS, ChainedEvent, event_hash
from assessor.domain.vocabulary import Context, Method, Role, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, record_evidence
from assessor.models import AuditEvent, CompletionRecord, Enrolment, EnrolmentProgress, EvidenceMapping, User
from assessor.progress.queries import tally_rows
from assessor.records.operations import Declaration, revoke, sign_off
from tests.records.factories import TODAY, build_world, make_user, observation, satisfy_all

KEY = "5e" * 32
APPEND_ONLY = ("audit_event", "completion_record", "revocation", "audit_seal")

Step = str | Callable[[sa.Connection], None]


@pytest.fixture
def checkpoints(tmp_path):
    return tmp_path / "checkpoints"


@pytest.fixture
def app(make_app, checkpoints):
    return make_app(AUDIT_KEY=KEY, AUDIT_CHECKPOINT_DIR=str(checkpoints))


@dataclass(frozen=True)
class Signed:
    """Ids of the records the tests tamper with."""

    record: int  # trainee's NZQA unit, signed off
    code: str
    revoked: int  # trainee2's NZQA unit, signed off, then revoked
    revoked_code: str
    trainee: int
    trainee2: int
    trainee3: int  # enrolled in nothing
    assessor: int
    enrolment: int  # of `record`
    open_enrolment: int  # trainee's CSCOFM023, in progress
    evidence: int  # mapped to the open enrolment
    mapping: int  # its judgement against 1.1


@pytest.fixture
def signed(app) -> Signed:
    """Records made through the operations, in several transactions (each leaves a checkpoint)."""
    sessions = app.extensions["database"].sessions
    with sessions.begin() as session:
        w = build_world(session, app.extensions["catalogue"])
        trainee3 = make_user(session, "trainee3", Role.TRAINEE)
        satisfy_all(session, w, w.nz_enrolment)
        record = sign_off(session, w.assessor, w.nz_enrolment, Declaration(True, True, True, True), TODAY)
        ids = {"record": record.id, "code": record.verification_code, "enrolment": w.nz_enrolment.id}
        ids |= {"trainee": w.trainee.id, "trainee2": w.trainee2.id, "trainee3": trainee3.id}
        ids |= {"assessor": w.assessor.id, "open_enrolment": w.csc_enrolment.id}
    with sessions.begin() as session:
        assessor, trainee2 = session.get_one(User, ids["assessor"]), session.get_one(User, ids["trainee2"])
        nz = session.get_one(Enrolment, ids["enrolment"])
        other = enrol(
            session, nz.cohort.coordinators[0], trainee2, nz.unit_version, [assessor], nz.start_date, nz.cohort
        )
        satisfy_all(session, SimpleNamespace(assessor=assessor), other)
        second = sign_off(session, assessor, other, Declaration(True, True, True, True), TODAY)
        ids |= {"revoked": second.id, "revoked_code": second.verification_code}
    with sessions.begin() as session:
        second = session.get_one(CompletionRecord, ids["revoked"])
        revoke(session, second.enrolment.cohort.coordinators[0], second, "Signed off against the wrong version.")
    with sessions.begin() as session:
        assessor, trainee = session.get_one(User, ids["assessor"]), session.get_one(User, ids["trainee"])
        mappings = [MappingInput(ids["open_enrolment"], "1.1", Verdict.SATISFIED, "Clear.")]
        evidence = record_evidence(
            session, assessor, trainee, observation("Interviewed a client about housing."), mappings, today=TODAY
        )
        ids |= {"evidence": evidence.id, "mapping": evidence.mappings[0].id}
    for n in range(3):
        with sessions.begin() as session:
            assessor, trainee = session.get_one(User, ids["assessor"]), session.get_one(User, ids["trainee"])
            data = EvidenceInput(Method.QUESTIONING, Context.WORKPLACE, datetime.date(2026, 11, 3), f"Answered {n}.")
            mappings = [MappingInput(ids["open_enrolment"], "1.2", Verdict.NOT_YET, "Again.")]
            record_evidence(session, assessor, trainee, data, mappings, today=TODAY)
    return Signed(**ids)


def tamper(app, *steps: Step) -> None:
    """Change the database as someone with direct access would: the append-only triggers off first."""
    engine = app.extensions["database"].engine
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        for table in APPEND_ONLY:
            if postgresql:
                connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
            else:
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        for step in steps:
            if callable(step):
                step(connection)
            else:
                connection.exec_driver_sql(step)
        # Like the application, a careful forger keeps each enrolment's tally in step with its judgements.
        connection.execute(sa.delete(EnrolmentProgress.__table__))
        if tallies := tally_rows(connection):
            connection.execute(sa.insert(EnrolmentProgress.__table__), tallies)
        if postgresql:  # the PostgreSQL database outlives this test: put the guards back in the same transaction
            for table in APPEND_ONLY:
                connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


def verify(app) -> tuple[int, list[str]]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output.splitlines()


def found(lines: list[str], start: str, end: str = "") -> bool:
    return any(line.startswith(start) and line.endswith(end) for line in lines)


def events(connection: sa.Connection) -> list[ChainedEvent]:
    rows = connection.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).mappings()
    return [ChainedEvent(**{k: v for k, v in row.items()}) for row in rows]


def last_seq(app) -> int:
    with app.extensions["database"].engine.connect() as connection:
        return connection.execute(sa.select(sa.func.max(AuditEvent.seq))).scalar_one()


def seq_of(app, action: str, entity_type: str, entity_id: int) -> int:
    """The last event of this action about this entity."""
    query = sa.select(sa.func.max(AuditEvent.seq)).where(
        AuditEvent.action == action, AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id)
    )
    with app.extensions["database"].engine.connect() as connection:
        return connection.execute(query).scalar_one()


def rechain(chain: list[ChainedEvent], renumber: bool, since: int = 0) -> Callable[[sa.Connection], None]:
    """Write `chain` in place of the trail, hashed from its `since`th event on the only way someone without the key
    can: plain SHA-256."""

    def write(connection: sa.Connection) -> None:
        connection.execute(sa.delete(AuditEvent.__table__))
        prev, rows = chain[since - 1].hash if since else GENESIS, [vars(e) for e in chain[:since]]
        for n, event in enumerate(chain[since:], start=since + 1):
            event = ChainedEvent(**{**vars(event), "seq": n if renumber else event.seq, "prev_hash": prev})
            event = ChainedEvent(**{**vars(event), "hash": event_hash(prev, event)})
            rows.append(vars(event))
            prev = event.hash
        connection.execute(sa.insert(AuditEvent.__table__), rows)

    return write


def without_event(seq: int, renumber: bool) -> Callable[[sa.Connection], None]:
    """Delete one event and recompute every hash after it (renumbering the events after it, or not)."""

    def change(connection: sa.Connection) -> None:
        chain = events(connection)
        rechain([e for e in chain if e.seq != seq], renumber, since=seq - 1)(connection)

    return change


def public(app, code: str) -> tuple[int, str]:
    response = app.test_client().get(f"/verify/{code}")
    return response.status_code, response.get_data(as_text=True)


def assert_unconfirmed(app, code: str, *hidden: str) -> None:
    """/verify no longer says Genuine, says why, and shows no name."""
    status, page = public(app, code)
    assert status == 409, page
    assert "Genuine" not in page and "Cannot be confirmed." in page
    for text in ("Trainee", *hidden):
        assert text not in page


# --- nothing changed -----------------------------------------------------------------------------------------------


def test_an_untampered_trail_verifies_and_vouches_for_its_records(app, signed):
    status, lines = verify(app)
    assert status == 0, lines
    assert found(lines, f"audit trail intact: {last_seq(app)} events signed with the audit key")
    status, page = public(app, signed.code)
    assert status == 200 and "Genuine." in page and "Trainee" in page
    status, page = public(app, signed.revoked_code)
    assert status == 200 and "Revoked." in page and "Genuine" not in page


# --- the trail ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 5, 20])
def test_deleting_the_last_events_is_found_against_the_checkpoints(app, signed, count):
    last = last_seq(app)
    tamper(app, f"DELETE FROM audit_event WHERE seq > {last - count}")
    status, lines = verify(app)
    assert status == 1
    missing = "the last event is missing" if count == 1 else f"the last {count} events are missing"
    assert found(
        lines, f"audit trail cut short: {missing} (a checkpoint of ", f"the trail ends at event {last - count})"
    )


@pytest.mark.parametrize("renumber", [True, False], ids=["renumbered", "gap-kept"])
def test_deleting_an_event_and_recomputing_every_later_hash_is_found(app, signed, renumber):
    deleted = seq_of(app, "evidence.record", "evidence", signed.evidence)
    tamper(app, without_event(deleted, renumber))
    status, lines = verify(app)
    assert status == 1
    if renumber:
        assert found(lines, f"audit trail broken at event {deleted}: its hash was made without the audit key")
    else:
        assert f"audit trail broken at event {deleted + 1}: one or more events before it are missing" in lines
    assert found(lines, "audit trail rewritten: event ")  # the checkpoints vouch for other hashes


def test_an_event_edited_with_its_hash_recomputed_without_the_key_is_found(app, signed):
    def edit(connection: sa.Connection) -> None:
        chain = events(connection)
        first = next(i for i, e in enumerate(chain) if e.action == "completion.sign_off")
        chain[first] = ChainedEvent(**{**vars(chain[first]), "actor": "someone"})
        rechain(chain, renumber=False, since=first)(connection)

    tamper(app, edit)
    status, lines = verify(app)
    assert status == 1
    first = seq_of(app, "completion.sign_off", "completion_record", signed.record)
    assert found(lines, f"audit trail broken at event {first}: its hash was made without the audit key")


def test_the_seal_removed_and_the_trail_passed_off_as_one_from_before_the_key_is_found(app, signed, checkpoints):
    """Keyed events cannot pass for events from before the key: without the seal, nothing vouches for them."""
    tamper(app, "DELETE FROM audit_seal", lambda connection: rechain(events(connection), renumber=False)(connection))
    status, lines = verify(app)
    assert status == 1
    assert found(lines, f"audit trail not sealed: nothing vouches for its {last_seq(app)} events with the audit key")
    assert any("the checkpoint folder holds 1 other trail(s) signed with this key" in line for line in lines)
    # Nothing more is written to it, and it cannot simply be sealed again.
    with pytest.raises(RuntimeError, match="assessor audit seal"), app.extensions["database"].sessions.begin() as s:
        make_user(s, "newcomer", Role.TRAINEE)
    sealed = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert sealed.exit_code == 1 and "holds another audit trail signed with this key" in sealed.output
    assert_unconfirmed(app, signed.code)


def test_a_forged_seal_is_found(app, signed):
    forged = "INSERT INTO audit_seal (kind, chain_id, seq, hash, sealed_at, mac) VALUES "
    forged += f"('start', 'ab', 0, '{GENESIS}', '2026-01-01T00:00:00', '{'0' * 64}')"
    tamper(app, "DELETE FROM audit_seal", forged)
    status, lines = verify(app)
    assert status == 1
    assert found(lines, "seal ", "(start, event 0) is not signed with the audit key (forged, or made with another key)")


def test_checkpoints_must_be_there_and_signed(app, signed, checkpoints):
    (log,) = checkpoints.glob("*.checkpoints")
    line = json.loads(log.read_text().splitlines()[-1])
    with log.open("a") as appending:
        appending.write(json.dumps({**line, "seq": line["seq"] + 3}) + "\n")
    status, lines = verify(app)
    assert status == 1 and found(
        lines, f"checkpoint {log}, line ", "is not signed with the audit key (forged, or another key's)"
    )
    shutil.rmtree(checkpoints)
    status, lines = verify(app)
    assert status == 1 and found(lines, "no checkpoint of this audit trail in the checkpoint folder")


# --- the records against the trail ------------------------------------------------------------------------------


def forged_record(signed: Signed, code: str, snapshot: dict[str, object]) -> dict[str, object]:
    """The columns of a completion record someone writes straight into the database, for the open enrolment."""
    return {
        "enrolment_id": signed.open_enrolment,
        "result": "Competent",
        "declared_valid": True,
        "declared_sufficient": True,
        "declared_authentic": True,
        "declared_current": True,
        "assessor_id": signed.assessor,
        "signed_on": TODAY,
        "signed_at": datetime.datetime(2026, 11, 23, 9, tzinfo=datetime.UTC),
        "snapshot": snapshot,
        "verification_code": code,
    }


def test_a_completion_record_inserted_outside_the_application_is_found(app, signed):
    forged = forged_record(signed, "forged-code-0001", {"unit": "cscofm023@1"})
    tamper(app, lambda connection: connection.execute(sa.insert(CompletionRecord.__table__).values(**forged)))
    with app.extensions["database"].engine.connect() as connection:
        record_id = connection.execute(sa.select(sa.func.max(CompletionRecord.id))).scalar_one()
    status, lines = verify(app)
    assert status == 1
    assert f"completion record {record_id}: not in the audit trail (inserted outside the application)" in lines
    assert_unconfirmed(app, "forged-code-0001")


def test_a_forged_record_with_a_forged_sign_off_event_is_found(app, signed):
    """The forger also appends the sign-off event, chained and hashed as well as they can: without the key."""
    forged = forged_record(signed, "forged-code-0002", {})

    def forge(connection: sa.Connection) -> None:
        record_id = connection.execute(
            sa.insert(CompletionRecord.__table__).values(**forged).returning(CompletionRecord.id)
        ).scalar_one()
        last = events(connection)[-1]
        after = {"enrolment": signed.open_enrolment, "result": "Competent", "snapshot": {}}
        event = ChainedEvent(
            last.seq + 1,
            last.occurred_at,
            signed.assessor,
            "assessor",
            "completion.sign_off",
            "completion_record",
            str(record_id),
            "{}",
            json.dumps(after),
            last.hash,
        )
        connection.execute(
            sa.insert(AuditEvent.__table__).values(**{**vars(event), "hash": event_hash(last.hash, event)})
        )

    tamper(app, forge)
    status, lines = verify(app)
    assert status == 1
    assert found(lines, f"audit trail broken at event {last_seq(app)}: its hash was made without the audit key")
    assert_unconfirmed(app, "forged-code-0002")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("result = 'Achieved with excellence'", "result"),
        ("signed_on = '2026-01-05'", "signed_on"),
        ('snapshot = \'{"unit": "us_case_mgmt@1"}\'', "snapshot"),
    ],
    ids=["result", "date", "snapshot"],
)
def test_an_edited_completion_record_is_found(app, signed, change, field):
    tamper(app, f"UPDATE completion_record SET {change} WHERE id = {signed.record}")
    status, lines = verify(app)
    assert status == 1
    sign_off_seq = seq_of(app, "completion.sign_off", "completion_record", signed.record)
    expected = f"completion record {signed.record}: differs from what event {sign_off_seq} recorded in {field} "
    assert f"{expected}(changed outside the application)" in lines
    assert_unconfirmed(app, signed.code)


def test_a_deleted_completion_record_is_found(app, signed):
    tamper(app, f"DELETE FROM completion_record WHERE id = {signed.record}")
    status, lines = verify(app)
    assert status == 1
    sign_off_seq = seq_of(app, "completion.sign_off", "completion_record", signed.record)
    expected = f"completion record {signed.record}: missing, but event {sign_off_seq} says it exists"
    assert f"{expected} (deleted outside the application)" in lines


def test_a_revocation_inserted_outside_the_application_is_found(app, signed):
    tamper(
        app,
        "INSERT INTO revocation (record_id, revoked_by_id, revoked_at, reason) "
        f"VALUES ({signed.record}, {signed.assessor}, '2026-11-24 09:00:00', 'Spite.')",
    )
    status, lines = verify(app)
    assert status == 1
    assert (
        f"revocation of completion record {signed.record}: not in the audit trail (inserted outside the application)"
        in lines
    )
    assert_unconfirmed(app, signed.code)


def test_a_deleted_revocation_is_found_and_the_record_is_not_current_again(app, signed):
    tamper(app, f"DELETE FROM revocation WHERE record_id = {signed.revoked}")
    status, lines = verify(app)
    assert status == 1
    revoke_seq = seq_of(app, "completion.revoke", "completion_record", signed.revoked)
    expected = f"revocation of completion record {signed.revoked}: missing, but event {revoke_seq} says it exists"
    assert f"{expected} (deleted outside the application)" in lines
    assert_unconfirmed(app, signed.revoked_code)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("narrative = 'Observed nothing of note.'", "narrative"),
        ("observed_on = '2026-10-01'", "observed_on"),
        ("context = 'off_the_job'", "context"),
    ],
)
def test_rewritten_evidence_is_found(app, signed, change, field):
    tamper(app, f"UPDATE evidence SET {change} WHERE id = {signed.evidence}")
    status, lines = verify(app)
    assert status == 1
    recorded = seq_of(app, "evidence.record", "evidence", signed.evidence)
    expected = f"evidence {signed.evidence}: differs from what event {recorded} recorded in {field}"
    assert f"{expected} (changed outside the application)" in lines


def test_a_judgement_changed_or_moved_outside_the_application_is_found(app, signed):
    tamper(app, f"UPDATE evidence_mapping SET verdict = 'not_yet', comment = '' WHERE id = {signed.mapping}")
    status, lines = verify(app)
    assert status == 1
    assert found(
        lines,
        f"judgement {signed.mapping}: differs from what event ",
        "recorded in comment, verdict (changed outside the application)",
    )


def test_an_attachment_swapped_outside_the_application_is_found(app, signed):
    """Evidence's attachments are part of its state: one slipped in is found on the evidence and on its own."""
    tamper(
        app,
        "INSERT INTO attachment (evidence_id, original_name, size, content_type, sha256, stored_name, uploaded_by_id,"
        f" uploaded_at) VALUES ({signed.evidence}, 'notes.pdf', 10, 'application/pdf', '{'ab' * 32}', 'x1',"
        f" {signed.assessor}, '2026-11-24 09:00:00')",
    )
    status, lines = verify(app)
    assert status == 1
    assert found(
        lines,
        f"evidence {signed.evidence}: differs from what event ",
        "recorded in attachments (changed outside the application)",
    )
    assert found(lines, "attachment ", ": not in the audit trail (inserted outside the application)")


def test_a_record_moved_to_another_trainee_or_a_trainee_renamed_is_not_vouched_for(app, signed):
    tamper(app, f"UPDATE enrolment SET trainee_id = {signed.trainee3} WHERE id = {signed.enrolment}")
    status, lines = verify(app)
    assert status == 1
    assert found(
        lines,
        f"enrolment {signed.enrolment}: differs from what event ",
        "recorded in trainee (changed outside the application)",
    )
    assert_unconfirmed(app, signed.code, "Trainee3")
    tamper(
        app,
        f"UPDATE enrolment SET trainee_id = {signed.trainee} WHERE id = {signed.enrolment}",
        f"UPDATE user_account SET display_name = 'Someone Else' WHERE id = {signed.trainee}",
    )
    status, lines = verify(app)
    assert status == 1
    assert found(
        lines,
        f"account {signed.trainee}: differs from what event ",
        "recorded in display_name (changed outside the application)",
    )
    assert_unconfirmed(app, signed.code, "Someone Else")


def test_a_unit_title_changed_outside_the_application_is_found(app, signed):
    with app.extensions["database"].engine.connect() as connection:
        unit_version = connection.execute(
            sa.select(Enrolment.unit_version_id).where(Enrolment.id == signed.enrolment)
        ).scalar_one()
    tamper(app, f"UPDATE unit_version SET title = 'Advanced everything' WHERE id = {unit_version}")
    status, lines = verify(app)
    assert status == 1
    assert found(
        lines,
        f"unit version {unit_version}: differs from what event ",
        "recorded in title (changed outside the application)",
    )
    status, page = public(app, signed.code)  # /verify shows the unit's own words, which the sign-off vouches for
    assert status == 200 and "Genuine." in page and "Advanced everything" not in page


def test_a_judgement_deleted_outside_the_application_is_found(app, signed):
    tamper(app, f"DELETE FROM evidence_mapping WHERE id = {signed.mapping}")
    status, lines = verify(app)
    assert status == 1
    assert found(
        lines, f"judgement {signed.mapping}: missing, but event ", "says it exists (deleted outside the application)"
    )


# --- a database from before the audit key ------------------------------------------------------------------------


def as_before_the_key(app, checkpoints) -> None:
    """Make the database what an older version of the application left: the same records, an unkeyed trail, no
    seals, no checkpoints."""
    tamper(app, "DELETE FROM audit_seal", lambda connection: rechain(events(connection), renumber=False)(connection))
    shutil.rmtree(checkpoints)


def test_a_trail_from_before_the_key_is_sealed_once_and_keyed_from_then_on(app, signed, checkpoints):
    as_before_the_key(app, checkpoints)
    before = last_seq(app)
    status, lines = verify(app)
    assert status == 1 and found(lines, f"audit trail not sealed: nothing vouches for its {before} events")
    with pytest.raises(RuntimeError, match="assessor audit seal"), app.extensions["database"].sessions.begin() as s:
        make_user(s, "newcomer", Role.TRAINEE)

    sealed = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert sealed.exit_code == 0, sealed.output
    assert f"audit trail sealed: its {before} events check out" in sealed.output
    again = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert again.exit_code == 0 and "sealed already" in again.output
    status, lines = verify(app)
    assert status == 0, lines
    # Records signed off before the key are still vouched for, each by its own seal.
    status, page = public(app, signed.code)
    assert status == 200 and "Genuine." in page
    status, page = public(app, signed.revoked_code)
    assert status == 200 and "Revoked." in page

    with app.extensions["database"].sessions.begin() as session:
        make_user(session, "newcomer", Role.TRAINEE)
    status, lines = verify(app)
    assert status == 0, lines
    assert found(
        lines,
        f"audit trail intact: {before + 1} events, sealed at event {before} and signed with the audit key after it",
    )

    # Keyed events passed off as unkeyed ones: the seal says where the key begins.
    tamper(app, lambda connection: rechain(events(connection), renumber=False)(connection))
    status, lines = verify(app)
    assert status == 1
    assert found(lines, f"audit trail broken at event {before + 1}: its hash was made without the audit key")


def test_events_from_before_the_key_cannot_be_rewritten_after_sealing(app, signed, checkpoints):
    as_before_the_key(app, checkpoints)
    assert app.test_cli_runner().invoke(args=["audit", "seal"]).exit_code == 0
    sign_off_seq = seq_of(app, "completion.sign_off", "completion_record", signed.record)

    def rewrite(connection: sa.Connection) -> None:
        chain = events(connection)
        after = json.loads(chain[sign_off_seq - 1].after)
        chain[sign_off_seq - 1] = ChainedEvent(
            **{**vars(chain[sign_off_seq - 1]), "after": json.dumps({**after, "result": "Merit"})}
        )
        rechain(chain, renumber=False)(connection)

    tamper(app, rewrite, f"UPDATE completion_record SET result = 'Merit' WHERE id = {signed.record}")
    status, lines = verify(app)
    assert status == 1
    assert found(lines, "audit trail rewritten: event ")
    assert_unconfirmed(app, signed.code)


def test_sealing_refuses_a_broken_trail(app, signed, checkpoints):
    as_before_the_key(app, checkpoints)
    tamper(app, "DELETE FROM audit_event WHERE seq = 4")
    sealed = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert sealed.exit_code == 1
    assert "not sealed: audit trail broken at event 5: one or more events before it are missing" in sealed.output


def test_a_new_database_seals_itself_with_its_first_event(app, checkpoints):
    status, lines = verify(app)
    assert status == 0 and lines == ["audit trail intact: 0 events; 0 records agree with it"]
    sealed = app.test_cli_runner().invoke(args=["audit", "seal"])  # nothing to check: sealing it early is harmless
    assert sealed.exit_code == 0 and "audit trail sealed: it is empty" in sealed.output
    with app.extensions["database"].sessions.begin() as session:
        make_user(session, "first", Role.ADMIN)
    status, lines = verify(app)
    assert status == 0
    assert found(lines, "audit trail intact: 1 event signed with the audit key, the last checkpoint at event 1 (")
    assert len(list(checkpoints.glob("*.checkpoints"))) == 1


def test_the_mapping_row_must_name_the_same_evidence(app, signed):
    """A judgement moved to other evidence of the same trainee is a changed judgement."""
    with app.extensions["database"].sessions.begin() as session:
        assessor, trainee = session.get_one(User, signed.assessor), session.get_one(User, signed.trainee)
        other = record_evidence(session, assessor, trainee, observation("Another observation."), [], today=TODAY)
        other_id = other.id
    tamper(app, f"UPDATE evidence_mapping SET evidence_id = {other_id} WHERE id = {signed.mapping}")
    status, lines = verify(app)
    assert status == 1
    assert found(
        lines,
        f"judgement {signed.mapping}: differs from what event ",
        "recorded in evidence (changed outside the application)",
    )
    with app.extensions["database"].engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(EvidenceMapping.evidence_id).where(EvidenceMapping.id == signed.mapping)
            ).scalar_one()
            == other_id
        )


def test_assessor_init_seals_a_trail_from_before_the_key_so_that_an_upgrade_can_go_on_writing(app, signed, checkpoints):
    as_before_the_key(app, checkpoints)
    before = last_seq(app)
    init = app.test_cli_runner().invoke(args=["init"])
    assert init.exit_code == 0, init.output
    assert f"audit trail sealed: its {before} events check out" in init.output
    with app.extensions["database"].sessions.begin() as session:
        make_user(session, "newcomer", Role.TRAINEE)
    status, lines = verify(app)
    assert status == 0, lines
    again = app.test_cli_runner().invoke(args=["init"])
    assert again.exit_code == 0 and "sealed" not in again.output  # nothing to seal: said nothing
