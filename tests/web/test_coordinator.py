"""Coordinators: cohorts, the dashboard and heat map, people, enrolment, assignment and withdrawal; trainees' own
evidence."""

from __future__ import annotations

import re

import sqlalchemy as sa

from assessor.domain.vocabulary import EnrolmentStatus
from assessor.models import AuditEvent, Enrolment, Evidence, User
from tests.records.factories import TODAY, build_cohort, build_world
from tests.web.conftest import csrf_token, sign_in


def test_dashboard_counts_and_heat_map_drill_down(signed_in, world):
    client = signed_in("coordinator")
    page = client.get(f"/cohorts/{world.cohort}").get_data(as_text=True)
    assert re.search(r"<dt>Completed</dt><dd>1</dd>", page)
    assert re.search(r"<dt>Active</dt><dd>1</dd>", page)
    # Trainee's NZQA unit is signed off: both outcomes full; CSCOFM023 has 1 of 9 criteria in element 1.
    assert f'href="/enrolments/{world.completed_enrolment}#component-1">100%' in page
    assert f'href="/enrolments/{world.open_enrolment}#component-1">11%' in page
    assert 'class="heat heat-4"' in page and 'class="heat heat-0"' in page


def test_enrolments_gone_quiet_are_flagged(app, signed_in, world):
    app.config["STALE_AFTER_DAYS"] = 0
    page = signed_in("coordinator").get(f"/cohorts/{world.cohort}").get_data(as_text=True)
    assert page.count('class="stale"') == 1  # the open enrolment, not the completed one


def test_coordinator_creates_a_trainee_but_not_an_admin(app, signed_in, world):
    client = signed_in("coordinator")
    token = csrf_token(client, "/people/new")
    made = client.post(
        "/people/new",
        data={
            "csrf_token": token,
            "username": "Mere",
            "display_name": "Mere Tūhoe",
            "email": "",
            "role": "trainee",
        },
    )
    # No e-mail address: the page to print, with the code to set a first password.
    assert made.status_code == 200 and "Enter this code" in made.get_data(as_text=True)
    refused = client.post(
        "/people/new",
        data={
            "csrf_token": token,
            "username": "boss",
            "display_name": "Boss",
            "role": "admin",
        },
    )
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)
    with app.extensions["database"].sessions() as session:
        assert session.scalars(sa.select(User.display_name).where(User.username == "mere")).one() == "Mere Tūhoe"
        assert session.scalar(sa.select(User.id).where(User.username == "boss")) is None


def test_enrol_assign_and_withdraw(app, signed_in, world):
    client = signed_in("coordinator")
    token = csrf_token(client, "/people/new")
    client.post(
        "/people/new",
        data={
            "csrf_token": token,
            "username": "kim",
            "display_name": "Kim Ngāti",
            "role": "trainee",
        },
    )
    with app.extensions["database"].sessions() as session:
        trainee2 = session.scalars(sa.select(User).where(User.username == "kim")).one()
        assessor2 = session.scalars(sa.select(User.id).where(User.username == "assessor2")).one()
        nz_version = session.get(Enrolment, world.completed_enrolment).unit_version_id
        csc_version = session.get(Enrolment, world.open_enrolment).unit_version_id
    url = f"/cohorts/{world.cohort}/enrol"
    token = csrf_token(client, url)
    deleted = client.post(
        url,
        data={
            "csrf_token": token,
            "trainee": trainee2.id,
            "unit_version": csc_version,
            "assessors": [assessor2],
            "start_date": TODAY.isoformat(),
        },
    )
    assert deleted.status_code == 400 and "CSCOFM023 was deleted on 2021-01-24" in deleted.get_data(as_text=True)
    done = client.post(
        url,
        data={
            "csrf_token": token,
            "trainee": trainee2.id,
            "unit_version": nz_version,
            "assessors": [assessor2],
            "start_date": TODAY.isoformat(),
        },
    )
    assert done.status_code == 302
    new_id = int(done.headers["Location"].rsplit("/", 1)[1])

    assert (
        client.post(f"/enrolments/{new_id}/assessors", data={"csrf_token": token, "assessors": []}).status_code == 302
    )
    client.post(f"/enrolments/{new_id}/withdraw", data={"csrf_token": token, "reason": "Moved to another region."})
    with app.extensions["database"].sessions() as session:
        enrolment = session.get(Enrolment, new_id)
        assert [a.username for a in enrolment.assessors] == ["assessor2"]
        assert enrolment.status == EnrolmentStatus.WITHDRAWN
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "enrolment.withdraw")).one()
        assert "Moved to another region." in event.after


