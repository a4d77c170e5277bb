"""`assessor worker`: the process that does the jobs pages ask for (exports, imports, e-mail)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from assessor.cli.database import require_schema
from assessor.core.jobs import queue_of


@click.command("worker")
@click.option(
    "--threads", type=click.IntRange(1, 32), help="Jobs run at once (default ASSESSOR_JOB_WORKER_THREADS, 1)."
)
@with_appcontext
def worker_command(threads: int | None) -> None:
    """Do queued jobs until stopped (Ctrl-C or SIGINT finishes the jobs running first; SIGTERM stops at once, and
    the jobs it cut short run again once their lease lapses). Run one or more beside the application."""
    require_schema()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    queue = queue_of(current_app)
    if queue.huey.immediate:
        raise click.ClickException("ASSESSOR_JOB_QUEUE is 'immediate': jobs run where they are asked for")
    count = threads or int(current_app.config["JOB_WORKER_THREADS"])
    click.echo(f"worker: {count} thread(s), queue {type(queue.huey.storage).__name__}")
    queue.huey.create_consumer(workers=count, worker_type="thread", max_delay=1.0).run()
