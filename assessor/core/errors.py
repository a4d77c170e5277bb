"""Error pages: one handler turns every refusal (an operation's error, a forged form, a body too large) into a page
in words with the right status; whatever the request wrote has been rolled back by then."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from assessor.core.audit import NotSealed
from assessor.core.problems import is_api_request, problem
from assessor.domain.errors import (
    ChangedMeanwhile,
    Erased,
    InvalidInput,
    Locked,
    NotAllowed,
    NotFound,
    NotReady,
    OperationError,
    StandardChanged,
)

NOT_FOUND = "There is no such page, or it is not yours to see."
API_NOT_FOUND = "There is no such record, or it is not yours to see."
# The API answers a refused input 422 (the request was understood, its content breaks a rule); the web shows the
# form again with 400.
API_INVALID = 422

# Each refusal's status and the page's title; NotFound and the 404 page say the same, so that a record the user may
# not see cannot be told from one that does not exist.
REFUSALS: tuple[tuple[type[OperationError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (NotAllowed, 403, "Not allowed"),
    (InvalidInput, 400, "Not saved"),
    (ChangedMeanwhile, 409, "Changed meanwhile"),
    (Locked, 409, "Signed off or closed"),
    (NotReady, 409, "Not ready"),
    (Erased, 410, "Erased"),
    (StandardChanged, 409, "Unit text changed"),
    (OperationError, 400, "Not done"),
)


def status_of(error: OperationError) -> tuple[int, str]:
    """The HTTP status and title for a refused operation."""
    return next((status, title) for kind, status, title in REFUSALS if isinstance(error, kind))


def init_app(app: Flask) -> None:
    """Register the error pages."""

    @app.errorhandler(OperationError)
    def refused(error: OperationError) -> Any:
        status, title = status_of(error)
        if is_api_request():
            if isinstance(error, InvalidInput):
                return problem(API_INVALID, title, f"{error} Nothing was changed.", error.problems)
            return problem(status, title, API_NOT_FOUND if status == 404 else f"{error} Nothing was changed.")
        message = NOT_FOUND if status == 404 else f"{error} Nothing was changed."
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(NotSealed)
    def not_sealed(error: NotSealed) -> Any:
        message = (
            "Nothing can be saved until the audit trail is sealed with this site's audit key. Nothing was saved: "
            "an administrator runs `assessor init` (or `assessor audit seal`)."
        )
        if is_api_request():
            return problem(503, "Audit trail not sealed", message)
        return render_template("error.html", title="Audit trail not sealed", message=message), 503

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[str, int]:
        message = f"{error.description} Go back, reload the page and try again."
        return render_template("error.html", title="Form expired", message=message), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> Any:
        # Werkzeug refuses a body over the request's limit, or one text field over MAX_FORM_MEMORY_SIZE.
        limit = request.max_content_length or app.config["MAX_CONTENT_LENGTH"]
        if is_api_request():
            return problem(413, "Too large", f"The body is larger than the API accepts ({_size(limit)}).")
        message = (
            f"What was sent is larger than this page accepts ({_size(limit)} in all, attachments included, and "
            f"{_size(request.max_form_memory_size)} for any one text box). Nothing was saved: go back, shorten "
            "the text or send fewer or smaller files."
        )
        return render_template("error.html", title="Too large", message=message), 413

    @app.errorhandler(404)
    def not_found(error: Exception) -> Any:
        if is_api_request():
            return problem(404, "Not found", API_NOT_FOUND)
        return render_template("error.html", title="Not found", message=NOT_FOUND), 404

    @app.errorhandler(HTTPException)
    def other(error: HTTPException) -> Any:
        # Any other refusal by HTTP itself (a method not allowed, a bad request, no token): its own page on the web.
        if is_api_request():
            return problem(error.code or 500, error.name, error.description or error.name)
        return error


def _size(limit: int | None) -> str:
    """A byte limit in words."""
    if limit is None:
        return "no limit"
    return f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit // 1024:,} KB"
