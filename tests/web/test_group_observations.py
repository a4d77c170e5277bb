"""Group observations: one activity, several trainees, each judged on their own and seeing only their part."""

from __future__ import annotations

import datetime
import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import create_cohort, enrol
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import Role, Verdict
from assessor.models import Attachment, AuditEvent, Enrolment, Evidence, EvidenceMapping, GroupObservation, User
from assessor.observations.operations import Part, record_group_observation
from tests.records.factories import TODAY, make_user, observation
from tests.web.conftest import PDF, csrf_token, sign_in


@pytest.fixture
def workshop(app, world):
    """A cohort of three trainees in the NZQA unit whom `assessor` assesses, and a fourth whom only `assessor2` does."""
    with app.extensions["database"].sessions.begin() as session:
        admin = session.scalar(sa.select(User).where(User.username == "admin"))
        assessor, assessor2 = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("assessor", "assessor2")
        )
        unit = session.get(Enrolment, world.completed_enrolment).unit_version
        cohort = create_cohort(session, admin, "Workshop intake", [])
        enrolments = {}
        for name, by in [
            ("Hemi Walker", assessor),
            ("Mere Tane", assessor),
            ("Sam Patel", assessor),
            ("Ana Lee", assessor2),
        ]:
            trainee = make_user(session, name.split()[0].lower(), Role.TRAINEE, name)
            enrolments[name] = enrol(session, admin, trainee, unit, [by], datetime.date(2026, 8, 1), cohort).id
        return {"unit": unit.id, "cohort": cohort.id, **enrolments}


def form_url(workshop) -> str:
    return f"/observations/group/new?unit={workshop['unit']}&cohort={workshop['cohort']}"


def group_form(client, workshop, **fields):
    page = client.get(form_url(workshop)).get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([0-9a-f]{32})"', page)
    assert submission, "no submission token on the form"
    data = {
        "csrf_token": csrf_token(client, form_url(workshop)),
        "submission": submission.group(1),
        "activity": "Case conference role play",
        "observed_on": TODAY.isoformat(),
        "method": "direct_observation",
        "context": "simulated_workplace",
        "location": "Training room 3",
        "narrative": "The group ran a case conference for a client leaving custody.",
        "rate_as": "satisfied",
    }
    data.update(fields)
    return data


def counts(app) -> tuple[int, ...]:
    with app.extensions["database"].engine.connect() as connection:
        return tuple(
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (GroupObservation, Evidence, EvidenceMapping, Attachment, AuditEvent)
        )


def test_the_assessor_chooses_the_group_and_sees_only_their_trainees(app, client, world, workshop):
    sign_in(client, "assessor")
    choose = client.get("/observations/group").get_data(as_text=True)
    assert "Workshop intake" in choose and form_url(workshop).replace("&", "&amp;") in choose
    assert "Record a group observation" in client.get("/enrolments").get_data(as_text=True)
    page = client.get(form_url(workshop)).get_data(as_text=True)
    assert all(name in page for name in ("Hemi Walker", "Mere Tane", "Sam Patel"))
    assert "Ana Lee" not in page  # assessed by assessor2 only
    assert 'name="v-{}-1.1"'.format(workshop["Hemi Walker"]) in page
    nobody_there = [
        f"unit={workshop['unit']}&cohort=999",
        "unit=999",
        f"unit={workshop['unit'] + 1}&cohort={workshop['cohort']}",
    ]
    for query in nobody_there:
        assert client.get(f"/observations/group/new?{query}").status_code == 404, query
    trainee = app.test_client()
    sign_in(trainee, "hemi")
    assert trainee.get("/observations/group").status_code == 404
    assert trainee.get(form_url(workshop)).status_code == 404


