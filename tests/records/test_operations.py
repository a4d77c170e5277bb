"""Operations on the records, on a real database: the rules they enforce and the audit events they write."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import enrol
from assessor.domain.completion import Reason
from assessor.domain.errors import ChangedMeanwhile, InvalidInput, Locked, NotAllowed, NotReady
from assessor.domain.progress import Tally
from assessor.domain.vocabulary import Context, EnrolmentStatus, Method, Status, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, acknowledge, edit_evidence, judge, record_evidence
from assessor.models import AuditEvent, CompletionRecord, EnrolmentProgress, Evidence, EvidenceMapping
from assessor.progress.queries import progress_of
from assessor.records.operations import Declaration, revoke, sign_off
from tests.records.factories import TODAY, build_world, observation, satisfy_all


@pytest.fixture
def world(app, db):
    return build_world(db, app.extensions["catalogue"])


def stored_tally(db, enrolment_id: int) -> Tally:
    return Tally.from_json(db.get_one(EnrolmentProgress, enrolment_id).tally)


def actions(db):
    return [e.action for e in db.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq))]


def test_one_observation_maps_into_both_units(db, world):
    mappings = [
        MappingInput(world.nz_enrolment.id, "2.1", Verdict.SATISFIED, "Followed the conference protocol."),
        MappingInput(world.csc_enrolment.id, "1.3", Verdict.SATISFIED, ""),
        MappingInput(world.csc_enrolment.id, "KE16.2", Verdict.NOT_YET, "Could not explain referral criteria."),
    ]
    evidence = record_evidence(db, world.assessor, world.trainee, observation(), mappings, today=TODAY)
    assert sorted((m.enrolment_id, m.target, m.verdict) for m in evidence.mappings) == sorted(
        [
            (world.nz_enrolment.id, "2.1", Verdict.SATISFIED),
            (world.csc_enrolment.id, "1.3", Verdict.SATISFIED),
            (world.csc_enrolment.id, "KE16.2", Verdict.NOT_YET),
        ]
    )
    csc = progress_of(db, world.csc_enrolment)
    assert csc.targets["1.3"].status == Status.SATISFIED
    assert csc.targets["KE16.2"].status == Status.NOT_YET_SATISFIED
    assert progress_of(db, world.nz_enrolment).targets["2.1"].status == Status.SATISFIED
    assert actions(db)[-4:] == ["evidence.record", "mapping.add", "mapping.add", "mapping.add"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("9.9", "9.9 is not a criterion or evidence item of us_case_mgmt@1."),
        ("KE16", "KE16 is not a criterion or evidence item of cscofm023@1."),
    ],
)
def test_mapping_to_an_unknown_target_is_refused_and_changes_nothing(db, world, target, message):
    enrolment_id = (world.nz_enrolment if target == "9.9" else world.csc_enrolment).id
    db.commit()
    before = actions(db)
    with pytest.raises(InvalidInput) as caught:
        record_evidence(
            db,
            world.assessor,
            world.trainee,
            observation(),
            [MappingInput(enrolment_id, target, Verdict.SATISFIED)],
            today=TODAY,
        )
    db.rollback()  # what a request does when an operation refuses
    assert list(caught.value.problems.values()) == [message]
    assert actions(db) == before
    assert db.scalar(sa.select(sa.func.count(Evidence.id))) == 0


def test_evidence_in_the_future_or_without_narrative_is_refused(db, world):
    data = EvidenceInput(Method.QUESTIONING, Context.WORKPLACE, TODAY + datetime.timedelta(days=1), "  ")
    with pytest.raises(InvalidInput) as caught:
        record_evidence(db, world.assessor, world.trainee, data, [], today=TODAY)
    assert caught.value.problems == {
        "observed_on": "The date observed cannot be in the future.",
        "narrative": "Describe what was observed or provided.",
    }


def test_only_an_assigned_assessor_records_and_judges(db, world):
    mapping = [MappingInput(world.nz_enrolment.id, "1.1", Verdict.SATISFIED)]
    with pytest.raises(NotAllowed):
        record_evidence(db, world.other_assessor, world.trainee, observation(), mapping, today=TODAY)
    with pytest.raises(NotAllowed):
        record_evidence(db, world.coordinator, world.trainee, observation(), mapping, today=TODAY)


def test_evidence_cannot_be_mapped_to_another_trainees_enrolment(db, world):
    with pytest.raises(NotAllowed):
        record_evidence(
            db,
            world.assessor,
            world.trainee2,
            observation(),
            [MappingInput(world.nz_enrolment.id, "1.1", Verdict.SATISFIED)],
            today=TODAY,
        )


def test_trainee_submits_evidence_that_waits_for_review(db, world):
    data = EvidenceInput(Method.WORK_PRODUCT, Context.WORKPLACE, TODAY, "My case notes from the Tuesday interview.")
    evidence = record_evidence(
        db, world.trainee, world.trainee, data, [MappingInput(world.nz_enrolment.id, "1.4", None)], today=TODAY
    )
    assert evidence.submitted_by_trainee
    assert progress_of(db, world.nz_enrolment).targets["1.4"].status == Status.EVIDENCE_RECORDED
    with pytest.raises(NotAllowed):
        record_evidence(
            db,
            world.trainee,
            world.trainee,
            data,
            [MappingInput(world.nz_enrolment.id, "1.4", Verdict.SATISFIED)],
            today=TODAY,
        )


def test_sign_off_refused_with_every_reason_when_not_ready(db, world):
    record_evidence(
        db,
        world.assessor,
        world.trainee,
        observation(context=Context.OFF_THE_JOB),
        [MappingInput(world.nz_enrolment.id, "1.1", Verdict.SATISFIED)],
        today=TODAY,
    )
    with pytest.raises(NotReady) as caught:
        sign_off(db, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), TODAY)
    found = caught.value.obstacles
    assert [(o.reason, o.target) for o in found if o.reason == Reason.CONTEXT_NOT_ACCEPTED] == [
        (Reason.CONTEXT_NOT_ACCEPTED, "1.1")
    ]
    assert {o.target for o in found if o.reason == Reason.CRITERION_NOT_MET} == {
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "1.6",
        "2.1",
        "2.2",
    }
    assert db.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 0


def test_sign_off_needs_the_whole_declaration(db, world):
    satisfy_all(db, world, world.nz_enrolment)
    with pytest.raises(InvalidInput) as caught:
        sign_off(db, world.assessor, world.nz_enrolment, Declaration(True, False, True, False), TODAY)
    assert caught.value.problems == {"declaration": "Confirm that the evidence is sufficient, current."}


def test_sign_off_freezes_a_record_and_locks_the_enrolment(db, world):
    evidence = satisfy_all(db, world, world.nz_enrolment)
    assert world.nz_enrolment.status == EnrolmentStatus.READY_FOR_SIGN_OFF
    record = sign_off(db, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), TODAY)
    assert record.result == "Achieved"
    assert len(record.verification_code) >= 24
    assert world.nz_enrolment.status == EnrolmentStatus.COMPLETED
    criteria = record.snapshot["criteria"]
    assert [c["number"] for c in criteria] == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2"]
    assert all(c["evidence_ids"] == [evidence.id] for c in criteria)
    assert (
        criteria[0]["text"]
        == "Establish an appropriate environment for client interaction in terms of privacy, safety, and comfort."
    )
    assert record.snapshot["evidence"][0]["id"] == evidence.id

    with pytest.raises(Locked):
        edit_evidence(db, world.assessor, evidence, evidence.version, observation("Rewritten"), today=TODAY)
    mapping = evidence.mappings[0]
    with pytest.raises(Locked):
        judge(db, world.assessor, mapping, mapping.version, Verdict.NOT_YET)
    with pytest.raises(Locked):
        record_evidence(
            db,
            world.assessor,
            world.trainee,
            observation(),
            [MappingInput(world.nz_enrolment.id, "1.1", Verdict.SATISFIED)],
            today=TODAY,
        )
    with pytest.raises(NotReady) as caught:
        sign_off(db, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), TODAY)
    assert [o.reason for o in caught.value.obstacles] == [Reason.NOT_ACTIVE]


def test_revocation_is_recorded_and_reopens_the_enrolment(db, world):
    satisfy_all(db, world, world.nz_enrolment)
    record = sign_off(db, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), TODAY)
    with pytest.raises(NotAllowed):
        revoke(db, world.assessor, record, "Mistake")
    with pytest.raises(InvalidInput):
        revoke(db, world.coordinator, record, "  ")
    revocation = revoke(db, world.coordinator, record, "Evidence found to be copied from another trainee.")
    assert revocation.reason == "Evidence found to be copied from another trainee."
    assert record.revocation is revocation
    assert world.nz_enrolment.status == EnrolmentStatus.READY_FOR_SIGN_OFF
    assert actions(db)[-3:] == ["completion.revoke", "enrolment.reopen", "enrolment.status"]
    with pytest.raises(InvalidInput):
        revoke(db, world.coordinator, record, "Again")


def test_completion_records_and_audit_events_refuse_update_and_delete_in_the_database(app, db, world):
    satisfy_all(db, world, world.nz_enrolment)
    record = sign_off(db, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), TODAY)
    db.commit()
    for statement in [
        sa.update(CompletionRecord).where(CompletionRecord.id == record.id).values(result="Not achieved"),
        sa.delete(CompletionRecord).where(CompletionRecord.id == record.id),
        sa.update(AuditEvent).where(AuditEvent.seq == 1).values(action="tampered"),
        sa.delete(AuditEvent).where(AuditEvent.seq == 1),
    ]:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with app.extensions["database"].engine.begin() as connection:
                connection.execute(statement)
    assert db.get(CompletionRecord, record.id).result == "Achieved"


def test_stale_edit_is_refused_and_the_first_save_survives(app, world, db):
    evidence = record_evidence(db, world.assessor, world.trainee, observation("First account."), [], today=TODAY)
    db.commit()
    sessions = app.extensions["database"].sessions
    version_seen_by_both = evidence.version
    with sessions.begin() as first:
        mine = first.get(type(evidence), evidence.id)
        edit_evidence(first, world.assessor, mine, version_seen_by_both, observation("Corrected account."), today=TODAY)
    with pytest.raises(ChangedMeanwhile, match="changed by someone else meanwhile"):
        with sessions.begin() as second:
            theirs = second.get(type(evidence), evidence.id)
            edit_evidence(
                second, world.assessor, theirs, version_seen_by_both, observation("Overwriting account."), today=TODAY
            )
    with sessions() as check:
        assert check.get(type(evidence), evidence.id).narrative == "Corrected account."


def test_edit_keeps_history_in_the_audit_trail(db, world):
    evidence = record_evidence(db, world.assessor, world.trainee, observation("First account."), [], today=TODAY)
    edit_evidence(db, world.assessor, evidence, evidence.version, observation("Second account."), today=TODAY)
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "evidence.edit")).one()
    assert '"narrative":"First account."' in event.before and '"narrative":"Second account."' in event.after
    assert event.actor == "assessor"


def test_changing_where_evidence_was_gathered_reassesses_every_enrolment_it_supports(db, world):
    evidence = satisfy_all(db, world, world.nz_enrolment)
    assert world.nz_enrolment.status == EnrolmentStatus.READY_FOR_SIGN_OFF
    assert stored_tally(db, world.nz_enrolment.id).percent == 100

    off_the_job = observation(context=Context.OFF_THE_JOB, observed_on=datetime.date(2026, 10, 1))
    edit_evidence(db, world.assessor, evidence, evidence.version, off_the_job, today=TODAY)

    assert world.nz_enrolment.status == EnrolmentStatus.ACTIVE
    tally = stored_tally(db, world.nz_enrolment.id)
    assert (tally.satisfied, tally.last_evidence) == (0, datetime.date(2026, 10, 1))
    assert actions(db)[-2:] == ["evidence.edit", "enrolment.status"]


def test_judgement_with_a_stale_version_is_refused(db, world):
    evidence = record_evidence(
        db,
        world.assessor,
        world.trainee,
        observation(),
        [MappingInput(world.nz_enrolment.id, "1.1", Verdict.NOT_YET)],
        today=TODAY,
    )
    mapping = evidence.mappings[0]
    seen = mapping.version
    judge(db, world.assessor, mapping, seen, Verdict.SATISFIED, "Seen again")
    with pytest.raises(ChangedMeanwhile):
        judge(db, world.assessor, mapping, seen, Verdict.NOT_YET, "")
    assert db.get(EvidenceMapping, mapping.id).verdict == Verdict.SATISFIED


def test_trainee_acknowledges_their_own_observation_once_per_version(db, world):
    evidence = record_evidence(db, world.assessor, world.trainee, observation(), [], today=TODAY)
    with pytest.raises(NotAllowed):
        acknowledge(db, world.trainee2, evidence)
    first = acknowledge(db, world.trainee, evidence)
    assert acknowledge(db, world.trainee, evidence) is first
    edit_evidence(db, world.assessor, evidence, evidence.version, observation("Changed."), today=TODAY)
    assert acknowledge(db, world.trainee, evidence).evidence_version == evidence.version != first.evidence_version


def test_new_enrolments_in_a_deleted_unit_are_refused(db, world):
    with pytest.raises(InvalidInput) as caught:
        enrol(
            db,
            world.coordinator,
            world.trainee2,
            world.csc,
            [world.assessor],
            datetime.date(2026, 1, 5),
            world.nz_enrolment.cohort,
        )
    assert caught.value.problems["unit"].startswith("CSCOFM023 was deleted on 2021-01-24")
    # An existing enrolment that began before the deletion is still assessed.
    record_evidence(
        db,
        world.assessor,
        world.trainee,
        observation(),
        [MappingInput(world.csc_enrolment.id, "1.1", Verdict.SATISFIED)],
        today=TODAY,
    )
    assert progress_of(db, world.csc_enrolment).targets["1.1"].status == Status.SATISFIED


def test_two_sessions_saving_the_same_evidence_at_once_one_is_refused(app, world, db):
    """Both read version N; both save at the same moment; exactly one save lands and nothing is overwritten."""
    import threading

    evidence = record_evidence(db, world.assessor, world.trainee, observation("Original."), [], today=TODAY)
    db.commit()
    seen = evidence.version
    sessions = app.extensions["database"].sessions
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(text: str) -> None:
        start.wait()
        try:
            with sessions.begin() as session:
                mine = session.get(Evidence, evidence.id)
                assessor = session.get(type(world.assessor), world.assessor.id)
                edit_evidence(session, assessor, mine, seen, observation(text), today=TODAY)
            outcomes[text] = "saved"
        except ChangedMeanwhile:
            outcomes[text] = "refused"

    threads = [threading.Thread(target=save, args=(text,)) for text in ("From the tablet.", "From the desktop.")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["refused", "saved"]
    winner = next(text for text, outcome in outcomes.items() if outcome == "saved")
    with sessions() as check:
        stored = check.get(Evidence, evidence.id)
        assert stored.narrative == winner and stored.version == seen + 1


@pytest.mark.parametrize(
    ("observed_on", "message"),
    [
        (datetime.date(1, 1, 1), "Check the year: the date observed cannot be before 1 January 2000."),
        (datetime.date(1999, 12, 31), "Check the year: the date observed cannot be before 1 January 2000."),
        (datetime.date(9999, 12, 31), "The date observed cannot be in the future."),
    ],
)
def test_evidence_dates_must_be_plausible(db, world, observed_on, message):
    with pytest.raises(InvalidInput) as caught:
        record_evidence(db, world.assessor, world.trainee, observation(observed_on=observed_on), [], today=TODAY)
    assert caught.value.problems == {"observed_on": message}
    evidence = record_evidence(
        db, world.assessor, world.trainee, observation(observed_on=datetime.date(2000, 1, 1)), [], today=TODAY
    )
    with pytest.raises(InvalidInput) as caught:
        edit_evidence(db, world.assessor, evidence, evidence.version, observation(observed_on=observed_on), today=TODAY)
    assert caught.value.problems == {"observed_on": message}


def test_enrolment_start_dates_must_be_plausible(db, world):
    today = datetime.date.today()
    a_year_ahead = today.replace(year=today.year + 1, day=28 if (today.month, today.day) == (2, 29) else today.day)
    cohort = world.nz_enrolment.cohort
    refused = {
        datetime.date(1, 1, 1): "Check the year: the start date cannot be before 1 January 2000.",
        datetime.date(1999, 12, 31): "Check the year: the start date cannot be before 1 January 2000.",
        a_year_ahead + datetime.timedelta(days=1): "Check the year: the start date can be no later than",
        datetime.date(9999, 12, 31): "Check the year: the start date can be no later than",
    }
    before = actions(db)
    for start, message in refused.items():
        with pytest.raises(InvalidInput) as caught:
            enrol(db, world.coordinator, world.trainee2, world.nz, [world.assessor], start, cohort)
        assert list(caught.value.problems) == ["start_date"]
        assert caught.value.problems["start_date"].startswith(message)
    assert actions(db) == before
    assert enrol(db, world.coordinator, world.trainee2, world.nz, [world.assessor], a_year_ahead, cohort)
    # An administrator's carry-over into the deleted CSCOFM023, begun in 2000, is still plausible.
    carried = enrol(db, world.admin, world.trainee2, world.csc, [world.assessor], datetime.date(2000, 1, 1), cohort)
    assert carried.start_date == datetime.date(2000, 1, 1)


@pytest.mark.parametrize(
    ("signed_on", "message"),
    [
        (datetime.date(1, 1, 1), "The date of sign-off cannot be before the enrolment started, on 1 August 2026."),
        (datetime.date(2026, 7, 31), "The date of sign-off cannot be before the enrolment started, on 1 August 2026."),
        (None, "The date of sign-off cannot be in the future."),  # tomorrow, from when the test runs
        (datetime.date(9999, 12, 31), "The date of sign-off cannot be in the future."),
    ],
)
def test_sign_off_date_must_be_between_the_start_and_today(db, world, signed_on, message):
    signed_on = signed_on or datetime.date.today() + datetime.timedelta(days=1)
    satisfy_all(db, world, world.nz_enrolment)
    with pytest.raises(InvalidInput) as caught:
        sign_off(db, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), signed_on)
    assert caught.value.problems == {"signed_on": message}
    assert world.nz_enrolment.status == EnrolmentStatus.READY_FOR_SIGN_OFF
    record = sign_off(
        db, world.assessor, world.nz_enrolment, Declaration(True, True, True, True), world.nz_enrolment.start_date
    )
    assert record.signed_on == datetime.date(2026, 8, 1)
