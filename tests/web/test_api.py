"""The JSON API through the test client: bearer tokens, problem details, every endpoint's answer, the access policy
as on the web, pages, ETags, limits and writes sent twice."""

from __future__ import annotations

import datetime
import json
import threading

import pytest
import sqlalchemy as sa

from assessor.access_tokens.operations import create_token, revoke_token
from assessor.domain.vocabulary import TokenScope
from assessor.models import ApiToken, AuditEvent, Enrolment, Evidence, User, utcnow
from tests.records.factories import TODAY
from tests.web.conftest import WebWorld

PROBLEM = "application/problem+json"


@pytest.fixture
def token_for(app, world):
    """A factory of tokens: the secret of a new token of the named user's."""

    def make(username: str, scope: TokenScope = TokenScope.READ, days: int = 30) -> str:
        with app.extensions["database"].sessions.begin() as session:
            user = session.scalar(sa.select(User).where(User.username == username))
            return create_token(session, user, f"{username}'s script", scope, days).secret

    return make


@pytest.fixture
def api(app, token_for):
    """A factory of callers: `api("trainee").get(path)` sends the request with a token of the trainee's."""

    class Caller:
        def __init__(self, secret: str):
            self.secret = secret
            self.client = app.test_client()

        def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
            return {"Authorization": f"Bearer {self.secret}", **(extra or {})}

        def get(self, path: str, **headers: str):
            return self.client.get(path, headers=self.headers(headers))

        def post(self, path: str, body: object = None, raw: bytes | None = None, **headers: str):
            data = raw if raw is not None else json.dumps(body).encode()
            content = headers.pop("content_type", "application/json")
            return self.client.post(path, data=data, headers=self.headers(headers), content_type=content)

    def make(username: str, scope: TokenScope = TokenScope.READ) -> Caller:
        return Caller(token_for(username, scope))

    return make


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# --- tokens and the way in ------------------------------------------------------------------------------------------