def test_ticks_rate_everyone_at_once_a_cell_wins_and_each_trainee_gets_their_own_part(app, client, world, workshop):
    sign_in(client, "assessor")
    hemi, mere, sam = workshop["Hemi Walker"], workshop["Mere Tane"], workshop["Sam Patel"]
    data = group_form(client, workshop)
    data.update(
        {
            "trainee": [str(hemi), str(mere)],
            "target": ["1.1", "1.4"],
            f"v-{mere}-1.4": "not_yet",  # the cell wins over the ticks
            f"v-{sam}-2.1": "satisfied",  # a cell alone, outside the ticks
            f"c-{mere}": "Ask the client what they want before proposing a plan.",
            "attachments": (io.BytesIO(PDF), "whiteboard.pdf"),
        }
    )
    response = client.post(form_url(workshop), data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.extensions["database"].sessions() as session:
        group = session.scalars(sa.select(GroupObservation)).one()
        assert response.headers["Location"].endswith(f"/observations/group/{group.id}")
        parts = {part.trainee.display_name: part for part in group.parts}
        assert set(parts) == {"Hemi Walker", "Mere Tane", "Sam Patel"}
        judged = {name: {(m.target, m.verdict, m.comment) for m in part.mappings} for name, part in parts.items()}
        mere_said = "Ask the client what they want before proposing a plan."
        assert judged == {
            "Hemi Walker": {("1.1", Verdict.SATISFIED, ""), ("1.4", Verdict.SATISFIED, "")},
            "Mere Tane": {("1.1", Verdict.SATISFIED, mere_said), ("1.4", Verdict.NOT_YET, mere_said)},
            "Sam Patel": {("2.1", Verdict.SATISFIED, "")},
        }
        assert {p.narrative for p in parts.values()} == {
            "The group ran a case conference for a client leaving custody."
        }
        # each part holds its own copy of the file: erasing one trainee's evidence never takes another's
        files = [a for p in parts.values() for a in p.attachments]
        assert len(files) == 3 and len({a.stored_name for a in files}) == 3 and len({a.sha256 for a in files}) == 1
        upload_dir = Path(app.config["UPLOAD_DIR"])
        assert all((upload_dir / a.stored_name).read_bytes() == PDF for a in files)
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "group_observation.record")).one()
        assert json.loads(event.after)["evidence"] == sorted(p.id for p in parts.values())
    page = client.get(f"/observations/group/{group.id}").get_data(as_text=True)
    assert "Case conference role play" in page and all(n in page for n in ("Hemi Walker", "Mere Tane", "Sam Patel"))


def test_each_trainee_sees_only_their_own_part(app, client, world, workshop):
    sign_in(client, "assessor")
    hemi, mere = workshop["Hemi Walker"], workshop["Mere Tane"]
    data = group_form(client, workshop, trainee=[str(hemi), str(mere)], target=["1.1"])
    data[f"c-{mere}"] = "Mere: summarise the plan back to the client."
    assert client.post(form_url(workshop), data=data).status_code == 302
    with app.extensions["database"].sessions() as session:
        group = session.scalars(sa.select(GroupObservation)).one()
        hemis = next(p for p in group.parts if p.trainee.display_name == "Hemi Walker")
        group_id, hemis_id, meres_id = group.id, hemis.id, next(p.id for p in group.parts if p is not hemis)
    hemi_client = app.test_client()
    sign_in(hemi_client, "hemi")
    own = hemi_client.get(f"/evidence/{hemis_id}").get_data(as_text=True)
    assert "Case conference role play" in own and "observed with others" in own
    assert "Mere" not in own and "summarise the plan" not in own
    assert hemi_client.get(f"/evidence/{meres_id}").status_code == 404
    assert hemi_client.get(f"/observations/group/{group_id}").status_code == 404
    # assessor2 assesses none of them: no part, no group
    other = app.test_client()
    sign_in(other, "assessor2")
    assert other.get(f"/observations/group/{group_id}").status_code == 404


