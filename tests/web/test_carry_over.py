"""Moving open enrolments to a newer release of their unit: the preview, the move, and a cohort's in one step."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor.cli.standards import unit_tree
from assessor.cohorts.operations import enrol
from assessor.core.audit_verify import verify
from assessor.demo.sample import EXAMPLES
from assessor.domain.standards import Catalogue, Usage, load_unit
from assessor.domain.vocabulary import EnrolmentStatus, PlanBasis, ReviewState, Stage, Status, Verdict
from assessor.evidence.operations import MappingInput, judge, record_evidence
from assessor.models import AuditEvent, Enrolment, EvidenceMapping, SampleReview, SamplingPlan, UnitVersion, User
from assessor.progress.queries import progress_of
from assessor.quality.queries import candidates
from assessor.records.operations import Declaration, sign_off
from assessor.retention.queries import holdings_of
from assessor.standards.operations import register_units, set_status
from assessor.standards.queries import targets_of
from tests.records.factories import TODAY, observation
from tests.web.conftest import WebWorld, csrf_token

DATA = Path(__file__).resolve().parents[1] / "data"
STARTED = datetime.date(2026, 8, 1)


@dataclass
class Releases:
    release_1: int
    release_2: int
    enrolment: int  # trainee's, in release 1, with evidence
    other: int  # trainee2's, in release 1, without
    cohort: int


@pytest.fixture
def releases(app, world: WebWorld) -> Releases:
    """Both releases loaded; the world's trainees enrolled in release 1 in the coordinator's cohort, the first with
    two pieces of evidence judged against most of it."""
    with app.extensions["database"].sessions.begin() as session:
        register_units(
            session,
            Catalogue(
                (
                    load_unit(EXAMPLES / "example_support_plans_1.yaml"),
                    load_unit(EXAMPLES / "example_support_plans_2.yaml"),
                )
            ),
        )
        first, second = session.scalars(
            sa.select(UnitVersion).where(UnitVersion.unit_id == "example_support_plans").order_by(UnitVersion.version)
        )
        admin, assessor, trainee, trainee2 = (
            session.scalar(sa.select(User).where(User.username == n))
            for n in ("admin", "assessor", "trainee", "trainee2")
        )
        cohort = session.get_one(Enrolment, world.open_enrolment).cohort
        assert cohort is not None
        own = enrol(session, admin, trainee, first, [assessor], STARTED, cohort)
        other = enrol(session, admin, trainee2, first, [assessor], STARTED, cohort)
        judged = {"1.1": Verdict.SATISFIED, "1.2": Verdict.SATISFIED, "1.3": Verdict.SATISFIED}
        judged |= {"2.1": Verdict.SATISFIED, "2.2": Verdict.NOT_YET, "PE1": Verdict.SATISFIED}
        record_evidence(
            session,
            assessor,
            trainee,
            observation("Supported Hemi at home."),
            [MappingInput(own.id, t, v, f"seen {t}") for t, v in judged.items()],
            today=TODAY,
        )
        record_evidence(
            session,
            assessor,
            trainee,
            observation("Supported Rangi at the day centre."),
            [MappingInput(own.id, "PE1", Verdict.SATISFIED), MappingInput(own.id, "KE1.1", None)],
            today=TODAY,
        )
        return Releases(first.id, second.id, own.id, other.id, cohort.id)


def _preview(client, page_url: str) -> dict[str, str]:
    """The confirmation form's fields, as a preview page shows them."""
    page = client.get(page_url).get_data(as_text=True)
    fields = dict(re.findall(r'name="(to|earlier|fingerprint)" type="hidden" value="([^"]*)"', page))
    assert "fingerprint" in fields, page
    return {"csrf_token": csrf_token(client, page_url), **fields}


def _confirm(client, page_url: str, post_url: str):
    """Send the confirmation form of a preview page, as the page shows it."""
    return client.post(post_url, data=_preview(client, page_url))


