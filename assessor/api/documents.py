"""The OpenAPI 3.1 document, generated from the code: each API view declares what it takes and answers (`documented`),
the routes give the paths and their ids, the access gate's declarations give the scopes, and the pydantic models
give the schemas, in JSON Schema 2020-12 as OpenAPI 3.1 has it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from assessor.api.schemas import Problem
from assessor.core.access import PUBLIC, SIGNED_IN, rule_of, scope_of
from assessor.core.urls import MAX_ID, MIN_ID

View = TypeVar("View", bound=Callable[..., Any])
TITLE = "Assessor API"
VERSION = "1"
REF = "#/components/schemas/{model}"
JSON = "application/json"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Param:
    """A query string or header parameter, with its JSON Schema."""

    name: str
    where: str  # "query" or "header"
    description: str
    schema: dict[str, Any]
    required: bool = False


@dataclass(frozen=True)
class Doc:
    """What one API view takes and answers, besides what every API view may answer (see `PROBLEMS`)."""

    summary: str
    tag: str
    answers: dict[int, tuple[str, type[BaseModel] | None]]  # status: (description, body)
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    description: str = ""
    extra: dict[int, str] = field(default_factory=dict)  # further problems this view may answer


LIMIT = Param(
    "limit", "query", "How many records a page holds.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}
)
CURSOR = Param(
    "cursor",
    "query",
    "Where the page starts: the `next_cursor` of the page before. Anything else is refused (400).",
    {"type": "string", "maxLength": 2000},
)
PAGED = (LIMIT, CURSOR)
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,200}$"


def idempotency_key(required: bool) -> Param:
    return Param(
        "Idempotency-Key",
        "header",
        "A key new to each write (a UUID, say): the same write sent again with the same key is done once and "
        "answered as the first time; the same key with another request is refused (422).",
        {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
        required,
    )


def documented(doc: Doc) -> Callable[[View], View]:
    """Declare what an API view takes and answers, for the OpenAPI document."""

    def decorate(view: View) -> View:
        view.api_doc = doc  # type: ignore[attr-defined]
        return view

    return decorate


# What any API view may answer besides its own answers: the problems of the gate and of HTTP itself.
PROBLEMS = {
    400: "The request is malformed: a query parameter, a cursor, JSON that does not parse, a header.",
    401: "No personal access token, or one that is unknown, expired or revoked.",
    404: "No such record, or not one the token's owner may see.",
}
READ_PROBLEMS = {406: "The response cannot be given in a media type the request accepts."}
WRITE_PROBLEMS = {
    403: "The token may only read, or the owner may not do this to this record.",
    409: "The record changed meanwhile, or is signed off or closed.",
    413: "The body is too large.",
    415: "The body is not JSON.",
    422: "The body breaks a rule: `errors` names each field that is wrong and what is wrong with it.",
}


def openapi(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API's routes, as they are."""
    views: list[tuple[str, str, str, Doc]] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods or ()))):
        doc = getattr(app.view_functions.get(rule.endpoint), "api_doc", None)
        if doc is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            views.append((rule.rule, method.lower(), rule.endpoint, doc))
    inputs = {doc.body for *_, doc in views if doc.body is not None}
    outputs = {model for *_, doc in views for _, model in doc.answers.values() if model is not None} | {Problem}
    pairs = [(m, "validation") for m in sorted(inputs, key=_name)]
    pairs += [(m, "serialization") for m in sorted(outputs, key=_name)]
    refs, defs = models_json_schema(pairs, ref_template=REF)  # type: ignore[arg-type]
    schemas = {name: schema for name, schema in defs.get("$defs", {}).items()}
    paths: dict[str, dict[str, Any]] = {}
    for path, method, endpoint, doc in views:
        template, arguments = _path(path)
        paths.setdefault(template, {})[method] = _operation(app, endpoint, method, doc, arguments, refs)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "Read and write Assessor's records from other systems, with a personal access token made on the "
                "*Access tokens* page of your account. A token acts with its owner's rights, within its scope."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token: `Authorization: Bearer asr_...`.",
                }
            },
        },
    }


def _name(model: type[BaseModel]) -> str:
    return model.__name__


def _path(rule: str) -> tuple[str, list[str]]:
    """A Flask rule as an OpenAPI path template, and its arguments (every one a record id)."""
    arguments = re.findall(r"<(?:int:)?(\w+)>", rule)
    return re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule), arguments


def _operation(
    app: Flask, endpoint: str, method: str, doc: Doc, arguments: list[str], refs: dict[Any, Any]
) -> dict[str, Any]:
    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return refs[(model, mode)]

    rule = rule_of(app, endpoint) or frozenset()
    scope = scope_of(app, endpoint)
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": MIN_ID, "maximum": MAX_ID},
        }
        for name in arguments
    ]
    parameters += [
        {"name": p.name, "in": p.where, "required": p.required, "description": p.description, "schema": p.schema}
        for p in doc.params
    ]
    responses: dict[str, Any] = {}
    for status, (description, model) in doc.answers.items():
        answer: dict[str, Any] = {"description": description}
        if model is not None:
            answer["content"] = {JSON: {"schema": ref(model, "serialization")}}
        if status == 200 and method == "get":
            answer["headers"] = {
                "ETag": {"description": "Send it back as If-None-Match.", "schema": {"type": "string"}}
            }
        responses[str(status)] = answer
    if method == "get" and PUBLIC not in rule:
        responses["304"] = {"description": "Not modified: nothing it shows has changed since the tag sent."}
    problems = {} if PUBLIC in rule else dict(PROBLEMS)
    problems.update(WRITE_PROBLEMS if doc.body is not None else READ_PROBLEMS if PUBLIC not in rule else {})
    problems.update(doc.extra)
    for status, description in sorted(problems.items()):
        responses.setdefault(
            str(status), {"description": description, "content": {PROBLEM: {"schema": ref(Problem, "serialization")}}}
        )
    who = "anyone" if PUBLIC in rule else "anyone with a token" if SIGNED_IN in rule else ", ".join(sorted(rule))
    operation: dict[str, Any] = {
        "operationId": endpoint.removeprefix("api."),
        "summary": doc.summary,
        "description": (doc.description + "\n\n" if doc.description else "")
        + f"Who: {who}."
        + (f" Token scope: {scope.value}." if scope else ""),
        "tags": [doc.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if doc.body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(doc.body, "validation")}}}
    if PUBLIC not in rule:
        operation["security"] = [{"token": []}]
    return operation