def test_a_refused_form_keeps_everything_and_its_file_and_saves_nothing(app, client, world, workshop):
    sign_in(client, "assessor")
    hemi = workshop["Hemi Walker"]
    before = counts(app)
    data = group_form(client, workshop, activity="", narrative="", trainee=[str(hemi)])
    data["attachments"] = (io.BytesIO(PDF), "whiteboard.pdf")
    data[f"c-{hemi}"] = "Kept comment"
    response = client.post(form_url(workshop), data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Name the activity" in page and "Describe what was observed or provided." in page
    assert "Kept from your last try" in page and "whiteboard.pdf" in page and "Kept comment" in page
    assert f'value="{hemi}" checked' in page
    assert counts(app) == before
    # nothing judged: said so, nothing saved
    data = group_form(client, workshop, trainee=[str(hemi)])
    response = client.post(form_url(workshop), data=data)
    assert response.status_code == 400
    assert "Judge at least one criterion or item for at least one trainee." in response.get_data(as_text=True)
    assert counts(app) == before


def test_the_same_form_sent_twice_records_one_observation(app, client, world, workshop):
    sign_in(client, "assessor")
    data = group_form(client, workshop, trainee=[str(workshop["Sam Patel"])], target=["1.2"])
    first = client.post(form_url(workshop), data=data)
    after_first = counts(app)
    second = client.post(form_url(workshop), data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert counts(app) == after_first


def test_cells_for_trainees_outside_the_group_are_ignored(app, client, world, workshop):
    sign_in(client, "assessor")
    ana = workshop["Ana Lee"]
    data = group_form(client, workshop, trainee=[str(ana)], target=["1.1"])
    data[f"v-{ana}-1.1"] = "satisfied"
    before = counts(app)
    response = client.post(form_url(workshop), data=data)
    assert response.status_code == 400 and "Judge at least one criterion" in response.get_data(as_text=True)
    assert counts(app) == before


def test_the_operation_refuses_a_part_the_assessor_may_not_judge_naming_the_trainee(app, world, workshop):
    with app.extensions["database"].sessions() as session:
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        hemi, ana = session.get(Enrolment, workshop["Hemi Walker"]), session.get(Enrolment, workshop["Ana Lee"])
        parts = [
            Part(hemi, {"1.1": Verdict.SATISFIED}),
            Part(ana, {"1.1": Verdict.SATISFIED}),
            Part(hemi, {"9.9": Verdict.NOT_YET}),
        ]
        with pytest.raises(InvalidInput) as refused:
            record_group_observation(
                session, assessor, hemi.unit_version, "Drill", observation(), parts, "0" * 32, today=TODAY
            )
        assert refused.value.problems == {
            "parts": "Each trainee takes part once.",
            f"part-{ana.id}": "You do not assess Ana Lee in Build and maintain effective and respectful relationships in case management.",
            f"part-{hemi.id}": "9.9 is not a criterion or evidence item of us_case_mgmt@1.",
        }
        with pytest.raises(InvalidInput) as refused:
            record_group_observation(
                session,
                assessor,
                hemi.unit_version,
                "x" * 201,
                observation(),
                [Part(hemi, {"1.1": Verdict.SATISFIED})],
                "not a token",
                today=TODAY,
            )
        assert set(refused.value.problems) == {"activity", "submission"}


def test_a_token_from_another_assessors_form_is_refused_not_reused(app, world, workshop):
    with app.extensions["database"].sessions() as session:
        assessor, assessor2 = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("assessor", "assessor2")
        )
        hemi, ana = session.get(Enrolment, workshop["Hemi Walker"]), session.get(Enrolment, workshop["Ana Lee"])
        token = "c" * 32
        record_group_observation(
            session,
            assessor,
            hemi.unit_version,
            "Drill",
            observation(),
            [Part(hemi, {"1.1": Verdict.SATISFIED})],
            token,
            today=TODAY,
        )
        with pytest.raises(InvalidInput) as refused:
            record_group_observation(
                session,
                assessor2,
                ana.unit_version,
                "Drill",
                observation(),
                [Part(ana, {"1.1": Verdict.SATISFIED})],
                token,
                today=TODAY,
            )
        assert refused.value.problems == {"submission": "This form is out of date: open it again."}


def test_the_group_without_a_cohort_holds_only_trainees_without_one(app, client, world, workshop):
    sign_in(client, "assessor")
    unit = workshop["unit"]
    with app.extensions["database"].sessions.begin() as session:
        admin = session.scalar(sa.select(User).where(User.username == "admin"))
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        loner = make_user(session, "loner", Role.TRAINEE, "Lone Trainee")
        enrol(
            session,
            admin,
            loner,
            session.get(Enrolment, workshop["Hemi Walker"]).unit_version,
            [assessor],
            datetime.date(2026, 8, 1),
        )
    page = client.get(f"/observations/group/new?unit={unit}").get_data(as_text=True)
    assert "Lone Trainee" in page and "Hemi Walker" not in page
