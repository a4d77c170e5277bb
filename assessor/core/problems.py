"""Problem details (RFC 9457): how the JSON API says what went wrong, where the web shows a page."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, g, request
from werkzeug.wrappers import Response

API_PREFIX = "/api/"  # everything under it answers in JSON, with a bearer token and never a cookie session
MEDIA_TYPE = "application/problem+json"
REFUSED_TOKEN = "api_token_refused"  # g: why a bearer token was refused, for the WWW-Authenticate header


def is_api_request() -> bool:
    """Whether this request is to the JSON API, which answers errors as problem details."""
    return request.path.startswith(API_PREFIX)


def problem(status: int, title: str, detail: str, errors: dict[str, str] | None = None, **headers: str) -> Response:
    """A problem details document: what kind of problem (its title), and what was wrong with this request."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response: Response = current_app.response_class(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    if status == 401:
        # RFC 6750: a request without a token is only told how to authenticate; a bad token is told that too.
        refused = g.get(REFUSED_TOKEN)
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="assessor", error="invalid_token", error_description="{refused}"'
            if refused
            else 'Bearer realm="assessor"'
        )
    response.headers.update(headers)
    return response
