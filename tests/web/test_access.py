"""Deny by default: every route, for every kind of user, against records that are theirs and records that are not,
checked against the access policy itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.access_tokens.operations import create_token
from assessor.core import access
from assessor.core.access import PUBLIC, SIGNED_IN, rule_of, scope_of
from assessor.credentials.keys import seed_from_hex
from assessor.credentials.proof import public_multibase
from assessor.domain import case, policy
from assessor.domain.vocabulary import TokenScope
from assessor.models import (
    ApiToken,
    Attachment,
    AuditEvent,
    Cohort,
    CompletionRecord,
    Enrolment,
    Evidence,
    GroupObservation,
    Job,
    ReviewDecision,
    SampleReview,
    User,
    UserSession,
)
from assessor.standards.queries import unit_of
from tests.server import TEST_CREDENTIAL_KEY
from tests.web.conftest import WebWorld, build_web_world, csrf_token, sign_in, with_group_observations

USERS = ["anonymous", "trainee", "trainee2", "assessor", "assessor2", "coordinator", "admin", "qa"]

# Public pages whose answer to a visitor is to go and sign in.
SENDS_TO_SIGN_IN = {"index", "accounts.sign_in_post", "accounts.second_step"}

Question = Callable[[so.Session, policy.Actor, int], bool]


def _enrolment(rule: Callable[[policy.Actor, policy.EnrolmentFacts], bool]) -> Question:
    return lambda s, actor, i: rule(actor, access.enrolment_facts(s.get_one(Enrolment, i)))


def _evidence(rule: Callable[[policy.Actor, policy.EvidenceFacts], bool]) -> Question:
    return lambda s, actor, i: rule(actor, access.evidence_facts(s, s.get_one(Evidence, i)))


def _record(rule: Callable[[policy.Actor, policy.EnrolmentFacts], bool]) -> Question:
    return lambda s, actor, i: rule(actor, access.enrolment_facts(s.get_one(CompletionRecord, i).enrolment))


def _review(rule: Callable[[policy.Actor, policy.EnrolmentFacts, frozenset[int]], bool]) -> Question:
    def ask(s: so.Session, actor: policy.Actor, i: int) -> bool:
        enrolment = s.get_one(SampleReview, i).enrolment
        return rule(actor, access.enrolment_facts(enrolment), access.assessed_by(s, enrolment.id))

    return ask


def _decision(rule: Callable[[policy.Actor, policy.EnrolmentFacts, frozenset[int]], bool]) -> Question:
    return lambda s, actor, i: _review(rule)(s, actor, s.get_one(ReviewDecision, i).review_id)


def _sees_review(s: so.Session, actor: policy.Actor, i: int) -> bool:
    enrolment = s.get_one(SampleReview, i).enrolment
    return policy.may_see_quality_reports(actor) and policy.may_see_enrolment(actor, access.enrolment_facts(enrolment))


def _cohort(s: so.Session, actor: policy.Actor, i: int) -> bool:
    return policy.may_run_cohort(actor, access.cohort_facts(s.get_one(Cohort, i)))


def _logbook(s: so.Session, actor: policy.Actor, i: int) -> bool:
    """The logbook of an enrolment whose unit asks for hours, to whoever sees the enrolment."""
    enrolment = s.get_one(Enrolment, i)
    has_one = unit_of(enrolment.unit_version).logbook is not None
    return has_one and policy.may_see_enrolment(actor, access.enrolment_facts(enrolment))


def _credits(s: so.Session, actor: policy.Actor, i: int) -> bool:
    enrolment = s.get_one(Enrolment, i)
    trainee_enrolments = tuple(access.trainee_enrolment_facts(s, enrolment.trainee_id).values())
    return policy.may_see_enrolment(actor, access.enrolment_facts(enrolment)) and policy.may_record_credit(
        actor, trainee_enrolments
    )


PUBLIC_KEY = public_multibase(seed_from_hex(TEST_CREDENTIAL_KEY, "the test key").public_key())

# The policy question each route with a record in its URL asks, by endpoint: a new route must say which it asks.
QUESTIONS: dict[str, Question] = {
    "progress.enrolment": _enrolment(policy.may_see_enrolment),
    "progress.matrix": _enrolment(policy.may_see_enrolment),
    "records.sign_off": _enrolment(policy.may_assess),
    "records.sign_off_post": _enrolment(policy.may_assess),
    "cohorts.assign": _enrolment(policy.may_manage_enrolment),
    "cohorts.withdraw": _enrolment(policy.may_manage_enrolment),
    "logbook.logbook": _logbook,
    "logbook.log": _logbook,
    "logbook.verify": _logbook,
    "credits.record": _credits,
    "credits.withdraw": _credits,
    "carry_over.enrolment": _enrolment(policy.may_manage_enrolment),
    "carry_over.enrolment_post": _enrolment(policy.may_manage_enrolment),
    "carry_over.cohort": _cohort,
    "carry_over.cohort_post": _cohort,
    "evidence.evidence": _evidence(policy.may_see_evidence),
    "evidence.edit_evidence": _evidence(policy.may_edit_evidence),
    "evidence.edit_evidence_post": _evidence(policy.may_edit_evidence),
    "evidence.acknowledge": _evidence(policy.may_acknowledge),
    "evidence.attachment": lambda s, actor, i: policy.may_see_evidence(
        actor, access.evidence_facts(s, s.get_one(Attachment, i).evidence)
    ),
    "records.record": _record(policy.may_see_enrolment),
    "records.record_pdf_download": _record(policy.may_see_enrolment),
    "records.revoke": _record(policy.may_manage_enrolment),
    "cohorts.dashboard": _cohort,
    "cohorts.enrol": _cohort,
    "cohorts.enrol_post": _cohort,
    "transfer.export": _cohort,  # with ?cohort=
    "evidence.new_evidence": lambda s, actor, i: policy.may_record_evidence(
        actor, tuple(access.trainee_enrolment_facts(s, i).values())
    ),
    "evidence.new_evidence_post": lambda s, actor, i: policy.may_record_evidence(
        actor, tuple(access.trainee_enrolment_facts(s, i).values())
    ),
    "accounts.set_active": lambda s, actor, i: policy.may_manage_accounts(actor),
    "accounts.edit_user": lambda s, actor, i: policy.may_manage_accounts(actor),
    "accounts.remove_two_factor": lambda s, actor, i: policy.may_manage_accounts(actor),
    "accounts.end_session": lambda s, actor, i: s.get_one(UserSession, i).user_id == actor.id,  # one's own only
    "accounts.invite": lambda s, actor, i: policy.may_create_account(actor, s.get_one(User, i).role),
    "accounts.print_code": lambda s, actor, i: policy.may_create_account(actor, s.get_one(User, i).role),
    "accounts.reset": lambda s, actor, i: True,  # public: the secret in the URL is the key
    "accounts.welcome": lambda s, actor, i: True,
    "mail.message": lambda s, actor, i: policy.may_manage_accounts(actor),
    "records.verify": lambda s, actor, i: True,
    "credentials.download": _record(policy.may_take_credential),
    "credentials.key": lambda s, actor, i: True,  # public: the issuer's keys
    "credentials.status_list": lambda s, actor, i: True,  # public: the revocation list
    "standards.show_unit": lambda s, actor, i: True,
    # A loaded unit version, as the URL values below name: anyone reads it.
    "case.document": lambda s, actor, i: policy.may_read_unit(actor, policy.UnitFacts(loaded=True)),
    "case.package": lambda s, actor, i: policy.may_read_unit(actor, policy.UnitFacts(loaded=True)),
    "case.item": lambda s, actor, i: policy.may_read_unit(actor, policy.UnitFacts(loaded=True)),
    "case.association": lambda s, actor, i: policy.may_read_unit(actor, policy.UnitFacts(loaded=True)),
    "standards.change_status": lambda s, actor, i: policy.may_load_standards(actor),
    "jobs.job": lambda s, actor, i: policy.may_see_job(actor, s.get_one(Job, i).owner_id),
    "jobs.again": lambda s, actor, i: policy.may_manage_jobs(actor),
    "quality.plan": lambda s, actor, i: policy.may_see_quality_reports(actor),
    "quality.propose": lambda s, actor, i: policy.may_assure_quality(actor),
    "quality.confirm": lambda s, actor, i: policy.may_assure_quality(actor),
    "quality.add": lambda s, actor, i: policy.may_assure_quality(actor),
    "quality.remove": lambda s, actor, i: policy.may_assure_quality(actor),
    "quality.review": _sees_review,
    "quality.decide": _review(policy.may_review),
    "quality.close": _review(policy.may_review),
    "quality.countersign": _review(policy.may_review),
    "quality.decline": _review(policy.may_review),
    "quality.confirm_action": _decision(policy.may_review),
    "quality.answer": lambda s, actor, i: policy.may_answer_review(
        actor, access.enrolment_facts(s.get_one(ReviewDecision, i).review.enrolment)
    ),
    "observations.group": lambda s, actor, i: policy.may_see_group_observation(
        actor, (facts for _, facts in access.group_facts(s, s.get_one(GroupObservation, i)))
    ),
    "transfer.download": lambda s, actor, i: (
        policy.may_run_cohorts(actor) and policy.may_take_job_result(actor, s.get_one(Job, i).owner_id)
    ),
    "access_tokens.revoke": lambda s, actor, i: policy.may_revoke_token(actor, s.get_one(ApiToken, i).user_id),
    # The API asks what the web's pages of the same records ask.
    "api.unit": lambda s, actor, i: True,
    "api.cohort": _cohort,
    "api.enrolment": _enrolment(policy.may_see_enrolment),
    "api.enrolment_evidence": _enrolment(policy.may_see_enrolment),
    "api.evidence": _evidence(policy.may_see_evidence),
    "api.acknowledge_post": _evidence(policy.may_acknowledge),
    "api.record": _record(policy.may_see_enrolment),
}


@pytest.fixture
def world(app) -> WebWorld:
    world = with_group_observations(app, build_web_world(app))
    with app.extensions["database"].sessions.begin() as session:
        for username in USERS[1:]:
            user = session.scalar(sa.select(User).where(User.username == username))
            SECRETS[username] = create_token(session, user, "the access matrix's", TokenScope.WRITE, 1).secret
            TOKENS[username] = create_token(session, user, "one to revoke", TokenScope.READ, 1).token.id
    return world


SECRETS: dict[str, str] = {}  # each user's token for the API, for the access matrix
TOKENS: dict[str, int] = {}  # and another, for the URL that revokes one


def url_values(world: WebWorld) -> dict[str, tuple[dict[str, object], dict[str, object]]]:
    """Each URL argument: the values naming `trainee`'s record, and those naming another trainee's (or another
    coordinator's) record."""
    return {
        "enrolment_id": ({"enrolment_id": world.open_enrolment}, {"enrolment_id": world.other_enrolment}),
        "evidence_id": ({"evidence_id": world.open_evidence}, {"evidence_id": world.other_evidence}),
        "attachment_id": ({"attachment_id": world.attachment}, {"attachment_id": world.other_attachment}),
        "record_id": ({"record_id": world.record}, {"record_id": world.record}),
        "cohort_id": ({"cohort_id": world.cohort}, {"cohort_id": world.other_cohort}),
        "trainee_id": ({"trainee_id": world.trainee_id}, {"trainee_id": world.trainee2_id}),
        "user_id": ({"user_id": world.trainee_id}, {"user_id": world.trainee2_id}),
        "code": ({"code": world.code}, {"code": world.code}),  # public: anyone checks any code
        "unit_id": ({"unit_id": "cscofm023", "version": 1}, {"unit_id": "us_case_mgmt", "version": 1}),
        "job_id": ({"job_id": world.job}, {"job_id": world.other_job}),
        "message_id": ({"message_id": world.message}, {"message_id": world.message}),
        "session_id": ({"session_id": world.session}, {"session_id": world.other_session}),
        "secret": ({"secret": "not-a-token-anyone-was-given"}, {"secret": "nor-this-one"}),
        "kind": ({"kind": "progress", "cohort": world.cohort}, {"kind": "progress", "cohort": world.other_cohort}),
        "plan_id": ({"plan_id": world.plan}, {"plan_id": world.other_plan}),
        "review_id": ({"review_id": world.review}, {"review_id": world.other_review}),
        "decision_id": ({"decision_id": world.decision}, {"decision_id": world.decision}),
        "group_id": ({"group_id": world.group}, {"group_id": world.other_group}),
        # CASE identifiers of the two seed units' documents, a criterion of each, and one association of each tree
        "document_id": ({"document_id": _case_document("cscofm023")}, {"document_id": _case_document("us_case_mgmt")}),
        "item_id": ({"item_id": _case_criterion("cscofm023")}, {"item_id": _case_criterion("us_case_mgmt")}),
        "association_id": (
            {"association_id": _case_association("cscofm023")},
            {"association_id": _case_association("us_case_mgmt")},
        ),
        "public_key": ({"public_key": PUBLIC_KEY}, {"public_key": PUBLIC_KEY}),  # public: the issuer's key
        "number": ({"number": 1}, {"number": 2}),
        # (1 where the world is built without them: a test that walks the GET pages alone)
        "token_id": ({"token_id": TOKENS.get("trainee", 1)}, {"token_id": TOKENS.get("trainee2", 1)}),
        "unit_version_id": ({"unit_version_id": 1}, {"unit_version_id": 2}),
    }


def _case_document(unit_id: str) -> str:
    return case.document_identifier(unit_id, 1)


def _case_criterion(unit_id: str) -> str:
    return case.item_identifier(unit_id, 1, "criterion", "1.1")


def _case_association(unit_id: str) -> str:
    component = case.item_identifier(unit_id, 1, "component", "1")
    return case.association_identifier(case.IS_CHILD_OF, _case_criterion(unit_id), component)


def the_object_id(values: dict[str, object]) -> int:
    """The id of the record a URL names, for the policy question."""
    keys = (
        "enrolment_id",
        "evidence_id",
        "attachment_id",
        "record_id",
        "cohort_id",
        "trainee_id",
        "user_id",
        "job_id",
        "message_id",
        "session_id",
        "plan_id",
        "review_id",
        "decision_id",
        "group_id",
        "token_id",
        "unit_version_id",
    )
    for key in keys:
        if key in values:
            return int(values[key])  # type: ignore[call-overload]
    return int(values.get("cohort", 0))  # type: ignore[call-overload]  # (0 too for a public secret)


def requests(app, world: WebWorld) -> list[tuple[str, str, str, dict[str, object]]]:
    """(endpoint, method, which, values) for every route, for `trainee`'s records and another's."""
    found = []
    table = url_values(world)
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        method = "POST" if "POST" in (rule.methods or set()) else "GET"
        arguments = sorted(rule.arguments)
        if not arguments:
            found.append((rule.endpoint, method, "own", {}))
            continue
        key = "unit_id" if "unit_id" in arguments else arguments[0]
        own, foreign = table[key]
        found.append((rule.endpoint, method, "own", own))
        found.append((rule.endpoint, method, "foreign", foreign))
    return found


def expected(app, session: so.Session, user: User | None, endpoint: str, values: dict[str, object]) -> bool:
    """Whether the policy lets this user through: the view's declared rule, then the question about its record."""
    rule = rule_of(app, endpoint)
    assert rule is not None
    if PUBLIC in rule:
        return True
    if user is None or (SIGNED_IN not in rule and user.role.value not in rule):
        return False
    if not values:
        return True
    return QUESTIONS[endpoint](session, access.actor(user), the_object_id(values))


def test_every_route_declares_who_may_use_it_and_which_policy_question_it_asks(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    undeclared = sorted(e for e in endpoints if rule_of(app, e) is None)
    assert undeclared == [], f"views without an access rule: {undeclared}"
    with_records = {rule.endpoint for rule in app.url_map.iter_rules() if rule.arguments} - {"static"}
    assert sorted(with_records - set(QUESTIONS)) == [], "routes with a record in the URL but no policy question"
    assert sorted(set(QUESTIONS) - with_records) == []


def test_a_route_without_a_declared_rule_is_refused(app, client):
    app.add_url_rule("/undeclared", endpoint="undeclared", view_func=lambda: "secret")
    assert client.get("/undeclared").status_code == 404


@pytest.mark.parametrize("username", USERS)
def test_access_matrix_follows_the_policy(app, world: WebWorld, username):
    client = app.test_client()
    if username != "anonymous":
        assert sign_in(client, username).status_code == 302
    token = csrf_token(client, "/sign-in" if username == "anonymous" else "/enrolments")
    failures = []
    with app.extensions["database"].read_sessions() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        for endpoint, method, which, values in requests(app, world):
            if endpoint == "accounts.sign_out":
                continue  # signing out would end this client's session; tested on its own
            session.rollback()  # the records as the requests before left them (a POST may add to a sample)
            allowed = expected(app, session, user, endpoint, values)
            with app.test_request_context():
                url = app.url_map.bind("localhost").build(endpoint, values, method=method)
            if scope_of(app, endpoint) is not None:  # the API: with the user's token, never the cookie
                bearer = {"Authorization": f"Bearer {SECRETS[username]}"} if username in SECRETS else {}
                response = app.test_client().open(url, method=method, headers=bearer, json={})
            elif method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token})
            refused = response.status_code in (401, 403, 404) or (
                response.status_code == 302
                and response.headers["Location"].startswith("/sign-in")
                and endpoint not in SENDS_TO_SIGN_IN
            )
            if allowed and refused:
                failures.append(f"{username} was refused {method} {url} ({which}, {response.status_code})")
            if not allowed and not refused:
                failures.append(f"{username} reached {method} {url} ({which}, {response.status_code})")
            response.close()
    assert failures == []


