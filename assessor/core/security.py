"""Security headers on every response, and CSRF protection on every form."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, request
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from assessor.core.revalidation import kept_by_browser

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

csrf = CSRFProtect()
View = TypeVar("View", bound=Callable[..., Any])


def body_limit(max_bytes: int) -> Callable[[View], View]:
    """Declare that a view takes no request body larger than this, files included: refused (413) before it is read,
    rather than spooled whole and then found too large."""

    def decorate(view: View) -> View:
        view.max_body_bytes = max_bytes  # type: ignore[attr-defined]
        return view

    return decorate


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SchemeOfTheConnection:
    """WSGI middleware for running with no trusted proxy: the scheme is that of the connection itself.

    gunicorn believes X-Forwarded-Proto from 127.0.0.1 by default (its forwarded_allow_ips), so a client on the same
    machine could pass plain HTTP off as HTTPS; with no proxy trusted, the socket alone says whether it is TLS.
    """

    def __init__(self, app: WSGIApplication):
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        connection = environ.get("gunicorn.socket")
        if connection is not None:
            environ["wsgi.url_scheme"] = "https" if isinstance(connection, ssl.SSLSocket) else "http"
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    """Protect every form with a CSRF token and every response with security headers."""

    # Registered before CSRF protection, which reads the form: the limit must be in place by then.
    @app.before_request
    def limit_body() -> None:
        # Only a form with files may be large; any other body is refused past FORM_MAX_BYTES before it is read.
        if request.mimetype != "multipart/form-data":
            request.max_content_length = min(app.config["FORM_MAX_BYTES"], app.config["MAX_CONTENT_LENGTH"])
        declared = getattr(app.view_functions.get(request.endpoint or ""), "max_body_bytes", None)
        if declared is not None:
            request.max_content_length = min(declared, request.max_content_length or declared)

    csrf.init_app(app)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # A page whose own address is a secret (a reset link) says no-referrer instead.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if current_user.is_authenticated and request.endpoint != "static":
            # Assessment records must not linger in shared caches. A page with a tag may be kept by this browser
            # alone, which asks each time before showing it (see core.revalidation); any other is never stored.
            response.headers["Cache-Control"] = "private, no-cache" if kept_by_browser() else "no-store"
        return response
