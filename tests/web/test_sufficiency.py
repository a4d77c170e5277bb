"""The evidence form asks what an occasion was with where a criterion counts different ones; progress and sign-off
count the different values and the quota among them, and say which is missing."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import enrol, withdraw
from assessor.core.audit_verify import verify
from assessor.demo.sample import EXAMPLES
from assessor.domain.errors import InvalidInput
from assessor.domain.retention import DEFAULT_RULES, Rule
from assessor.domain.standards import Catalogue, load_unit
from assessor.domain.vocabulary import Context, Method, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, record_evidence
from assessor.models import AuditEvent, Enrolment, Evidence, User
from assessor.retention.operations import Erasure, erase_if_due
from assessor.standards.operations import register_units
from tests.records.factories import TODAY
from tests.web.conftest import WebWorld, csrf_token, post_evidence

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def meeting(app, world: WebWorld) -> int:
    """The trainee enrolled in the NZQA unit whose 2.1 needs meetings with two different whānau, one Māori."""
    with app.extensions["database"].sessions.begin() as session:
        (version,) = register_units(session, Catalogue((load_unit(EXAMPLES / "example_whanau_hui.yaml"),)))
        admin, assessor, trainee = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("admin", "assessor", "trainee")
        )
        cohort = session.get_one(Enrolment, world.open_enrolment).cohort
        return enrol(session, admin, trainee, version, [assessor], datetime.date(2026, 8, 1), cohort).id


def _record(client, world: WebWorld, enrolment_id: int, **fields: str | list[str]):
    return post_evidence(client, world, "Facilitated the hui.", **{f"v-{enrolment_id}-2.1": "satisfied", **fields})


def _edit(client, url: str, form: str, enrolment_id: int, target: str, **fields: str):
    """Save the evidence edit form as read, judging `target` of the enrolment satisfied, with `fields`."""
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form)[1]
    seen = re.search(rf'name="s-{enrolment_id}-{target}" value="(\d+)"', form)[1]
    data = {
        "csrf_token": csrf_token(client, url),
        "version": version,
        "observed_on": TODAY.isoformat(),
        "method": "direct_observation",
        "context": "workplace",
        f"v-{enrolment_id}-{target}": "satisfied",
        f"s-{enrolment_id}-{target}": seen,
    }
    return client.post(url, data={**data, **fields})


def _evidence_count(app) -> int:
    with app.extensions["database"].read_sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Evidence))


def test_the_form_asks_for_the_whanau_and_refuses_evidence_for_2_1_without_one(app, world, signed_in, meeting):
    assessor = signed_in("assessor")
    form = assessor.get(f"/trainees/{world.trainee_id}/evidence/new").get_data(as_text=True)
    assert "<legend>Whānau</legend>" in form
    assert "Needed when this evidence is mapped to 2.1 of 99901" in form
    assert 'name="kinds-whanau" value="Māori"' in form and 'name="kinds-whanau" value="Pasifika"' in form
    before = _evidence_count(app)
    refused = _record(assessor, world, meeting)
    assert refused.status_code == 400
    assert "Whānau: say who or what this evidence was with; 2.1 of 99901 counts occasions that differ in it." in (
        refused.get_data(as_text=True)
    )
    assert _evidence_count(app) == before
    # A kind the form does not offer is not taken from it; the operation refuses one outright.
    forged = _record(assessor, world, meeting, **{"value-whanau": "Ngāti Hemi", "kinds-whanau": "Tongan"})
    assert forged.status_code == 302
    with app.extensions["database"].sessions() as session:
        stored = session.scalars(sa.select(Evidence).order_by(Evidence.id.desc())).first()
        assert stored.dimensions == {"whanau": {"label": "Whānau", "value": "Ngāti Hemi", "kinds": []}}
        someone = session.scalar(sa.select(User).where(User.username == "assessor"))
        data = EvidenceInput(
            Method.DIRECT_OBSERVATION, Context.WORKPLACE, TODAY, "x", "", {"whanau": ("A", ("Tongan",))}
        )
        with pytest.raises(InvalidInput) as caught:
            record_evidence(session, someone, stored.trainee, data, [MappingInput(meeting, "2.1", None)], today=TODAY)
        assert caught.value.problems == {"value-whanau": "Whānau: Tongan is not one of Māori, Pasifika."}


def test_occasions_count_once_per_whanau_and_the_quota_says_what_is_missing(app, world, signed_in, meeting):
    assessor = signed_in("assessor")
    first = _record(assessor, world, meeting, **{"value-whanau": "Ngāti Hemi", "kinds-whanau": "Māori"})
    assert first.status_code == 302
    page = assessor.get(first.headers["Location"]).get_data(as_text=True)
    assert "<dt>Whānau</dt><dd>Ngāti Hemi (Māori)</dd>" in page
    assert _record(assessor, world, meeting, **{"value-whanau": "ngāti  HEMI"}).status_code == 302
    enrolment = assessor.get(f"/enrolments/{meeting}").get_data(as_text=True)
    assert "1 of 2 different: whānau" in enrolment
    assert "Whānau: Ngāti Hemi; Māori: 1 of 1 needed" in enrolment
    assert "2.1 needs occasions with 2 different values of whānau; it has 1." in enrolment
    assert _record(assessor, world, meeting, **{"value-whanau": "Tupou"}).status_code == 302
    enrolment = assessor.get(f"/enrolments/{meeting}").get_data(as_text=True)
    assert "2 of 2 different: whānau" in enrolment and "Whānau: Ngāti Hemi, Tupou; Māori: 1 of 1 needed" in enrolment
    assert "2.1 needs" not in enrolment
    with app.extensions["database"].read_sessions() as session:
        states = session.scalars(
            sa.select(AuditEvent.after).where(AuditEvent.action == "evidence.record").order_by(AuditEvent.seq)
        ).all()
    assert json.loads(states[-1])["values"] == {"whanau": {"label": "Whānau", "value": "Tupou", "kinds": []}}


def test_a_quota_not_met_is_named_and_editing_the_kind_meets_it(app, world, signed_in, meeting):
    assessor = signed_in("assessor")
    _record(assessor, world, meeting, **{"value-whanau": "Tupou", "kinds-whanau": "Pasifika"})
    second = _record(assessor, world, meeting, **{"value-whanau": "Ngāti Hemi"})
    enrolment = assessor.get(f"/enrolments/{meeting}").get_data(as_text=True)
    assert "2.1 needs at least 1 of its occasions to be Māori; it has 0." in enrolment
    evidence_id = int(second.headers["Location"].rsplit("/", 1)[1])
    url = f"/evidence/{evidence_id}/edit"
    form = assessor.get(url).get_data(as_text=True)
    assert 'name="value-whanau" value="Ngāti Hemi"' in form
    fields = {"narrative": "Facilitated the hui.", "value-whanau": "Ngāti Hemi", "kinds-whanau": "Māori"}
    edited = _edit(assessor, url, form, meeting, "2.1", **fields)
    assert edited.status_code == 302, edited.get_data(as_text=True)
    enrolment = assessor.get(f"/enrolments/{meeting}").get_data(as_text=True)
    assert "needs at least 1" not in enrolment and "Māori: 1 of 1 needed" in enrolment


def test_the_trail_verifies_with_values_kept_and_erasing_the_evidence_erases_them(app, world, signed_in, meeting):
    assessor = signed_in("assessor")
    for whanau in ("Ngāti Hemi", "Tupou"):
        kinds = {"kinds-whanau": "Māori"} if whanau == "Ngāti Hemi" else {}
        assert _record(assessor, world, meeting, **{"value-whanau": whanau}, **kinds).status_code == 302
    database = app.extensions["database"]
    with database.sessions() as session:
        assert verify(session).problems == []
    with database.sessions.begin() as session:  # once the enrolment is closed, its evidence falls due
        admin = session.scalar(sa.select(User).where(User.username == "admin"))
        withdraw(session, admin, session.get_one(Enrolment, meeting), "Moved away.")
        evidence = session.scalars(sa.select(Evidence).order_by(Evidence.id.desc())).first()
        due = {**DEFAULT_RULES, "NZQA": Rule("NZQA", 0, 0, "a test's rule")}
        erased = erase_if_due(session, admin, evidence, due, datetime.date.today() + datetime.timedelta(days=1))
        assert isinstance(erased, Erasure)
    with database.sessions() as session:
        evidence = session.get_one(Evidence, evidence.id)
        assert evidence.dimensions is None
        assert verify(session).problems == []
        trail = " ".join(session.scalars(sa.select(AuditEvent.after).where(AuditEvent.entity_id == str(evidence.id))))
        assert "Tupou" not in trail
    page = assessor.get(f"/enrolments/{meeting}").get_data(as_text=True)
    assert "1 of 2 different: whānau" in page  # the erased occasion no longer counts as a different one


def test_an_assessor_editing_evidence_keeps_the_values_of_units_they_do_not_assess(app, world, signed_in, meeting):
    with app.extensions["database"].sessions.begin() as session:
        enrolment = session.get_one(Enrolment, meeting)
        assessor, assessor2 = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("assessor", "assessor2")
        )
        data = EvidenceInput(Method.DIRECT_OBSERVATION, Context.WORKPLACE, TODAY, "Hui.", "", {"whanau": ("Tupou", ())})
        mappings = [MappingInput(meeting, "2.1", Verdict.SATISFIED), MappingInput(world.open_enrolment, "1.1", None)]
        evidence_id = record_evidence(session, assessor, enrolment.trainee, data, mappings, today=TODAY).id
        enrolment.assessors = [assessor2]  # from now on the whānau unit is assessor2's alone
    assessor = signed_in("assessor")  # assesses the other unit it is mapped to, not the whānau one
    url = f"/evidence/{evidence_id}/edit"
    form = assessor.get(url).get_data(as_text=True)
    assert "value-whanau" not in form
    edited = _edit(assessor, url, form, world.open_enrolment, "1.1", narrative="Hui.")
    assert edited.status_code == 302, edited.get_data(as_text=True)
    with app.extensions["database"].sessions() as session:
        assert session.get_one(Evidence, evidence_id).dimensions["whanau"]["value"] == "Tupou"
