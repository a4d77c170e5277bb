"""Deny by default: every route, for every kind of user, against records that are not theirs."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assessor.access import rule_of
from assessor.models import AuditEvent, Evidence
from tests.web.conftest import WebWorld, csrf_token, sign_in

USERS = ["anonymous", "trainee", "trainee2", "assessor", "assessor2", "coordinator", "admin"]
EVERYONE = set(USERS)
SIGNED_IN = EVERYONE - {"anonymous"}
# Who may see or do what to `trainee`'s records: the trainee, their assessor, the coordinator of their cohort, admins.
CONCERNED = {"trainee", "assessor", "coordinator", "admin"}
MANAGERS = {"coordinator", "admin"}

# Public pages whose answer to a visitor is to go and sign in.
SENDS_TO_SIGN_IN = {"index", "auth.sign_in_post"}

# endpoint -> (method, URL for `trainee`'s records, who is allowed)
ROUTES: dict[str, tuple[str, str, set[str]]] = {
    "index": ("GET", "/", EVERYONE),
    "standards.list_units": ("GET", "/standards/", EVERYONE),
    "standards.show_unit": ("GET", "/standards/cscofm023/v1", EVERYONE),
    "auth.sign_in": ("GET", "/sign-in", EVERYONE),
    "auth.sign_in_post": ("POST", "/sign-in", EVERYONE),
    "auth.sign_out": ("POST", "/sign-out", SIGNED_IN),
    "home.enrolments": ("GET", "/enrolments", SIGNED_IN),
    "assessing.enrolment": ("GET", "/enrolments/{w.open_enrolment}", CONCERNED),
    "assessing.matrix": ("GET", "/enrolments/{w.open_enrolment}/matrix", CONCERNED),
    "assessing.new_evidence": ("GET", "/trainees/{w.trainee_id}/evidence/new", {"assessor"}),
    "assessing.new_evidence_post": ("POST", "/trainees/{w.trainee_id}/evidence/new", {"assessor"}),
    "assessing.evidence": ("GET", "/evidence/{w.open_evidence}", CONCERNED),
    "assessing.edit_evidence": ("GET", "/evidence/{w.open_evidence}/edit", {"assessor"}),
    "assessing.edit_evidence_post": ("POST", "/evidence/{w.open_evidence}/edit", {"assessor"}),
    "assessing.acknowledge": ("POST", "/evidence/{w.open_evidence}/acknowledge", {"trainee"}),
    "assessing.attachment": ("GET", "/attachments/{w.attachment}", CONCERNED),
    "records.sign_off": ("GET", "/enrolments/{w.open_enrolment}/sign-off", {"assessor"}),
    "records.sign_off_post": ("POST", "/enrolments/{w.open_enrolment}/sign-off", {"assessor"}),
    "records.record": ("GET", "/records/{w.record}", CONCERNED),
    "records.revoke": ("POST", "/records/{w.record}/revoke", {"coordinator", "admin"}),
    "records.verify_form": ("GET", "/verify", EVERYONE),
    "records.verify": ("GET", "/verify/{w.code}", EVERYONE),
    "assessing.submit_evidence": ("GET", "/my/evidence/new", {"trainee", "trainee2"}),
    "assessing.submit_evidence_post": ("POST", "/my/evidence/new", {"trainee", "trainee2"}),
    "cohorts.cohorts": ("GET", "/cohorts", MANAGERS),
    "cohorts.create_cohort": ("POST", "/cohorts", MANAGERS),
    "cohorts.dashboard": ("GET", "/cohorts/{w.cohort}", MANAGERS),
    "cohorts.enrol": ("GET", "/cohorts/{w.cohort}/enrol", MANAGERS),
    "cohorts.enrol_post": ("POST", "/cohorts/{w.cohort}/enrol", MANAGERS),
    "cohorts.assign": ("POST", "/enrolments/{w.open_enrolment}/assessors", MANAGERS),
    "cohorts.withdraw": ("POST", "/enrolments/{w.open_enrolment}/withdraw", MANAGERS),
    "cohorts.new_person": ("GET", "/people/new", MANAGERS),
    "cohorts.new_person_post": ("POST", "/people/new", MANAGERS),
    "transfer.import_form": ("GET", "/import", MANAGERS),
    "transfer.import_preview": ("POST", "/import", MANAGERS),
    "transfer.import_confirm": ("POST", "/import/confirm", MANAGERS),
    "transfer.exports": ("GET", "/exports", MANAGERS),
    "transfer.export": ("GET", "/exports/progress.xlsx?cohort={w.cohort}", MANAGERS),
    "admin.users": ("GET", "/admin/users", {"admin"}),
    "admin.set_active": ("POST", "/admin/users/{w.trainee_id}/active", {"admin"}),
}


def test_every_route_declares_who_may_use_it_and_is_in_this_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    undeclared = sorted(e for e in endpoints if rule_of(app, e) is None)
    assert undeclared == [], f"views without an access rule: {undeclared}"
    assert sorted(endpoints - set(ROUTES)) == [], "routes missing from the access matrix"
    assert sorted(set(ROUTES) - endpoints) == []


def test_a_route_without_a_declared_rule_is_refused(app, client):
    app.add_url_rule("/undeclared", endpoint="undeclared", view_func=lambda: "secret")
    assert client.get("/undeclared").status_code == 404


@pytest.mark.parametrize("user", USERS)
def test_access_matrix(app, world: WebWorld, user):
    client = app.test_client()
    if user != "anonymous":
        assert sign_in(client, user).status_code == 302
    token = csrf_token(client, "/sign-in" if user == "anonymous" else "/enrolments")
    failures = []
    for endpoint, (method, template, allowed) in ROUTES.items():
        if endpoint == "auth.sign_out":
            continue  # signing out would end this client's session; tested on its own
        url = template.format(w=world)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        refused = response.status_code == 404 or (
            response.status_code == 302 and response.headers["Location"].startswith("/sign-in") and endpoint not in SENDS_TO_SIGN_IN
        )
        if user in allowed and refused:
            failures.append(f"{user} was refused {method} {url} ({response.status_code})")
        if user not in allowed and not refused:
            failures.append(f"{user} reached {method} {url} ({response.status_code})")
        response.close()
    assert failures == []


@pytest.mark.parametrize("user", ["trainee2", "assessor2"])
def test_another_trainees_records_are_unreachable_by_any_url(app, world: WebWorld, user):
    client = app.test_client()
    sign_in(client, user)
    for url in [
        f"/enrolments/{world.completed_enrolment}", f"/enrolments/{world.open_enrolment}/matrix", f"/evidence/{world.open_evidence}",
        f"/attachments/{world.attachment}", f"/records/{world.record}", f"/evidence/{world.open_evidence}/edit",
    ]:
        assert client.get(url).status_code == 404, url
    listing = client.get("/enrolments").get_data(as_text=True)
    assert f"/enrolments/{world.open_enrolment}" not in listing


def test_coordinator_sees_only_their_cohorts(app, world: WebWorld):
    client = app.test_client()
    sign_in(client, "coordinator")
    assert client.get(f"/enrolments/{world.open_enrolment}").status_code == 200
    assert client.get(f"/enrolments/{world.other_enrolment}").status_code == 404
    assert client.get(f"/evidence/{world.other_evidence}").status_code == 404


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(app, world: WebWorld):
    engine = app.extensions["database"].engine

    def snapshot():
        with engine.connect() as connection:
            return (
                connection.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one(),
                connection.execute(sa.select(Evidence.narrative, Evidence.version).order_by(Evidence.id)).all(),
            )

    before = snapshot()
    posts = [(endpoint, template) for endpoint, (method, template, _) in ROUTES.items() if method == "POST"]
    assert {e for e, _ in posts} == {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or set())}
    for user in ("assessor", "coordinator", "admin", "trainee"):  # every POST is someone's
        client = app.test_client()
        sign_in(client, user)
        for endpoint, template in posts:
            response = client.post(template.format(w=world), data={"narrative": "forged", "reason": "forged", "active": "0", "username": "admin", "password": "x"})
            assert response.status_code in (400, 404), (user, endpoint, response.status_code)
    assert snapshot() == before