def _count(app, model) -> int:
    with app.extensions["database"].read_sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_preview_shows_what_carries_what_is_assessed_afresh_and_what_stays(signed_in, releases):
    page = signed_in("coordinator").get(f"/enrolments/{releases.enrolment}/move").get_data(as_text=True)
    rows = re.findall(
        r'<tr>\s*<th scope="row"><span class="ref">([^<]+)</span>.*?<span class="badge[^>]*>([^<]+)', page, re.S
    )
    assert rows == [
        ("1.1", "Carries over"),
        ("1.2", "Carries over"),
        ("1.3", "Changed: assessed afresh"),
        ("2.1", "Carries over"),
        ("2.2", "New: assessed afresh"),
        ("PE1", "Carries over"),
        ("KE1.1", "Carries over"),
        ("KE1.2.1", "Carries over"),
        ("KE1.2.2", "Changed: assessed afresh"),
    ]
    assert "is equivalent to example_support_plans" in page
    assert "now includes risks to the community" in page
    assert "<strong>6</strong> of 9 carry over, with 6 pieces of mapped evidence" in page
    assert "Stays with version 1 only" in page


def test_moving_copies_what_carries_pointing_at_the_originals_and_closes_the_earlier_enrolment(
    app, signed_in, releases
):
    coordinator = signed_in("coordinator")
    audit_before = _count(app, AuditEvent)
    response = _confirm(coordinator, f"/enrolments/{releases.enrolment}/move", f"/enrolments/{releases.enrolment}/move")
    assert response.status_code == 302
    with app.extensions["database"].read_sessions() as session:
        earlier = session.get_one(Enrolment, releases.enrolment)
        moved = session.get_one(Enrolment, int(response.headers["Location"].rsplit("/", 1)[1]))
        assert earlier.status == EnrolmentStatus.TRANSFERRED and earlier.transferred_to_id == moved.id
        assert (moved.unit_version_id, moved.start_date, moved.cohort_id) == (
            releases.release_2,
            STARTED,
            releases.cohort,
        )
        assert [a.username for a in moved.assessors] == ["assessor"]
        copies = session.scalars(sa.select(EvidenceMapping).where(EvidenceMapping.enrolment_id == moved.id)).all()
        carried = sorted((c.carried_from.target, c.target, c.verdict, c.comment) for c in copies if c.carried_from)
        assert len(carried) == len(copies) == 6
        assert carried == sorted(
            [
                ("1.1", "1.1", Verdict.SATISFIED, "seen 1.1"),
                ("1.2", "1.2", Verdict.SATISFIED, "seen 1.2"),
                ("2.2", "2.1", Verdict.NOT_YET, "seen 2.2"),
                ("PE1", "PE1", Verdict.SATISFIED, "seen PE1"),
                ("PE1", "PE1", Verdict.SATISFIED, ""),
                ("KE1.1", "KE1.1", None, ""),
            ]
        )
        assert all(c.evidence_id == c.carried_from.evidence_id for c in copies if c.carried_from)
        progress = progress_of(session, moved)
        statuses = {t: s.status for t, s in progress.targets.items()}
        assert statuses["1.1"] == statuses["PE1"] == Status.SATISFIED  # PE1 needs two occasions: both carried
        assert statuses["2.1"] == Status.NOT_YET_SATISFIED
        assert statuses["1.3"] == statuses["2.2"] == statuses["KE1.2.2"] == Status.NOT_STARTED
        assert statuses["KE1.1"] == Status.EVIDENCE_RECORDED
        # The earlier enrolment keeps every judgement it had.
        assert len(progress_of(session, earlier).targets["1.3"].evidence_ids) == 1
        actions = session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq).offset(audit_before)).all()
    assert actions == ["enrolment.create"] + ["mapping.carry_over"] * 6 + ["enrolment.transfer"]
    with app.extensions["database"].read_sessions() as session:
        assert verify(session).problems == []  # every row the move wrote is what the trail says
        # Evidence left behind (1.3) is kept while the trainee carries on in release 2.
        evidence_id = next(c.carried_from.evidence_id for c in copies if c.carried_from)
        (holding,) = holdings_of(session, [evidence_id])
        assert {a.enrolment_id: a.result_on for a in holding.assessments}[releases.enrolment] is None
        # Sampled once, where the judgements were carried to.
        plan = SamplingPlan(
            name="Interim",
            basis=PlanBasis.ASSESSOR_RATE,
            stage=Stage.INTERIM,
            period_from=datetime.date(2000, 1, 1),
            period_to=datetime.date(2999, 1, 1),
            assessor_percent=100,
            unit_percent=100,
            confidence=95,
            margin=10,
            per_standard=8,
            seed=1,
            created_by_id=1,
        )
        sampled = {c.enrolment_id for c in candidates(session, plan)}
        assert moved.id in sampled and releases.enrolment not in sampled
    history = coordinator.get(f"/evidence/{evidence_id}").get_data(as_text=True)
    assert "carried it over to 1.1 of EXSUP010 from the earlier version, judged Satisfied" in history
    page = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "carried over from 2.2 of the earlier version" in page and "Carried over" in page
    assert "Moved to a newer version" in coordinator.get(f"/enrolments/{releases.enrolment}").get_data(as_text=True)