@pytest.mark.parametrize("user", ["trainee2", "assessor2"])
def test_another_trainees_records_are_unreachable_by_any_url(app, world: WebWorld, user):
    client = app.test_client()
    sign_in(client, user)
    for url in [
        f"/enrolments/{world.completed_enrolment}",
        f"/enrolments/{world.open_enrolment}/matrix",
        f"/evidence/{world.open_evidence}",
        f"/attachments/{world.attachment}",
        f"/records/{world.record}",
        f"/evidence/{world.open_evidence}/edit",
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
    posts = [(e, values) for e, method, which, values in requests(app, world) if method == "POST" and which == "own"]
    assert {e for e, _ in posts} == {
        rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or set())
    }
    for user in ("assessor", "coordinator", "admin", "trainee"):  # every POST is someone's
        client = app.test_client()
        sign_in(client, user)
        for endpoint, values in posts:
            url = app.url_map.bind("localhost").build(endpoint, values, method="POST")
            response = client.post(
                url,
                data={"narrative": "forged", "reason": "forged", "active": "0", "username": "admin", "password": "x"},
            )
            # The API takes no cookie at all: a bearer token or nothing (401).
            refusals = (401,) if scope_of(app, endpoint) is not None else (400, 404)
            assert response.status_code in refusals, (user, endpoint, response.status_code)
    assert snapshot() == before
