"""Ids too large for the database: every route with a record id in its URL answers 404, never a driver's overflow."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter, Rule

from assessor.core.access import PUBLIC, SIGNED_IN, rule_of
from assessor.core.urls import MAX_ID, numbers_up_to, record_id
from tests.web.conftest import csrf_token

# The first too large for SQLite's integer and PostgreSQL's bigint, and one far beyond.
TOO_LARGE = [2**31, 2**63, 10**30]
# A user of each role that is not an administrator.
USERS_OF_ROLES = (
    ("assessor", "assessor"),
    ("coordinator", "coordinator"),
    ("trainee", "trainee"),
    ("quality_assurer", "qa"),
)
# Values for the arguments that are not ids.
OTHER_VALUES = {"unit_id": "cscofm023", "code": "not-a-code"}


def int_arguments(rule: Rule) -> list[str]:
    return sorted(name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter))


def routes_with_ids(app, method: str) -> list[Rule]:
    found = [r for r in app.url_map.iter_rules() if method in (r.methods or set()) and int_arguments(r)]
    assert found, f"no {method} routes with an int argument"
    return found


def user_for(app, endpoint: str) -> str:
    """An administrator where the route lets one in; otherwise someone it does let in, so the view itself runs."""
    rule = rule_of(app, endpoint) or frozenset()
    if rule & {PUBLIC, SIGNED_IN, "admin"}:
        return "admin"
    return next(user for role, user in USERS_OF_ROLES if role in rule)


def status_of(send, url: str, **kwargs: object) -> int | str:
    """The status of a request, or the exception that would have been a 500 (the tests propagate exceptions)."""
    try:
        response = send(url, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the test reports what each route did
        return f"500 {type(exc).__name__}"
    response.close()
    return response.status_code


def url_for_rule(app, rule: Rule, number: int, method: str) -> str:
    values: dict[str, object] = {name: number for name in int_arguments(rule)}
    values.update({name: OTHER_VALUES[name] for name in rule.arguments if name not in values})
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


@pytest.mark.parametrize("number", [*TOO_LARGE, 0])
def test_every_get_route_answers_404_to_an_id_out_of_range(app, signed_in, number):
    clients = {}
    answers = {}
    for rule in routes_with_ids(app, "GET"):
        user = user_for(app, rule.endpoint)
        client = clients.setdefault(user, signed_in(user))
        url = url_for_rule(app, rule, number, "GET")
        answers[f"{user} GET {url}"] = status_of(client.get, url)
    assert {request: status for request, status in answers.items() if status != 404} == {}
    assert len(answers) >= 5


@pytest.mark.parametrize("number", TOO_LARGE)
def test_every_post_route_answers_404_to_an_id_out_of_range(app, signed_in, number):
    answers = {}
    for rule in routes_with_ids(app, "POST"):
        user = user_for(app, rule.endpoint)
        client = signed_in(user)
        token = csrf_token(client, "/enrolments")
        url = url_for_rule(app, rule, number, "POST")
        answers[f"{user} POST {url}"] = status_of(client.post, url, data={"csrf_token": token})
    assert {request: status for request, status in answers.items() if status != 404} == {}
    assert len(answers) >= 5


def test_the_largest_id_is_still_looked_up(app, signed_in, world):
    admin = signed_in("admin")
    assert admin.get(f"/enrolments/{MAX_ID}").status_code == 404  # no such enrolment, asked of the database
    assert admin.get(f"/enrolments/{world.open_enrolment}").status_code == 200
    assert admin.get(f"/standards/cscofm023/v{2**63}").status_code == 404
    assert admin.get("/standards/cscofm023/v1").status_code == 200


def test_the_id_pattern_matches_exactly_from_one_to_the_bound():
    for bound in [1, 2, 9, 10, 11, 19, 20, 99, 100, 101, 109, 110, 199, 200, 509, 999, 1000, 1001, 1234]:
        pattern = re.compile(numbers_up_to(bound))
        assert [n for n in range(1300) if pattern.fullmatch(str(n))] == list(range(1, bound + 1)), bound
    pattern = re.compile(numbers_up_to(MAX_ID))
    near = [MAX_ID + d for d in range(-1000, 1001)] + [10**k + d for k in range(8, 20) for d in (-1, 0, 1)]
    assert all(bool(pattern.fullmatch(str(n))) == (n <= MAX_ID) for n in near)
    assert pattern.fullmatch("007") and not pattern.fullmatch("000")


@pytest.mark.parametrize("value", ["1", "42", "007", str(MAX_ID)])
def test_record_id_reads_ids(value):
    assert record_id(value) == int(value)


@pytest.mark.parametrize(
    "value",
    ["", "0", "-1", "+1", " 1", "1.0", "1_000", "abc", "\u0661", str(2**31), str(2**63), str(10**30), "9" * 5000],
)
def test_record_id_refuses_everything_else_with_value_error(value):
    with pytest.raises(ValueError):
        record_id(value)


def test_a_query_string_id_out_of_range_is_treated_as_absent(app):
    from flask import request

    with app.test_request_context(f"/exports?cohort={2**63}&enrolment=7"):
        assert request.args.get("cohort", type=record_id) is None
        assert request.args.get("enrolment", type=record_id) == 7