def test_the_same_confirmation_sent_twice_moves_once(app, signed_in, releases):
    coordinator = signed_in("coordinator")
    page_url = f"/enrolments/{releases.enrolment}/move"
    fields = _preview(coordinator, page_url)
    assert coordinator.post(page_url, data=fields).status_code == 302
    enrolments, audit = _count(app, Enrolment), _count(app, AuditEvent)
    again = coordinator.post(page_url, data=fields, follow_redirects=True)
    assert "changed by someone else meanwhile" in again.get_data(as_text=True)
    assert (_count(app, Enrolment), _count(app, AuditEvent)) == (enrolments, audit)


def test_a_judgement_made_after_the_preview_refuses_the_move_and_changes_nothing(app, signed_in, releases):
    coordinator = signed_in("coordinator")
    page_url = f"/enrolments/{releases.enrolment}/move"
    fields = _preview(coordinator, page_url)
    with app.extensions["database"].sessions.begin() as session:
        mapping = session.scalar(
            sa.select(EvidenceMapping).where(
                EvidenceMapping.enrolment_id == releases.enrolment, EvidenceMapping.target == "KE1.1"
            )
        )
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        judge(session, assessor, mapping, mapping.version, Verdict.SATISFIED)
    enrolments = _count(app, Enrolment)
    response = coordinator.post(page_url, data=fields)
    assert response.status_code == 303
    assert "changed by someone else" in coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(app, Enrolment) == enrolments
    with app.extensions["database"].read_sessions() as session:
        assert session.get_one(Enrolment, releases.enrolment).status == EnrolmentStatus.ACTIVE


def test_a_signed_off_enrolment_cannot_move(app, signed_in, releases):
    with app.extensions["database"].sessions.begin() as session:
        enrolment = session.get_one(Enrolment, releases.other)
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        every = [MappingInput(enrolment.id, target, Verdict.SATISFIED) for target in targets_of(enrolment.unit_version)]
        for _ in range(2):  # PE1 needs two occasions
            record_evidence(session, assessor, enrolment.trainee, observation(), every, today=TODAY)
        sign_off(session, assessor, enrolment, Declaration(True, True, True, True), TODAY)
    coordinator = signed_in("coordinator")
    page = coordinator.get(f"/enrolments/{releases.other}/move").get_data(as_text=True)
    assert "It cannot move: It is signed off" in page and 'name="fingerprint"' not in page
    fingerprint = re.search(r"[0-9a-f]{32}", page)
    assert fingerprint is None
    enrolments = _count(app, Enrolment)
    url = f"/enrolments/{releases.other}/move"
    response = coordinator.post(
        url, data={"csrf_token": csrf_token(coordinator, url), "to": releases.release_2, "fingerprint": "0" * 32}
    )
    assert response.status_code == 303 and _count(app, Enrolment) == enrolments


def test_a_trainee_already_in_the_newer_release_is_refused_and_a_superseded_release_is_not_offered(
    app, signed_in, releases
):
    with app.extensions["database"].sessions.begin() as session:
        admin, assessor, trainee = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("admin", "assessor", "trainee")
        )
        second = session.get_one(UnitVersion, releases.release_2)
        enrol(
            session, admin, trainee, second, [assessor], STARTED, session.get_one(Enrolment, releases.enrolment).cohort
        )
    client = signed_in("coordinator")
    page = client.get(f"/enrolments/{releases.enrolment}/move").get_data(as_text=True)
    assert "It cannot move: Trainee is enrolled in example_support_plans@2 already." in page
    with app.extensions["database"].sessions.begin() as session:
        admin = session.scalar(sa.select(User).where(User.username == "admin"))
        set_status(session, admin, session.get_one(UnitVersion, releases.release_2), Usage("superseded", TODAY))
    page = client.get(f"/enrolments/{releases.enrolment}/move").get_data(as_text=True)
    assert "No newer version of EXSUP010 Support people to carry out their plans is loaded" in page
    assert client.get(f"/enrolments/{releases.enrolment}/move?to={releases.release_2}").status_code == 404


