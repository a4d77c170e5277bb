"""Error pages: one handler turns every refusal (an operation's error, a forged form, a body too large) into a page
in words with the right status; whatever the request wrote has been rolled back by then."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from assessor.domain.errors import (
    ChangedMeanwhile,
    InvalidInput,
    Locked,
    NotAllowed,
    NotFound,
    NotReady,
    OperationError,
    StandardChanged,
)

NOT_FOUND = "There is no such page, or it is not yours to see."

# Each refusal's status and the page's title; NotFound and the 404 page say the same, so that a record the user may
# not see cannot be told from one that does not exist.
REFUSALS: tuple[tuple[type[OperationError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (NotAllowed, 403, "Not allowed"),
    (InvalidInput, 400, "Not saved"),
    (ChangedMeanwhile, 409, "Changed meanwhile"),
    (Locked, 409, "Signed off or closed"),
    (NotReady, 409, "Not ready"),
    (StandardChanged, 409, "Unit text changed"),
    (OperationError, 400, "Not done"),
)


def status_of(error: OperationError) -> tuple[int, str]:
    """The HTTP status and title for a refused operation."""
    return next((status, title) for kind, status, title in REFUSALS if isinstance(error, kind))


def init_app(app: Flask) -> None:
    """Register the error pages."""

    @app.errorhandler(OperationError)
    def refused(error: OperationError) -> tuple[str, int]:
        status, title = status_of(error)
        message = NOT_FOUND if status == 404 else f"{error} Nothing was changed."
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[str, int]:
        message = f"{error.description} Go back, reload the page and try again."
        return render_template("error.html", title="Form expired", message=message), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        message = f"The files together are larger than {limit} MB. Nothing was saved."
        return render_template("error.html", title="Upload too large", message=message), 413

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Not found", message=NOT_FOUND), 404
