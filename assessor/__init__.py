"""Assessor: competency assessment and evidence tracking against unit standards."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from assessor.core.security import SchemeOfTheConnection
from assessor.domain.standards import load_catalogue

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings, database, standards catalogue, security, features and commands."""
    from assessor.core.database import CommittingFlask
    from assessor.core.urls import RecordIdConverter

    app = CommittingFlask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RecordIdConverter  # before any route: an id no database holds is a 404
    app.config.from_mapping(
        STANDARDS_DIR=os.environ.get("ASSESSOR_STANDARDS_DIR", str(PROJECT_ROOT / "standards")),
        DATABASE_URL=os.environ.get("DATABASE_URL"),
        ATTACHMENT_MAX_BYTES=20 * MB,
        ATTACHMENTS_PER_EVIDENCE=5,
        IDLE_TIMEOUT_MINUTES=30,
        STALE_AFTER_DAYS=30,
        ENROLMENTS_PER_PAGE=50,
        COHORTS_PER_PAGE=50,
        HEAT_MAP_ROWS_PER_PAGE=200,
        IMPORT_MAX_BYTES=5 * MB,
        FORM_MAX_BYTES=MB,
        # A group observation's matrix sends a field per trainee and criterion: 100 trainees of a large unit.
        MAX_FORM_PARTS=20_000,
        TRUSTED_PROXIES=0,
        SESSION_COOKIE_SECURE=False,
        AUDIT_KEY=None,  # hex; else a key kept in the instance folder (audit_key), made on first run
        CREDENTIAL_KEY=None,  # the Ed25519 seed in hex; else the instance folder's credential_key, made by init
        CREDENTIAL_RETIRED_KEYS=None,  # publicKeyMultibase of replaced keys, comma-separated; else a file (see README)
        JOB_QUEUE="",  # a SQLite file beside the database, or the PostgreSQL database itself; see core.jobs
        JOB_WORKER_THREADS=1,  # jobs one worker runs at once: one, so that a big export never slows the pages
        JOB_LEASE_SECONDS=300,
        JOB_ATTEMPTS=4,
        JOB_RETRY_SECONDS=30,
        EXPORT_KEEP_HOURS=24,
        INVITATION_DAYS=14,
        RESET_MINUTES=60,
        DIGEST_HOUR=6,  # UTC: the daily to-do e-mails go out in the first hour of the worker's chores after this
        QUALITY_ASSURER_TITLE="Quality assurer",  # or "Internal verifier", "Validator", "Moderator"
        ORGANISATION_NAME="",  # on completion records and reports
        HELD_ATTACHMENT_HOURS=24,  # files of a refused evidence form wait this long for the form to be sent again
        SAMPLES_PER_PAGE=200,
    )
    if test_config is None:
        app.config.from_prefixed_env("ASSESSOR")
    else:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("UPLOAD_DIR", str(Path(app.instance_path) / "uploads"))
    app.config.setdefault("AUDIT_CHECKPOINT_DIR", str(Path(app.instance_path) / "audit-checkpoints"))
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask defines the key, as None: setdefault would do nothing
        # A request with files may carry every attachment at full size, plus the form itself.
        app.config["MAX_CONTENT_LENGTH"] = (
            app.config["ATTACHMENT_MAX_BYTES"] * app.config["ATTACHMENTS_PER_EVIDENCE"] + MB
        )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    app.extensions["catalogue"] = load_catalogue(app.config["STANDARDS_DIR"])
    # ASSESSOR_TRUSTED_PROXIES alone decides whether X-Forwarded-* headers are believed, whatever the server says.
    if hops := int(app.config["TRUSTED_PROXIES"]):
        # Behind a reverse proxy: take the client's address and scheme from its X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    else:
        app.wsgi_app = SchemeOfTheConnection(app.wsgi_app)  # type: ignore[method-assign]

    from assessor import cli
    from assessor.access_tokens.views import bp as access_tokens
    from assessor.accounts import sessions
    from assessor.accounts.views import bp as accounts
    from assessor.api import auth as api_auth
    from assessor.api.views import bp as api
    from assessor.carry_over.views import bp as carry_over
    from assessor.case.views import bp as case
    from assessor.cohorts.views import bp as cohorts
    from assessor.core import access, database, errors, jobs, labels, revalidation, security
    from assessor.credentials.views import bp as credentials
    from assessor.credits.views import bp as credits
    from assessor.evidence.views import bp as evidence
    from assessor.jobs.views import bp as jobs_pages
    from assessor.logbook.views import bp as logbook
    from assessor.mail import sending
    from assessor.mail.views import bp as mail
    from assessor.observations.views import bp as observations
    from assessor.progress.views import bp as progress
    from assessor.progress.views import index
    from assessor.quality.views import bp as quality
    from assessor.records.views import bp as records
    from assessor.standards.views import bp as standards
    from assessor.todo.views import bp as todo
    from assessor.transfer.views import bp as transfer

    database.init_app(app)
    jobs.init_app(app, database.database(app).sessions, app.config["DATABASE_URL"])
    sending.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    labels.init_app(app)
    sessions.init_app(app)
    api_auth.init_app(app)
    access.init_app(app)
    revalidation.init_app(app)
    for blueprint in (
        accounts,
        progress,
        standards,
        evidence,
        observations,
        records,
        cohorts,
        transfer,
        jobs_pages,
        mail,
        todo,
        quality,
        carry_over,
        credits,
        logbook,
        case,
        credentials,
        access_tokens,
        api,
    ):
        app.register_blueprint(blueprint)
    app.add_url_rule("/", endpoint="index", view_func=index)
    cli.register(app)
    return app


def _instance_secret(instance: Path) -> str:
    """A secret key kept in the instance folder, made on first run and never committed."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