def test_an_enrolment_sampled_for_quality_assurance_or_without_an_active_assessor_does_not_move(
    app, signed_in, releases
):
    with app.extensions["database"].sessions.begin() as session:
        admin = session.scalar(sa.select(User).where(User.username == "admin"))
        review = SampleReview(
            enrolment_id=releases.enrolment,
            stage=Stage.INTERIM,
            state=ReviewState.PROPOSED,
            reason="test",
            added_by_id=admin.id,
        )
        session.add(review)
        session.get_one(User, session.get_one(Enrolment, releases.other).assessors[0].id).active = False
    client = signed_in("coordinator")
    page = client.get(f"/enrolments/{releases.enrolment}/move").get_data(as_text=True)
    assert "It cannot move: It is sampled for quality assurance" in page
    page = client.get(f"/enrolments/{releases.other}/move").get_data(as_text=True)
    assert "It cannot move: None of its assessors is active" in page


@pytest.mark.parametrize("username", ["trainee", "assessor", "qa"])
def test_only_those_who_manage_the_enrolment_reach_the_move(signed_in, releases, username):
    client = signed_in(username)
    assert client.get(f"/enrolments/{releases.enrolment}/move").status_code == 404
    assert client.get(f"/cohorts/{releases.cohort}/move").status_code == 404


def test_a_cohort_moves_in_one_step_leaving_those_who_cannot_move(app, signed_in, releases):
    with app.extensions["database"].sessions.begin() as session:
        admin, assessor, trainee2 = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("admin", "assessor", "trainee2")
        )
        enrol(session, admin, trainee2, session.get_one(UnitVersion, releases.release_2), [assessor], STARTED)
    client = signed_in("coordinator")
    listing = client.get(f"/cohorts/{releases.cohort}/move").get_data(as_text=True)
    assert 'EXSUP010 version 1 → EXSUP010 version 2</a> <span class="muted">(2 open enrolments)' in listing
    page_url = f"/cohorts/{releases.cohort}/move?from={releases.release_1}&to={releases.release_2}"
    page = client.get(page_url).get_data(as_text=True)
    assert "No: Trainee2 is enrolled in example_support_plans@2 already." in page
    assert "Move 1 enrolments to version 2" in page
    response = _confirm(client, page_url, f"/cohorts/{releases.cohort}/move")
    assert response.status_code == 302
    with app.extensions["database"].read_sessions() as session:
        assert session.get_one(Enrolment, releases.enrolment).status == EnrolmentStatus.TRANSFERRED
        assert session.get_one(Enrolment, releases.other).status == EnrolmentStatus.ACTIVE


def test_a_cohort_changed_after_its_preview_moves_no_one(app, signed_in, releases):
    client = signed_in("coordinator")
    page_url = f"/cohorts/{releases.cohort}/move?from={releases.release_1}&to={releases.release_2}"
    fields = _preview(client, page_url)
    with app.extensions["database"].sessions.begin() as session:
        assessor, trainee2 = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("assessor", "trainee2")
        )
        record_evidence(
            session,
            assessor,
            trainee2,
            observation("Supported Mere."),
            [MappingInput(releases.other, "1.1", Verdict.SATISFIED)],
            today=TODAY,
        )
    enrolments = _count(app, Enrolment)
    response = client.post(f"/cohorts/{releases.cohort}/move", data=fields)
    assert response.status_code == 303 and _count(app, Enrolment) == enrolments
    assert "changed by someone else" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_unit_page_and_standards_show_print_the_mapping_table(client, releases):
    page = client.get("/standards/example_support_plans/v2").get_data(as_text=True)
    assert "<dt>Supersedes</dt><dd>example_support_plans version 1 Support people to carry out their plans" in page
    assert "<td>2.2</td><td>2.1</td><td>unchanged</td>" in page
    assert "<td>2.1</td><td>—</td><td>removed</td>" in page
    lines = list(unit_tree(load_unit(EXAMPLES / "example_support_plans_2.yaml")))
    assert (
        "  Supersedes: example_support_plans version 1 Support people to carry out their plans (Release 1) (equivalent)"
        in lines
    )
    assert "    1.3 -> 1.3: changed (now includes risks to the community)" in lines
    assert "    - -> 2.2: new" in lines
