"""Quality assurance through the HTTP client: a plan proposed, adjusted, confirmed and met; each decision and the
assessor's action loop; countersigning; a quality assurer refused on their own assessments; the report read back."""

from __future__ import annotations

import datetime
import io
import re
from types import SimpleNamespace

import openpyxl
import pytest
import sqlalchemy as sa

from assessor.core.audit_verify import verify
from assessor.domain.vocabulary import ActionState, Outcome, ReviewState, Role, Stage
from assessor.models import (
    AuditEvent,
    CompletionRecord,
    CountersignRule,
    Enrolment,
    Evidence,
    EvidenceMapping,
    ReviewDecision,
    SampleReview,
    SamplingPlan,
    User,
)
from tests.records.factories import PASSWORD, build_cohort, build_world, make_user, satisfy_all
from tests.web.conftest import csrf_token, sign_in

YEAR = {"period_from": "2026-01-01", "period_to": "2027-12-31"}


@pytest.fixture
def qa_world(app):
    """The records world, a cohort of twelve trainees part-way through the NZQA unit, and a quality assurer. The
    assessor judged the first of them in 2025, before any plan's period: they are not new."""
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        first = build_cohort(session, world, 12, "Intake Q")[0]
        make_user(session, "qa", Role.QUALITY_ASSURER, "Quinn Assurer")
        session.execute(
            sa.update(EvidenceMapping)
            .where(EvidenceMapping.enrolment_id == first.id)
            .values(judged_at=datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC))
        )
    return world


def satisfied(app, enrolment_id: int) -> None:
    """The assessor judges every criterion and item of an enrolment satisfied."""
    with app.extensions["database"].sessions.begin() as session:
        assessor = session.scalars(sa.select(User).where(User.username == "assessor")).one()
        satisfy_all(session, SimpleNamespace(assessor=assessor), session.get_one(Enrolment, enrolment_id))


