"""Retention: `assessor retention plan` says what is due and why, `apply` erases the narrative and attachments of what
is due and under no hold, a privacy request erases what is past the legal minimum; completion records and the evidence
summary stay, and the audit trail still verifies, and still catches tampering, after content is erased."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor.core import audit_verify
from assessor.domain.vocabulary import Context, Method, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, edit_evidence, record_evidence
from assessor.models import AuditEvent, CompletionRecord, Evidence
from assessor.models.retention import LegalHold
from assessor.records.operations import Declaration, sign_off
from assessor.standards.queries import targets_of
from tests.records.factories import TODAY, build_world, observation
from tests.web.conftest import sign_in, stored_attachment

SECRET = "Met Mere Tāne at her flat on Karangahape Road about her rent arrears."
EDITED = SECRET + " Followed up by phone."
OPEN_NARRATIVE = "Interviewed a client about housing."
SIGNED_ON = datetime.date(2021, 2, 1)  # CSCOFM023 (training.gov.au: 6 months): due on 1 August 2021


@dataclass(frozen=True)
class Past:
    old: int  # evidence supporting a CSCOFM023 record signed off in 2021, with an attachment
    current: int  # evidence for the trainee's open NZQA enrolment
    record: int
    code: str
    stored_name: str
    trainee: str


@pytest.fixture
def past(app) -> Past:
    sessions = app.extensions["database"].sessions
    upload_dir = Path(app.config["UPLOAD_DIR"])
    with sessions.begin() as session:
        w = build_world(session, app.extensions["catalogue"])
        csc = w.csc_enrolment
        mappings = [MappingInput(csc.id, t, Verdict.SATISFIED, "") for t in targets_of(csc.unit_version)]
        data = EvidenceInput(Method.DIRECT_OBSERVATION, Context.WORKPLACE, datetime.date(2021, 1, 15), SECRET, "Office")
        attachment = stored_attachment(upload_dir, "case notes.pdf")
        old = record_evidence(session, w.assessor, w.trainee, data, mappings, [attachment], today=TODAY)
        edited = EvidenceInput(data.method, data.context, data.observed_on, EDITED, data.location)
        edit_evidence(session, w.assessor, old, old.version, edited, today=TODAY)
        record = sign_off(session, w.assessor, csc, Declaration(True, True, True, True), SIGNED_ON)
        nz = [MappingInput(w.nz_enrolment.id, "1.1", Verdict.SATISFIED, "Clear.")]
        current = record_evidence(session, w.assessor, w.trainee, observation(OPEN_NARRATIVE), nz, today=TODAY)
        return Past(old.id, current.id, record.id, record.verification_code, attachment.stored_name, "trainee")


def run(app, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def verified(app) -> audit_verify.Report:
    with app.extensions["database"].read_sessions() as session:
        return audit_verify.verify(session)


def trail_text(app) -> str:
    with app.extensions["database"].engine.connect() as connection:
        return "\n".join(f"{b}\n{a}" for b, a in connection.execute(sa.select(AuditEvent.before, AuditEvent.after)))


def test_the_plan_says_what_is_due_and_why_and_changes_nothing(app, past):
    code, output = run(app, "retention", "plan")
    assert code == 0, output
    assert "rule training.gov.au: 6 months after the result (ASQA: completed assessment items" in output
    assert (
        f"due: evidence {past.old} of trainee (narrative, 1 attachment) since 2021-08-01: training.gov.au: 6 months "
        "after the result on 2021-02-01 (the organisation's period" in output
    )
    assert "1 due for erasure, 0 held, 1 kept" in output
    # A day before it falls due, nothing is.
    assert "0 due for erasure, 0 held, 2 kept" in run(app, "retention", "plan", "--on", "2021-07-31")[1]
    with app.extensions["database"].sessions() as session:
        assert session.get_one(Evidence, past.old).narrative == EDITED


def test_apply_erases_the_content_keeps_the_summary_and_the_trail_still_verifies(app, past):
    client = app.test_client()
    before = verified(app)
    assert before.intact, before.problems
    code, output = run(app, "retention", "apply")
    assert code == 0, output
    assert f"erased: evidence {past.old}: retention: training.gov.au: 6 months after the result on 2021-02-01" in output
    assert "erased the content of 1 piece(s) of evidence" in output

    with app.extensions["database"].sessions() as session:
        old = session.get_one(Evidence, past.old)
        assert (old.narrative, old.erased_on) == ("", datetime.date.today())
        assert old.erased_because.startswith("retention: training.gov.au: 6 months")
        (attachment,) = old.attachments
        assert (attachment.original_name, attachment.erased_on) == ("case notes.pdf", datetime.date.today())
        assert [m.verdict for m in old.mappings] == [Verdict.SATISFIED] * len(old.mappings)
        assert session.get_one(Evidence, past.current).narrative == OPEN_NARRATIVE
        record = session.get_one(CompletionRecord, past.record)
        assert record.snapshot["evidence"][0]["attachments"] == [
            {"name": "case notes.pdf", "sha256": attachment.sha256}
        ]
    assert not (Path(app.config["UPLOAD_DIR"]) / past.stored_name).exists()

    # The trail holds neither text any more, only their SHA-256s; one erasure event vouches for the three it rewrote.
    text = trail_text(app)
    assert "Karangahape" not in text and OPEN_NARRATIVE in text
    with app.extensions["database"].engine.connect() as connection:
        (erasure,) = connection.execute(sa.select(AuditEvent).where(AuditEvent.action == "evidence.erase")).all()
    assert len(json.loads(erasure.after)["events"]) == 2  # evidence.record, evidence.edit
    after = verified(app)
    assert after.intact, after.problems
    assert after.events == before.events + 1

    # The record is still genuine; the evidence page says what went and why; the file is gone, in words.
    page = client.get(f"/verify/{past.code}").get_data(as_text=True)
    assert "Genuine" in page
    assert sign_in(client, "assessor").status_code == 302
    shown = client.get(f"/evidence/{past.old}").get_data(as_text=True)
    assert "The narrative and attachments were erased on" in shown and "Karangahape" not in shown
    assert f"/attachments/{attachment.id}" not in shown
    gone = client.get(f"/attachments/{attachment.id}")
    assert gone.status_code == 410 and "This file was erased on" in gone.get_data(as_text=True)
    assert client.get(f"/evidence/{past.old}/edit").status_code == 404

    # Again: nothing more is due.
    code, output = run(app, "retention", "apply")
    assert code == 0 and "erased the content of 0 piece(s)" in output


def test_a_legal_hold_keeps_the_evidence_until_it_is_released(app, past):
    code, output = run(
        app, "retention", "hold", "--trainee", "trainee", "--reason", "Tribunal case 2026/114", "--by", "admin"
    )
    assert (code, output.strip()) == (0, "hold 1 placed on trainee trainee")
    assert "hold 1 on trainee trainee, placed" in run(app, "retention", "holds")[1]
    planned = run(app, "retention", "plan")[1]
    assert (
        f"held: evidence {past.old} of trainee (narrative, 1 attachment) was due on 2021-08-01, kept by hold 1: "
        in planned
    )
    assert "0 due for erasure, 1 held, 1 kept" in planned
    assert "erased the content of 0" in run(app, "retention", "apply")[1]

    code, output = run(app, "retention", "release", "1", "--reason", "Case closed", "--by", "admin")
    assert (code, output.strip()) == (0, "hold 1 released")
    assert "no legal holds in force" in run(app, "retention", "holds")[1]
    assert "erased the content of 1" in run(app, "retention", "apply")[1]
    with app.extensions["database"].engine.connect() as connection:
        actions = connection.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "legal_hold")).all()
    assert actions == ["hold.place", "hold.release"]
    assert verified(app).intact


def test_a_hold_on_the_cohort_keeps_the_evidence_of_its_enrolments(app, past):
    assert (
        run(app, "retention", "hold", "--cohort", "Intake A", "--reason", "Audit by the regulator", "--by", "admin")[0]
        == 0
    )
    assert "0 due for erasure, 1 held" in run(app, "retention", "plan")[1]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["hold", "--trainee", "trainee", "--reason", "x", "--by", "assessor"],
            "assessor is not an active administrator",
        ),
        (["hold", "--trainee", "nobody", "--reason", "x", "--by", "admin"], "nobody is not a trainee's username"),
        (["hold", "--trainee", "assessor", "--reason", "x", "--by", "admin"], "assessor is not a trainee's username"),
        (["hold", "--cohort", "Intake Z", "--reason", "x", "--by", "admin"], "there is no cohort named Intake Z"),
        (["hold", "--reason", "x", "--by", "admin"], "Name either a trainee or a cohort."),
        (["hold", "--trainee", "trainee", "--cohort", "Intake A", "--reason", "x", "--by", "admin"], "Name either"),
        (["hold", "--trainee", "trainee", "--reason", "  ", "--by", "admin"], "Say why."),
        (["hold", "--trainee", "trainee", "--reason", "x" * 2001, "--by", "admin"], "Use at most 2,000 characters"),
        (["release", "7", "--reason", "x", "--by", "admin"], "there is no hold 7"),
        (["erase", "--trainee", "trainee", "--request", " ", "--by", "admin"], "--request: Say why."),
        (
            ["erase", "--trainee", "trainee", "--request", "Email of 1 Dec", "--by", "coordinator"],
            "not an active admin",
        ),
    ],
)
def test_wrong_retention_commands_say_why_and_change_nothing(app, past, args, said):
    before = trail_text(app)
    code, output = run(app, "retention", *args)
    assert code != 0 and said in output
    assert trail_text(app) == before
    with app.extensions["database"].sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LegalHold)) == 0
        assert session.get_one(Evidence, past.old).erased_on is None


def test_a_hold_released_twice_is_refused(app, past):
    run(app, "retention", "hold", "--trainee", "trainee", "--reason", "Tribunal", "--by", "admin")
    assert run(app, "retention", "release", "1", "--reason", "Done", "--by", "admin")[0] == 0
    code, output = run(app, "retention", "release", "1", "--reason", "Done", "--by", "admin")
    assert code != 0 and "Hold 1 was released already." in output


@pytest.mark.parametrize(
    ("months", "said"),
    [
        ({"training.gov.au": 3}, "training.gov.au: 3 months is shorter than the minimum"),
        ({"ASQA": 12}, "'ASQA' is not a framework"),
        ("twelve", "ASSESSOR_RETENTION_MONTHS"),
    ],
)
def test_a_retention_setting_against_the_law_is_refused_before_anything_is_erased(make_app, past, app, months, said):
    strict = make_app(RETENTION_MONTHS=months)
    for command in ("plan", "apply"):
        code, output = run(strict, "retention", command)
        assert code != 0 and said in output
    with app.extensions["database"].sessions() as session:
        assert session.get_one(Evidence, past.old).erased_on is None


def test_a_privacy_request_erases_what_the_law_no_longer_requires_and_says_what_it_keeps(make_app, past, app):
    keeps_longer = make_app(RETENTION_MONTHS={"training.gov.au": 120})
    assert "0 due for erasure" in run(keeps_longer, "retention", "plan")[1]  # the organisation keeps it ten years
    assert "1 due for erasure" in run(keeps_longer, "retention", "plan", "--privacy", "--trainee", "trainee")[1]
    code, output = run(
        keeps_longer,
        "retention",
        "erase",
        "--trainee",
        "trainee",
        "--request",
        "Email of 1 Dec 2026, ref P-17",
        "--by",
        "admin",
    )
    assert code == 0, output
    assert f"kept: evidence {past.current} of trainee (narrative) kept while enrolment" in output
    assert (
        f"erased: evidence {past.old}: privacy request: Email of 1 Dec 2026, ref P-17; training.gov.au: 6 months"
        in output
    )
    with app.extensions["database"].engine.connect() as connection:
        (actor,) = connection.scalars(sa.select(AuditEvent.actor).where(AuditEvent.action == "evidence.erase")).all()
    assert actor == "admin"
    assert verified(app).intact


def test_content_changed_outside_the_app_is_not_laundered_by_an_erasure(app, past):
    """An event that no longer matches its hash is not rewritten: the erasure stops, saying why, and changes
    nothing."""
    with app.extensions["database"].engine.begin() as connection:  # the trigger lets before/after change...
        seq = connection.scalar(
            sa.select(AuditEvent.seq).where(AuditEvent.action == "evidence.edit", AuditEvent.entity_id == str(past.old))
        )
        text = connection.scalar(sa.select(AuditEvent.after).where(AuditEvent.seq == seq))
        connection.execute(
            sa.update(AuditEvent).where(AuditEvent.seq == seq).values(after=text.replace("by phone", "by letter"))
        )
    code, output = run(app, "retention", "apply")
    assert code == 1 and f"audit event {seq} does not match its hash, so its content is not erased" in output
    with app.extensions["database"].sessions() as session:
        assert session.get_one(Evidence, past.old).erased_on is None
    assert (Path(app.config["UPLOAD_DIR"]) / past.stored_name).exists()
    assert "its content does not match its hash" in " ".join(verified(app).problems)  # ...but verify catches it


def test_after_an_erasure_every_change_outside_the_app_is_still_caught(app, past):
    assert run(app, "retention", "apply")[0] == 0
    engine = app.extensions["database"].engine
    with engine.connect() as connection:
        rows = connection.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
    erasure = next(r for r in rows if r.action == "evidence.erase")
    rewritten = json.loads(erasure.after)["events"][0]["seq"]
    rewritten_after = next(r.after for r in rows if r.seq == rewritten)
    other = next(r for r in rows if r.action == "evidence.record" and r.entity_id == str(past.current))

    def changed(seq: int, after: str) -> list[str]:
        original = next(r.after for r in rows if r.seq == seq)
        with engine.begin() as connection:
            connection.execute(sa.update(AuditEvent).where(AuditEvent.seq == seq).values(after=after))
        try:
            return verified(app).problems
        finally:
            with engine.begin() as connection:
                connection.execute(sa.update(AuditEvent).where(AuditEvent.seq == seq).values(after=original))

    # The erased text put back, or something else in its place.
    assert (
        f"audit trail broken at event {rewritten}"
        in changed(rewritten, rewritten_after.replace('{"erased"', '{"x"'))[0]
    )
    # Another event's content "erased" outside the app: no erasure vouches for it.
    forged = json.loads(other.after)
    forged["narrative"] = {"erased": "sha256:" + "0" * 64}
    from assessor.domain.audit_chain import canonical

    assert f"audit trail broken at event {other.seq}" in changed(other.seq, canonical(forged))[0]
    # The erasure's own record of what it rewrote, altered.
    vouchers = json.loads(erasure.after)
    vouchers["events"].append({"seq": other.seq, "hash": other.hash, "rewritten": other.hash})
    assert any("audit trail broken" in p for p in changed(erasure.seq, canonical(vouchers)))
    assert verified(app).intact


def test_the_trail_refuses_every_change_but_an_erasures_rewrite_of_before_and_after(app, past):
    engine = app.extensions["database"].engine
    for statement in (
        "UPDATE audit_event SET actor = 'x'",
        "UPDATE audit_event SET hash = 'x'",
        "DELETE FROM audit_event",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql(statement)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_event SET after = after WHERE seq = 1")
