"""The OpenAPI document against the API itself: schemathesis generates requests for every operation from the document,
sends them through the WSGI app with a token, and checks that no answer is a server error and that every answer is one
the document lists, in its media type and schema. Bounded: a handful of examples per operation."""

from __future__ import annotations

import re

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assessor.access_tokens.operations import create_token
from assessor.domain.vocabulary import TokenScope
from assessor.models import User

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 6  # per operation and user: enough to reach every answer's shape, few enough to keep the suite quick


@pytest.mark.parametrize("username", ["assessor", "coordinator", "trainee"])
def test_every_operation_answers_as_the_document_says(app, world, username):
    """Each operation of the document, with a write token of an assessor's (who records evidence), a coordinator's
    (who runs cohorts and enrols) or a trainee's (who submits and acknowledges their own)."""
    with app.extensions["database"].sessions.begin() as session:
        user = session.scalar(sa.select(User).where(User.username == username))
        secret = create_token(session, user, "schemathesis", TokenScope.WRITE, 1).secret
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    answered: set[tuple[str, int]] = set()
    assert len(operations) >= 13

    ids = {
        "enrolment_id": world.open_enrolment,
        "evidence_id": world.open_evidence,
        "record_id": world.record,
        "cohort_id": world.cohort,
        "unit_version_id": 1,
    }

    def pointed(case):
        """The case aimed at the world's records, so that answers other than refusals are checked too."""
        for name in case.path_parameters or {}:
            case.path_parameters[name] = ids[name]
        if isinstance(case.body, dict) and "trainee_id" in case.body:
            case.body["trainee_id"] = world.trainee_id
        return case

    for operation in operations:
        check(operation, secret, pointed, answered)
    # The runs reached the records, not only the refusals: answers of both kinds came back.
    assert any(status == 200 for _, status in answered) and any(status == 404 for _, status in answered)


def check(operation, secret: str, pointed, answered: set[tuple[str, int]]) -> None:
    """Run one operation's generated cases, half of them aimed at the world's records."""
    aimed = st.tuples(operation.as_strategy(), st.booleans()).map(lambda pair: pointed(pair[0]) if pair[1] else pair[0])

    @given(case=aimed)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case):
        response = case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
        answered.add((operation.label, response.status_code))

    answers_as_documented()


def test_the_document_is_openapi_3_1_with_valid_schemas(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    for definition in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(definition)
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert operations >= {"units", "enrolment", "record_evidence_post", "enrol_post", "acknowledge_post"}


def test_every_api_route_is_in_the_document(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    listed = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    routes = {r.endpoint.removeprefix("api.") for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert routes - listed == {"document", "reference"}


def test_the_reference_page_is_rendered_from_the_document_by_the_app(client):
    page = client.get("/api/v1/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "POST /api/v1/evidence" in text and "Idempotency-Key" in text and "EvidenceIn" in text
    assert all(src.startswith("/static/") for src in re.findall(r'<script[^>]* src="([^"]*)"', text))
    assert not re.search(r'(?:src|href)="(?:https?:)?//', text)  # nothing from elsewhere: no CDN