def client_of(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def post(client, url: str, page: str, **data: object):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def count(app, model) -> int:
    with app.extensions["database"].sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def make_plan(client, **fields: object) -> int:
    data = {
        "name": "Interim IQA 2026",
        "basis": "assessor_rate",
        "stage": "interim",
        "assessor_percent": "25",
        "unit_percent": "100",
        "confidence": "95",
        "margin": "15",
        "per_standard": "8",
        "seed": "2026",
        **YEAR,
        **fields,
    }
    response = post(client, "/quality/plans/new", "/quality/plans/new", **data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def sample_of(app, plan_id: int) -> list[SampleReview]:
    with app.extensions["database"].sessions() as session:
        return list(
            session.scalars(sa.select(SampleReview).where(SampleReview.plan_id == plan_id).order_by(SampleReview.id))
        )


def actions(app) -> list[str]:
    with app.extensions["database"].sessions() as session:
        return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_a_plan_is_proposed_reproducibly_adjusted_confirmed_and_met(app, qa_world):
    qa = client_of(app, "qa")
    plan_id = make_plan(qa)
    page = f"/quality/plans/{plan_id}"
    assert "Not met" in qa.get(page).get_data(as_text=True)
    assert post(qa, f"{page}/propose", page).status_code == 302
    first = sorted(r.enrolment_id for r in sample_of(app, plan_id))
    assert len(first) == 3  # a quarter of the 11 learners judged in the period, rounded up; one unit, one method
    assert post(qa, f"{page}/propose", page).status_code == 302  # the same seed: the same sample
    assert sorted(r.enrolment_id for r in sample_of(app, plan_id)) == first
    shown = qa.get(page).get_data(as_text=True)
    assert shown.count('class="status status-satisfied">Met<') == 1

    # Adjusting: one out (with a reason), which leaves the plan short; another in by hand.
    taken = sample_of(app, plan_id)[0]
    refused = post(qa, f"/quality/reviews/{taken.id}/remove", page, reason="  ")
    assert refused.status_code == 302 and len(sample_of(app, plan_id)) == 3
    assert "Say why it is taken out" in qa.get(page).get_data(as_text=True)
    assert post(qa, f"/quality/reviews/{taken.id}/remove", page, reason="Moved employer").status_code == 302
    assert "Not met" in qa.get(page).get_data(as_text=True)
    with app.extensions["database"].sessions() as session:
        outside = session.scalars(
            sa.select(Enrolment.id).where(Enrolment.id.not_in([r.enrolment_id for r in sample_of(app, plan_id)]))
        ).all()
        judged = {qa_world.csc_enrolment.id, qa_world.nz_enrolment.id, taken.enrolment_id, min(outside)}
        candidate = next(i for i in sorted(outside) if i not in judged and i > qa_world.csc_enrolment.id + 1)
    assert post(qa, f"{page}/add", page, enrolment=candidate).status_code == 302
    assert post(qa, f"{page}/add", page, enrolment=candidate).status_code == 302  # twice: refused, nothing added
    assert len(sample_of(app, plan_id)) == 3
    assert "already in the sample" in qa.get(page).get_data(as_text=True)
    assert post(qa, f"{page}/add", page, enrolment=qa_world.csc_enrolment.id).status_code == 302
    assert "was not assessed at this stage" in qa.get(page).get_data(as_text=True)

    assert post(qa, f"{page}/confirm", page).status_code == 302
    assert {r.state for r in sample_of(app, plan_id)} == {ReviewState.UNDER_REVIEW}
    assert post(qa, f"{page}/propose", page).status_code == 302  # once confirmed, never redrawn
    assert "The sample is confirmed" in qa.get(page).get_data(as_text=True)
    dashboard = qa.get("/quality").get_data(as_text=True)
    assert "Interim IQA 2026" in dashboard and "Met" in dashboard
    assert {"quality.plan", "quality.propose", "quality.sample_remove", "quality.sample_add", "quality.confirm"} <= set(
        actions(app)
    )


def test_a_plan_with_wrong_answers_is_refused_and_nothing_is_made(app, qa_world):
    qa = client_of(app, "qa")
    for wrong, message in [
        ({"period_to": "2025-12-31"}, "The period ends before it starts."),
        ({"assessor_percent": "0"}, "Number must be between 1 and 100."),
        ({"margin": "90"}, "Number must be between 1 and 50."),
        ({"confidence": "80"}, "Not a valid choice."),
        ({"name": "x" * 201}, "at most"),
        ({"period_from": "2015-01-01"}, "A plan covers at most five years."),
    ]:
        data = {"name": "Plan", "basis": "validation", "stage": "summative", "assessor_percent": "10"}
        data |= {"unit_percent": "100", "confidence": "95", "margin": "15", "per_standard": "8", **YEAR, **wrong}
        response = post(qa, "/quality/plans/new", "/quality/plans/new", **data)
        assert response.status_code == 400, wrong
        assert message in response.get_data(as_text=True), wrong
    assert count(app, SamplingPlan) == 0


def reviewed(app, qa) -> tuple[int, SampleReview]:
    """A confirmed interim plan sampling every learner judged in the period, and the review of the first."""
    plan_id = make_plan(qa, assessor_percent="100")
    page = f"/quality/plans/{plan_id}"
    post(qa, f"{page}/propose", page)
    post(qa, f"{page}/confirm", page)
    return plan_id, sample_of(app, plan_id)[0]


def evidence_of(app, enrolment_id: int) -> Evidence:
    with app.extensions["database"].sessions() as session:
        return session.scalars(
            sa.select(Evidence).join(Evidence.mappings).where(Evidence.mappings.any(enrolment_id=enrolment_id))
        ).first()


def test_agree_and_disagree_are_recorded_audited_and_the_review_ends(app, qa_world):
    qa = client_of(app, "qa")
    _, review = reviewed(app, qa)
    page = f"/quality/reviews/{review.id}"
    shown = qa.get(page).get_data(as_text=True)
    assert "Record a decision" in shown and "1.1" in shown
    assert post(qa, f"{page}/close", page).status_code == 302
    assert "Record at least one decision first" in qa.get(page).get_data(as_text=True)
    assert post(qa, f"{page}/decide", page, about="1.1", outcome="agree").status_code == 302
    again = post(qa, f"{page}/decide", page, about="1.1", outcome="agree")
    assert again.status_code == 400 and "already recorded" in again.get_data(as_text=True)
    missing = post(qa, f"{page}/decide", page, about="1.1", outcome="disagree")
    assert missing.status_code == 400 and "Say why." in missing.get_data(as_text=True)
    unknown = post(qa, f"{page}/decide", page, about="9.9", outcome="agree")
    assert unknown.status_code == 400 and "9.9 is not a criterion" in unknown.get_data(as_text=True)
    evidence = evidence_of(app, review.enrolment_id)
    reason = "The observation does not show the consent of the client."
    assert (
        post(qa, f"{page}/decide", page, about=f"evidence:{evidence.id}", outcome="disagree", reason=reason).status_code
        == 302
    )
    with app.extensions["database"].sessions() as session:
        decisions = session.scalars(sa.select(ReviewDecision).order_by(ReviewDecision.id)).all()
        assert [(d.target, d.evidence_id, d.outcome) for d in decisions] == [
            ("1.1", None, Outcome.AGREE),
            (None, evidence.id, Outcome.DISAGREE),
        ]
    assert actions(app).count("quality.decide") == 2
    assert post(qa, f"{page}/close", page).status_code == 302
    assert sample_of(app, review.plan_id)[0].state == ReviewState.CLOSED
    assessor = client_of(app, "assessor")
    enrolment_page = assessor.get(f"/enrolments/{review.enrolment_id}").get_data(as_text=True)
    assert "Quality assurance" in enrolment_page and reason in enrolment_page
    trainee_id = evidence.trainee_id
    with app.extensions["database"].sessions() as session:
        username = session.get_one(User, trainee_id).username
    trainee_page = client_of(app, username).get(f"/enrolments/{review.enrolment_id}").get_data(as_text=True)
    assert reason not in trainee_page  # the organisation's review, not the trainee's


def test_sampled_evidence_is_locked_until_the_assessor_is_asked_to_act_and_the_loop_closes(app, qa_world):
    qa = client_of(app, "qa")
    _, review = reviewed(app, qa)
    evidence = evidence_of(app, review.enrolment_id)
    assessor = client_of(app, "assessor")
    edit = f"/evidence/{evidence.id}/edit"
    assert assessor.get(edit).status_code == 404  # locked: no one edits it while it is under review
    page = f"/quality/reviews/{review.id}"
    no_date = post(qa, f"{page}/decide", page, about="1.1", outcome="act", reason="Ask about income support.")
    assert no_date.status_code == 400 and "Give the date the action is due." in no_date.get_data(as_text=True)
    due = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
    asked = post(qa, f"{page}/decide", page, about="1.1", outcome="act", reason="Ask about income support.", due_on=due)
    assert asked.status_code == 302
    assert sample_of(app, review.plan_id)[0].state == ReviewState.ACTIONS_OPEN

    home = assessor.get("/enrolments").get_data(as_text=True)
    assert "1 action asked of you by a quality assurer" in home
    assert assessor.get(edit).status_code == 200  # open to the assessor while they act
    with app.extensions["database"].sessions() as session:
        decision = session.scalars(sa.select(ReviewDecision)).one()
    enrolment = f"/enrolments/{review.enrolment_id}"
    assert post(assessor, f"/quality/decisions/{decision.id}/answer", enrolment, note="").status_code == 302
    assert (
        post(assessor, f"/quality/decisions/{decision.id}/answer", enrolment, note="Asked; added notes.").status_code
        == 302
    )
    assert post(assessor, f"/quality/decisions/{decision.id}/answer", enrolment, note="Again").status_code == 302
    with app.extensions["database"].sessions() as session:
        decision = session.get_one(ReviewDecision, decision.id)
        assert (decision.action, decision.action_note) == (ActionState.DONE, "Asked; added notes.")
    assert "1 action done by assessors, to confirm" in qa.get("/quality").get_data(as_text=True)
    assert post(qa, f"{page}/close", page).status_code == 302
    assert "not yet confirmed" in qa.get(page).get_data(as_text=True)

    back = post(qa, f"/quality/decisions/{decision.id}/confirm", page, verdict="back", reason="Also ask about housing.")
    assert back.status_code == 302
    with app.extensions["database"].sessions() as session:
        sent_back = session.get_one(ReviewDecision, decision.id)
        assert (sent_back.reason, sent_back.sent_back_because) == (
            "Ask about income support.",
            "Also ask about housing.",
        )
    assert "Sent back: Also ask about housing." in assessor.get(enrolment).get_data(as_text=True)
    assert "1 action asked of you" in assessor.get("/enrolments").get_data(as_text=True)
    post(assessor, f"/quality/decisions/{decision.id}/answer", enrolment, note="Asked about housing too.")
    assert post(qa, f"/quality/decisions/{decision.id}/confirm", page, verdict="confirm").status_code == 302
    assert sample_of(app, review.plan_id)[0].state == ReviewState.UNDER_REVIEW
    assert assessor.get(edit).status_code == 404  # locked again until the review ends
    assert post(qa, f"{page}/close", page).status_code == 302
    assert assessor.get(edit).status_code == 200
    trail = actions(app)
    assert [a for a in trail if a.startswith("quality.")][-6:] == [
        "quality.decide",
        "quality.act",
        "quality.send_back",
        "quality.act",
        "quality.confirm_action",
        "quality.close",
    ]


def test_a_quality_assurer_is_refused_on_their_own_assessments(app, qa_world):
    qa = client_of(app, "qa")
    _, review = reviewed(app, qa)
    with app.extensions["database"].sessions.begin() as session:
        former = session.scalars(sa.select(User).where(User.username == "assessor")).one()
        former.role = Role.QUALITY_ASSURER  # the assessor becomes a quality assurer
    own = client_of(app, "assessor")
    page = f"/quality/reviews/{review.id}"
    shown = own.get(page)
    assert shown.status_code == 200 and "You assessed this enrolment" in shown.get_data(as_text=True)
    assert "Record a decision" not in shown.get_data(as_text=True)
    token = csrf_token(own, page)
    refused = own.post(f"{page}/decide", data={"csrf_token": token, "about": "1.1", "outcome": "agree"})
    assert refused.status_code == 404
    assert count(app, ReviewDecision) == 0
    taken = own.post(f"/quality/reviews/{review.id}/remove", data={"csrf_token": token, "reason": "Not needed"})
    assert taken.status_code == 403 and len(sample_of(app, review.plan_id)) == 11  # nor take it out of the sample
    assert post(qa, f"{page}/decide", page, about="1.1", outcome="agree").status_code == 302  # another may


def signed_off_for_countersigning(app, qa_world, **rule: object):
    """Countersigning set by an administrator (every unit unless `rule` says otherwise), the trainee's NZQA unit
    satisfied, and the assessor's sign-off sent: the assessor's client, the sign-off address and what was sent."""
    rule = rule or {"every_unit": "all"}
    assert (
        post(client_of(app, "admin"), "/quality/countersigning", "/quality/countersigning", **rule).status_code == 302
    )
    satisfied(app, qa_world.nz_enrolment.id)
    assessor = client_of(app, "assessor")
    sign_off = f"/enrolments/{qa_world.nz_enrolment.id}/sign-off"
    data = {"valid": "y", "sufficient": "y", "authentic": "y", "current": "y", "password": PASSWORD}
    data["signed_on"] = datetime.date.today().isoformat()
    signed = post(assessor, sign_off, sign_off, **data)
    assert signed.status_code == 302 and signed.headers["Location"].endswith(f"/enrolments/{qa_world.nz_enrolment.id}")
    return assessor, sign_off, data


def test_countersigning_issues_the_record_only_when_a_quality_assurer_countersigns(app, qa_world):
    assessor, sign_off, data = signed_off_for_countersigning(app, qa_world, every_unit="some", units=["us_case_mgmt"])
    assert count(app, CountersignRule) == 1
    assert count(app, CompletionRecord) == 0
    page = assessor.get(f"/enrolments/{qa_world.nz_enrolment.id}").get_data(as_text=True)
    assert "waits for a quality assurer&#39;s countersignature" in page
    assert post(assessor, sign_off, sign_off, **data).status_code == 409  # twice: refused
    with app.extensions["database"].sessions() as session:
        review = session.scalars(sa.select(SampleReview).where(SampleReview.plan_id.is_(None))).one()
    qa = client_of(app, "qa")
    assert "1 sign-off to countersign" in qa.get("/quality").get_data(as_text=True)
    page = f"/quality/reviews/{review.id}"
    wrong = post(qa, f"{page}/countersign", page, password="not my password")
    assert wrong.status_code == 400 and count(app, CompletionRecord) == 0
    done = post(qa, f"{page}/countersign", page, password=PASSWORD)
    assert done.status_code == 302
    with app.extensions["database"].sessions() as session:
        record = session.scalars(sa.select(CompletionRecord)).one()
        assert (record.assessor.username, record.countersigned_by.username) == ("assessor", "qa")
        assert session.get_one(Enrolment, qa_world.nz_enrolment.id).status.value == "completed"
        code = record.verification_code
    shown = qa.get(done.headers["Location"]).get_data(as_text=True)
    assert "Countersigned by" in shown and "Quinn Assurer" in shown
    assert client_of(app, "trainee").get(f"/verify/{code}").status_code == 200
    with app.app_context(), app.extensions["database"].sessions() as session:
        assert verify(session).problems == []


def test_a_declined_countersignature_issues_nothing_and_the_assessor_sees_why(app, qa_world):
    assessor, sign_off, _ = signed_off_for_countersigning(app, qa_world)
    with app.extensions["database"].sessions() as session:
        review = session.scalars(sa.select(SampleReview)).one()
    qa = client_of(app, "qa")
    page = f"/quality/reviews/{review.id}"
    assert post(qa, f"{page}/decline", page, reason="").status_code == 400
    assert post(qa, f"{page}/decline", page, reason="Evidence 1.3 is a copy of another trainee's.").status_code == 302
    assert count(app, CompletionRecord) == 0
    shown = assessor.get(f"/enrolments/{qa_world.nz_enrolment.id}").get_data(as_text=True)
    assert "Countersignature declined: Evidence 1.3 is a copy" in shown
    assert assessor.get(sign_off).status_code == 200  # open for sign-off again
    assert post(qa, f"{page}/countersign", page, password=PASSWORD).status_code == 302  # ended: nothing issued
    assert count(app, CompletionRecord) == 0


def test_the_report_shows_the_sample_decisions_and_outcomes_and_downloads_as_a_workbook(app, qa_world):
    qa = client_of(app, "qa")
    _, review = reviewed(app, qa)
    page = f"/quality/reviews/{review.id}"
    post(qa, f"{page}/decide", page, about="1.1", outcome="disagree", reason="Not enough on 1.1.")
    report = qa.get("/quality/report", query_string=YEAR)
    text = report.get_data(as_text=True)
    assert report.status_code == 200 and "Not enough on 1.1." in text and "Assessor" in text
    assert re.search(r"<th scope=\"row\">Assessor</th><td>11</td><td>0</td><td>0</td><td>1</td><td>11</td>", text)
    download = qa.get("/quality/report", query_string={**YEAR, "format": "xlsx"})
    assert download.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(download.data))
    assert book.sheetnames == ["Sample", "Decisions", "By assessor", "By unit", "About"]
    sample = list(book["Sample"].iter_rows(values_only=True))
    assert len(sample) == 12 and sample[0][:3] == ("Review", "Plan", "Stage")
    decisions = list(book["Decisions"].iter_rows(values_only=True))
    assert decisions[1][3:6] == ("1.1", "Disagree", "Not enough on 1.1.")
    assert list(book["By assessor"].iter_rows(values_only=True))[1] == ("Assessor", 11, 0, 0, 1, 11)
    backwards = qa.get("/quality/report", query_string={"period_from": "2026-12-31", "period_to": "2026-01-01"})
    assert backwards.status_code == 400 and "The period ends before it starts." in backwards.get_data(as_text=True)
    assert client_of(app, "coordinator").get("/quality/report", query_string=YEAR).status_code == 404


def test_the_organisation_names_the_role(make_app, qa_world):
    app = make_app(QUALITY_ASSURER_TITLE="Internal verifier")
    admin = client_of(app, "admin")
    assert "Internal verifier" in admin.get("/admin/users").get_data(as_text=True)


def test_wrong_and_extreme_input_on_the_quality_pages_answers_with_a_message_never_a_500(app, qa_world):
    qa = client_of(app, "qa")
    plan_id = make_plan(qa, period_from="9999-01-01", period_to="9999-12-31")  # the last day there is
    assert qa.get("/quality").status_code == 200
    assert qa.get(f"/quality/plans/{plan_id}").status_code == 200
    page = f"/quality/plans/{plan_id}"
    assert post(qa, f"{page}/propose", page).status_code == 302
    assert post(qa, f"{page}/add", page, enrolment=str(2**63)).status_code == 302
    assert post(qa, f"{page}/add", page, enrolment="²").status_code == 302
    assert "was not assessed at this stage" in qa.get(page).get_data(as_text=True)
    for assessor in ("²", str(10**20), "x"):
        report = qa.get("/quality/report", query_string={**YEAR, "assessor": assessor})
        assert report.status_code == 200, assessor
    ends = qa.get("/quality/report", query_string={"period_from": "2026-01-01", "period_to": "9999-12-31"})
    assert ends.status_code == 200
    _, review = reviewed(app, qa)
    page = f"/quality/reviews/{review.id}"
    for about in ("evidence:²", f"evidence:{10**20}", "evidence:", ""):
        response = post(qa, f"{page}/decide", page, about=about, outcome="agree")
        assert response.status_code == 400, about
        assert "Choose one criterion or evidence item" in response.get_data(as_text=True)
    assert count(app, ReviewDecision) == 0


def test_only_one_countersignature_is_under_way_for_an_enrolment_at_a_time(app, qa_world):
    with app.extensions["database"].sessions.begin() as session:
        assessor = session.scalars(sa.select(User).where(User.username == "assessor")).one()

        def asked(state: ReviewState) -> SampleReview:
            return SampleReview(
                enrolment_id=qa_world.nz_enrolment.id,
                stage=Stage.SUMMATIVE,
                state=state,
                reason="countersign",
                added_by_id=assessor.id,
                requested_by_id=assessor.id,
                signed_on=datetime.date.today(),
            )

        session.add_all([asked(ReviewState.CLOSED), asked(ReviewState.CLOSED), asked(ReviewState.UNDER_REVIEW)])
        session.flush()  # ended requests may be many
        with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
            session.add(asked(ReviewState.ACTIONS_OPEN))
            session.flush()


def test_a_countersignature_is_refused_when_whoever_signed_off_no_longer_assesses_the_enrolment(app, qa_world):
    signed_off_for_countersigning(app, qa_world)
    enrolment = f"/enrolments/{qa_world.nz_enrolment.id}"
    with app.extensions["database"].sessions() as session:
        ids = {u.username: u.id for u in session.scalars(sa.select(User))}
        review = session.scalars(sa.select(SampleReview)).one()
    coordinator = client_of(app, "coordinator")
    assigned = post(coordinator, f"{enrolment}/assessors", enrolment, assessors=[ids["assessor2"]])
    assert assigned.status_code == 302
    qa = client_of(app, "qa")
    page = f"/quality/reviews/{review.id}"
    assert post(qa, f"{page}/countersign", page, password=PASSWORD).status_code == 302
    assert "no longer assesses this enrolment" in qa.get(page).get_data(as_text=True)
    assert count(app, CompletionRecord) == 0