def test_a_good_token_reads_as_its_owner(api):
    response = api("trainee").get("/api/v1/token")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == "trainee" and body["scope"] == "read" and body["role"] == "trainee"
    assert "Set-Cookie" not in response.headers  # no session on the API
    assert response.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer ", "Bearer asr_not-a-token", "Basic dHJhaW5lZTpwYXNz", "bearer nope", "asr_x"],
)
def test_a_missing_or_bad_token_is_401(app, world, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = app.test_client().get(f"/api/v1/enrolments/{world.open_enrolment}", headers=headers)
    problem_of(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_is_401(app, world, api):
    caller = api("trainee")
    with app.extensions["database"].sessions.begin() as session:
        session.execute(sa.update(ApiToken).values(expires_at=utcnow() - datetime.timedelta(seconds=1)))
    response = caller.get("/api/v1/token")
    problem_of(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_revoked_token_is_401_at_once(app, world, api):
    caller = api("trainee")
    assert caller.get("/api/v1/token").status_code == 200
    with app.extensions["database"].sessions.begin() as session:
        token = session.scalars(sa.select(ApiToken)).one()
        revoke_token(session, token.user, token.id)
    problem_of(caller.get("/api/v1/token"), 401)


def test_a_deactivated_owners_token_is_401(app, world, api):
    caller = api("assessor")
    with app.extensions["database"].sessions.begin() as session:
        session.execute(sa.update(User).where(User.username == "assessor").values(active=False))
    problem_of(caller.get("/api/v1/token"), 401)


def test_a_signed_in_browser_is_not_let_into_the_api(signed_in, world):
    browser = signed_in("assessor")
    problem_of(browser.get(f"/api/v1/enrolments/{world.open_enrolment}"), 401)
    problem_of(browser.post("/api/v1/evidence", json={}), 401)


def test_a_token_opens_no_page_of_the_web(app, world, token_for):
    response = app.test_client().get("/enrolments", headers={"Authorization": f"Bearer {token_for('assessor')}"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_the_last_use_is_kept(app, world, api):
    caller = api("trainee")
    with app.extensions["database"].read_sessions() as session:
        assert session.scalars(sa.select(ApiToken.last_used_at)).one() is None
    caller.get("/api/v1/token")
    with app.extensions["database"].read_sessions() as session:
        assert session.scalars(sa.select(ApiToken.last_used_at)).one() is not None


def test_only_the_hash_of_the_secret_is_kept(app, world, token_for):
    secret = token_for("trainee")
    with app.extensions["database"].read_sessions() as session:
        row = session.scalars(sa.select(ApiToken)).one()
    assert secret not in (row.digest, row.prefix) and secret.startswith(row.prefix) and len(row.prefix) < 16


# --- reads, and who sees what ---------------------------------------------------------------------------------------


def test_units_list_and_one_unit(api):
    caller = api("trainee")
    units = caller.get("/api/v1/units").get_json()["items"]
    assert {u["unit_id"] for u in units} >= {"us_case_mgmt", "cscofm023"}
    one = caller.get(f"/api/v1/units/{units[0]['id']}").get_json()
    assert one["components"] and one["components"][0]["criteria"]
    problem_of(caller.get("/api/v1/units/999999"), 404)


def test_a_trainees_token_reads_their_own_enrolment_and_not_anothers(api, world: WebWorld):
    caller = api("trainee")
    mine = caller.get(f"/api/v1/enrolments/{world.open_enrolment}")
    assert mine.status_code == 200
    body = mine.get_json()
    assert body["trainee"]["username"] == "trainee" and body["targets"]
    assert {"1.1"} <= {t["target"] for t in body["targets"] if t["evidence_ids"]}
    problem_of(caller.get(f"/api/v1/enrolments/{world.other_enrolment}"), 404)
    problem_of(caller.get(f"/api/v1/enrolments/{world.other_enrolment}/evidence"), 404)
    problem_of(caller.get(f"/api/v1/evidence/{world.other_evidence}"), 404)
    listed = {e["id"] for e in caller.get("/api/v1/enrolments").get_json()["items"]}
    assert world.open_enrolment in listed and world.other_enrolment not in listed


def test_evidence_with_its_mappings_and_judgements(api, world: WebWorld):
    caller = api("assessor")
    page = caller.get(f"/api/v1/enrolments/{world.open_enrolment}/evidence").get_json()
    found = next(e for e in page["items"] if e["id"] == world.open_evidence)
    assert found["mappings"] == [
        {
            "enrolment_id": world.open_enrolment,
            "target": "1.1",
            "kind": "criterion",
            "verdict": "satisfied",
            "comment": "",
            "judged_by": found["mappings"][0]["judged_by"],
            "judged_at": found["mappings"][0]["judged_at"],
            "version": 1,
        }
    ]
    assert found["mappings"][0]["judged_by"]["username"] == "assessor"
    assert len(found["attachments"]) == 2
    assert caller.get(f"/api/v1/evidence/{world.open_evidence}").get_json() == found


def test_cohorts_for_those_who_run_them(api, world: WebWorld):
    coordinator = api("coordinator")
    listed = coordinator.get("/api/v1/cohorts").get_json()["items"]
    assert [c["id"] for c in listed] == [world.cohort]
    assert coordinator.get(f"/api/v1/cohorts/{world.cohort}").get_json()["enrolments"] >= 1
    problem_of(coordinator.get(f"/api/v1/cohorts/{world.other_cohort}"), 404)
    problem_of(api("trainee").get("/api/v1/cohorts"), 404)
    in_cohort = coordinator.get(f"/api/v1/enrolments?cohort={world.cohort}").get_json()["items"]
    assert in_cohort and all(e["cohort_id"] == world.cohort for e in in_cohort)


def test_completion_records(api, world: WebWorld):
    mine = api("trainee").get("/api/v1/records").get_json()["items"]
    assert [r["id"] for r in mine] == [world.record]
    one = api("trainee").get(f"/api/v1/records/{world.record}").get_json()
    assert one["verification_code"] == world.code and one["revocation"] is None and one["snapshot"]
    assert api("trainee2").get("/api/v1/records").get_json()["items"] == []
    problem_of(api("trainee2").get(f"/api/v1/records/{world.record}"), 404)


# --- pages and tags -------------------------------------------------------------------------------------------------


def test_a_cursor_goes_round_every_page_once(api, world: WebWorld):
    caller = api("admin")
    everything = [e["id"] for e in caller.get("/api/v1/enrolments?limit=100").get_json()["items"]]
    assert len(everything) >= 3
    seen, cursor = [], None
    while True:
        path = "/api/v1/enrolments?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = caller.get(path).get_json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything == sorted(everything)


@pytest.mark.parametrize("cursor", ["garbage", "end", "W10", "WzAsMCwxXQ", "x" * 3000, "WzEsMCw5OTk5OTk5OTk5OTk5XQ"])
def test_a_forged_cursor_is_a_400_problem(api, cursor):
    problem_of(api("admin").get(f"/api/v1/enrolments?cursor={cursor}"), 400)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1e2", "²", "\uff15", "1" * 30])
def test_a_page_size_out_of_bounds_is_a_400_problem(api, limit):
    assert "limit" in problem_of(api("admin").get(f"/api/v1/units?limit={limit}"), 400)["detail"]


@pytest.mark.parametrize("cohort", ["²", "0", str(2**31), "x"])
def test_a_cohort_filter_that_is_no_id_is_a_400_problem(api, cohort):
    assert "cohort" in problem_of(api("admin").get(f"/api/v1/enrolments?cohort={cohort}"), 400)["detail"]


def test_an_unchanged_answer_is_304_and_a_change_gives_a_new_tag(app, api, world: WebWorld):
    caller = api("trainee")
    path = f"/api/v1/enrolments/{world.open_enrolment}"
    first = caller.get(path)
    tag = first.headers["ETag"]
    again = caller.get(path, **{"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    acknowledged = api("trainee", TokenScope.WRITE).post(f"/api/v1/evidence/{world.open_evidence}/acknowledgement")
    assert acknowledged.status_code == 200
    assert caller.get(path, **{"If-None-Match": tag}).status_code == 200  # the audit trail moved on
    assert api("trainee").get(path, **{"If-None-Match": tag}).status_code == 200  # another token: another tag


# --- writes ---------------------------------------------------------------------------------------------------------


def evidence_body(world: WebWorld, **changes: object) -> dict:
    return {
        "trainee_id": world.trainee_id,
        "method": "direct_observation",
        "context": "workplace",
        "observed_on": TODAY.isoformat(),
        "narrative": "Ran a case conference with the whānau.",
        "mappings": [
            {"enrolment_id": world.open_enrolment, "target": "1.2", "verdict": "satisfied", "comment": "Clear."}
        ],
        **changes,
    }


def test_record_evidence_audited_under_the_tokens_owner(app, api, world: WebWorld):
    response = api("assessor", TokenScope.WRITE).post(
        "/api/v1/evidence", evidence_body(world), **{"Idempotency-Key": "first-write"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/evidence/{body['id']}"
    assert body["mappings"][0]["verdict"] == "satisfied" and body["mappings"][0]["comment"] == "Clear."
    with app.extensions["database"].read_sessions() as session:
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        events = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.entity_type == "evidence", AuditEvent.entity_id == str(body["id"]))
        ).all()
    assert [e.action for e in events] == ["evidence.record", "mapping.add"]
    assert {e.actor_id for e in events} == {assessor.id}


def test_a_write_sent_twice_with_its_key_is_done_once(app, api, world: WebWorld):
    caller = api("assessor", TokenScope.WRITE)
    first = caller.post("/api/v1/evidence", evidence_body(world), **{"Idempotency-Key": "k-1"})
    second = caller.post("/api/v1/evidence", evidence_body(world), **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert first.headers["Location"] == second.headers["Location"]
    assert first.get_json() == second.get_json()
    with app.extensions["database"].read_sessions() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Evidence)
                .where(Evidence.narrative == "Ran a case conference with the whānau.")
            )
            == 1
        )
    other = caller.post("/api/v1/evidence", evidence_body(world, narrative="Else."), **{"Idempotency-Key": "k-1"})
    assert "Idempotency-Key" in problem_of(other, 422)["errors"]


def test_a_write_without_a_key_is_refused(api, world: WebWorld):
    assert (
        "Idempotency-Key"
        in problem_of(api("assessor", TokenScope.WRITE).post("/api/v1/evidence", evidence_body(world)), 400)["detail"]
    )


def test_a_read_token_cannot_write(api, world: WebWorld):
    response = api("assessor").post("/api/v1/evidence", evidence_body(world), **{"Idempotency-Key": "k"})
    problem_of(response, 403)


def test_writes_follow_the_policy(api, world: WebWorld):
    # assessor2 assesses neither trainee: the trainee is not found for them.
    refused = api("assessor2", TokenScope.WRITE).post(
        "/api/v1/evidence", evidence_body(world), **{"Idempotency-Key": "a"}
    )
    problem_of(refused, 404)
    # A trainee submits their own evidence, and may not judge it.
    trainee = api("trainee", TokenScope.WRITE)
    judged = trainee.post("/api/v1/evidence", evidence_body(world), **{"Idempotency-Key": "b"})
    problem_of(judged, 403)
    unjudged = evidence_body(world, mappings=[{"enrolment_id": world.open_enrolment, "target": "1.2"}])
    assert trainee.post("/api/v1/evidence", unjudged, **{"Idempotency-Key": "c"}).status_code == 201
    problem_of(
        trainee.post(
            "/api/v1/evidence", evidence_body(world, trainee_id=world.trainee2_id), **{"Idempotency-Key": "d"}
        ),
        404,
    )
    problem_of(api("trainee2", TokenScope.WRITE).post(f"/api/v1/evidence/{world.open_evidence}/acknowledgement"), 404)


def test_what_the_operation_refuses_is_a_422_saying_which_field(api, world: WebWorld):
    future = evidence_body(world, observed_on=(datetime.date.today() + datetime.timedelta(days=30)).isoformat())
    body = problem_of(
        api("assessor", TokenScope.WRITE).post("/api/v1/evidence", future, **{"Idempotency-Key": "f"}), 422
    )
    assert "observed_on" in body["errors"]


@pytest.mark.parametrize(
    "changes",
    [
        {"narrative": ""},
        {"narrative": "x" * 20_001},
        {"location": "y" * 201},
        {"method": "telepathy"},
        {"trainee_id": 0},
        {"trainee_id": 2**63},
        {"surprise": 1},
        {"mappings": [{"enrolment_id": 1, "target": "1.1", "verdict": "maybe"}]},
    ],
)
def test_a_body_that_breaks_a_rule_is_a_422_naming_the_field(api, world: WebWorld, changes):
    body = problem_of(
        api("assessor", TokenScope.WRITE).post(
            "/api/v1/evidence", evidence_body(world, **changes), **{"Idempotency-Key": "g"}
        ),
        422,
    )
    assert body["errors"]


def test_malformed_json_is_400_and_not_json_is_415(api, world: WebWorld):
    caller = api("assessor", TokenScope.WRITE)
    problem_of(caller.post("/api/v1/evidence", raw=b'{"trainee_id": ', **{"Idempotency-Key": "h"}), 400)
    # Otherwise a good body, whose narrative holds half a surrogate pair (JSON escapes it as \\ud800).
    lone_surrogate = json.dumps(evidence_body(world, narrative="Half a pair: \ud800")).encode()
    problem_of(caller.post("/api/v1/evidence", raw=lone_surrogate, **{"Idempotency-Key": "h"}), 400)
    problem_of(
        caller.post(
            "/api/v1/evidence",
            raw=b"trainee_id=1",
            content_type="application/x-www-form-urlencoded",
            **{"Idempotency-Key": "h"},
        ),
        415,
    )


def test_an_oversized_body_is_413(api, world: WebWorld):
    huge = json.dumps(evidence_body(world, narrative="z" * 2_000_000)).encode()
    problem_of(api("assessor", TokenScope.WRITE).post("/api/v1/evidence", raw=huge, **{"Idempotency-Key": "i"}), 413)


def test_acknowledge_twice_records_once(app, api, world: WebWorld):
    caller = api("trainee", TokenScope.WRITE)
    path = f"/api/v1/evidence/{world.open_evidence}/acknowledgement"
    assert caller.post(path).get_json()["acknowledged"] is True
    assert caller.post(path).status_code == 200
    with app.extensions["database"].read_sessions() as session:
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "evidence.acknowledge")).all()
    assert len(actions) == 1


def test_enrol_through_the_api(app, api, world: WebWorld):
    with app.extensions["database"].read_sessions() as session:
        assessor = session.scalar(sa.select(User).where(User.username == "assessor"))
        unit_version_id = session.get_one(Enrolment, world.other_enrolment).unit_version_id
        new_trainee_enrolments = session.scalars(
            sa.select(Enrolment.unit_version_id).where(Enrolment.trainee_id == world.trainee2_id)
        ).all()
    body = {
        "trainee_id": world.trainee2_id,
        "unit_version_id": unit_version_id,
        "cohort_id": world.other_cohort,
        "assessor_ids": [assessor.id],
        "start_date": TODAY.isoformat(),
    }
    assert unit_version_id in new_trainee_enrolments
    # trainee2 is enrolled in that unit already: refused, saying so; and a coordinator of another cohort finds nothing.
    assert "unit" in problem_of(api("admin", TokenScope.WRITE).post("/api/v1/enrolments", body), 422)["errors"]
    problem_of(api("coordinator", TokenScope.WRITE).post("/api/v1/enrolments", body), 404)


def test_a_write_sent_twice_at_once_is_done_once(app, api, world: WebWorld):
    caller = api("assessor", TokenScope.WRITE)
    answers = []

    def send():
        client = app.test_client()
        answers.append(
            client.post(
                "/api/v1/evidence",
                json=evidence_body(world, narrative="Sent twice at once."),
                headers=caller.headers({"Idempotency-Key": "at-once"}),
            )
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    with app.extensions["database"].read_sessions() as session:
        count = sa.select(sa.func.count()).select_from(Evidence).where(Evidence.narrative == "Sent twice at once.")
        assert session.scalar(count) == 1


def test_http_refusals_are_problems_too(api):
    caller = api("admin")
    problem_of(caller.client.put("/api/v1/units", headers=caller.headers()), 405)
    problem_of(caller.get("/api/v1/no-such-thing"), 404)
    problem_of(caller.get(f"/api/v1/enrolments/{2**40}"), 404)