def test_trainee_submits_evidence_for_review(app, signed_in, world):
    trainee = signed_in("trainee")
    form = trainee.get("/my/evidence/new").get_data(as_text=True)
    assert "Submit your own evidence" in form and 'value="satisfied"' not in form
    data = {
        "csrf_token": csrf_token(trainee, "/my/evidence/new"),
        "observed_on": TODAY.isoformat(),
        "method": "work_product",
        "context": "workplace",
        "narrative": "My written reflection on the case conference.",
        f"v-{world.open_enrolment}-1.4": "mapped",
    }
    response = trainee.post("/my/evidence/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    forged = trainee.post("/my/evidence/new", data={**data, f"v-{world.open_enrolment}-1.4": "satisfied"})
    assert forged.status_code == 302  # an unknown choice is ignored: nothing is judged
    with app.extensions["database"].sessions() as session:
        submitted = session.scalars(
            sa.select(Evidence).where(Evidence.submitted_by_trainee.is_(True)).order_by(Evidence.id)
        ).all()
        assert [(m.target, m.verdict) for m in submitted[0].mappings] == [("1.4", None)]
        assert submitted[1].mappings == []
    assessor_page = signed_in("assessor").get(f"/enrolments/{world.open_enrolment}").get_data(as_text=True)
    assert "Awaiting judgement" in assessor_page


def test_trainee_cannot_submit_evidence_for_another_trainee(app, signed_in, world):
    trainee2 = signed_in("trainee2")
    data = {
        "csrf_token": csrf_token(trainee2, "/my/evidence/new"),
        "observed_on": TODAY.isoformat(),
        "method": "work_product",
        "context": "workplace",
        "narrative": "Sneaky.",
        f"v-{world.open_enrolment}-1.4": "mapped",
    }
    trainee2.post("/my/evidence/new", data=data)
    with app.extensions["database"].sessions() as session:
        mapped = session.scalars(sa.select(Evidence).where(Evidence.narrative == "Sneaky.")).one().mappings
    assert mapped == []  # the other trainee's enrolment is not in their checklist, so nothing was mapped


def test_a_large_cohorts_heat_map_comes_in_pages_under_counts_of_the_whole_cohort(make_app):
    app = make_app(HEAT_MAP_ROWS_PER_PAGE=4)
    with app.extensions["database"].sessions.begin() as session:
        enrolments = build_cohort(session, build_world(session, app.extensions["catalogue"]), 6, "Big intake")
        cohort_id = enrolments[0].cohort_id
    client = app.test_client()
    sign_in(client, "coordinator")
    heat_rows = re.compile(r'<th scope="row"><a href="/enrolments/(\d+)">')
    pages = {n: client.get(f"/cohorts/{cohort_id}?page={n}").get_data(as_text=True) for n in (1, 2, 99, 0)}
    assert "Enrolments 1–4 of 6, by trainee name (page 1 of 2)" in pages[1]
    assert "Enrolments 5–6 of 6" in pages[2] and "Enrolments 5–6 of 6" in pages[99]  # past the end: the last page
    assert "Enrolments 1–4 of 6" in pages[0]
    shown = heat_rows.findall(pages[1]) + heat_rows.findall(pages[2])
    assert sorted(map(int, shown)) == sorted(e.id for e in enrolments)
    for page in pages.values():  # the counts are the whole cohort's on every page
        assert re.search(r"<dt>Active</dt><dd>6</dd>", page)
    assert 'rel="next"' in pages[1] and 'rel="prev"' not in pages[1] and 'rel="prev"' in pages[2]


def test_the_enrol_form_offers_the_cohorts_trainees_first_and_assessors_as_ticks(app, signed_in, world):
    client = signed_in("coordinator")
    client.post(
        "/people/new",
        data={
            "csrf_token": csrf_token(client, "/people/new"),
            "username": "kim",
            "display_name": "Kim",
            "role": "trainee",
        },
    )
    page = client.get(f"/cohorts/{world.cohort}/enrol").get_data(as_text=True)
    ours, others = page.index('<optgroup label="In Intake A">'), page.index('<optgroup label="Other trainees">')
    assert ours < page.index(">Trainee (trainee)<") < others < page.index(">Kim (kim)<")
    assert len(re.findall(r'<input[^>]*name="assessors" type="checkbox"', page)) == 2
    assert "<legend>Assessors</legend>" in page and "Ctrl" not in page
    manage = client.get(f"/enrolments/{world.open_enrolment}").get_data(as_text=True)
    ticked = re.findall(r'<input([^>]*)name="assessors" type="checkbox"([^>]*)>', manage)
    assert sorted("checked" in "".join(t) for t in ticked) == [False, True]  # the enrolment's one assessor


def test_heat_map_columns_are_named_by_component_title(signed_in, world):
    page = signed_in("coordinator").get(f"/cohorts/{world.cohort}").get_data(as_text=True)
    assert re.search(r'<th scope="col" class="component-head"><span class="muted">Element 1</span> \w+', page)
