"""A real server for tests: the app under gunicorn on 127.0.0.1 with a port chosen at run time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from assessor import create_app

ROOT = Path(__file__).resolve().parent.parent
# Tests sign the audit trail with a key of their own, never with a key file in the checkout's instance folder.
TEST_AUDIT_KEY = "a5" * 32
TEST_CREDENTIAL_KEY = "c3" * 32  # the Ed25519 seed that signs credentials in tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running gunicorn serving the app; `url` is its base address."""

    def __init__(self, env: dict[str, str], workers: int, log: Path, timeout: int = 60):
        self.env = env
        self.workers = workers
        self.timeout = timeout
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start gunicorn and wait until it answers."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--graceful-timeout",
            "5",
            "--timeout",
            str(self.timeout),
            "assessor:create_app()",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        # A wait for start-up, not a measure of it: a machine busy with other tests starts workers slowly.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/sign-in", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop(signal.SIGKILL)  # and reaped, so its process does not outlive the test that started it
        raise RuntimeError(f"gunicorn did not answer: {self.log.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop gunicorn and its workers (SIGKILL to simulate a crash)."""
        stop_group(self.process, sig)


def stop_group(process: subprocess.Popen[bytes] | None, sig: int) -> None:
    """Signal a process started in a session of its own, and all its children; SIGKILL if they outlast 20 s."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


def environment(database_url: str, instance: Path, **settings: str) -> dict[str, str]:
    """The environment of a server or worker process on `database_url` with its files under `instance`."""
    instance.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "ASSESSOR_SECRET_KEY": "test-secret-key",
        "ASSESSOR_UPLOAD_DIR": str(instance / "uploads"),
        "ASSESSOR_AUDIT_KEY": TEST_AUDIT_KEY,
        "ASSESSOR_CREDENTIAL_KEY": TEST_CREDENTIAL_KEY,
        "ASSESSOR_AUDIT_CHECKPOINT_DIR": str(instance / "audit-checkpoints"),
        "ASSESSOR_EXPORT_DIR": str(instance / "exports"),
        "ASSESSOR_IMPORT_DIR": str(instance / "imports"),
        "ASSESSOR_MFA_REQUIRED_ROLES": "",  # staff sign in with a password alone
        **{f"ASSESSOR_{k}": v for k, v in settings.items()},
    }


@contextmanager
def running(
    database_url: str, instance: Path, workers: int = 2, timeout: int = 60, **settings: str
) -> Iterator[Server]:
    """Serve the app on `database_url` with its instance files under `instance` for the duration of the block;
    gunicorn kills a worker that spends more than `timeout` seconds on a request."""
    server = Server(environment(database_url, instance, **settings), workers, instance / "gunicorn.log", timeout)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def app_on(url: str, instance: Path) -> Flask:
    """An app on `url` with its files under `instance`, for seeding and checking from the test process (and for
    restoring into); dispose of its engine when done."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "STANDARDS_DIR": str(ROOT / "standards"),
            "DATABASE_URL": url,
            "UPLOAD_DIR": str(instance / "uploads"),
            "AUDIT_KEY": TEST_AUDIT_KEY,
            "CREDENTIAL_KEY": TEST_CREDENTIAL_KEY,
            "AUDIT_CHECKPOINT_DIR": str(instance / "audit-checkpoints"),
            "JOB_QUEUE": "immediate",
            "MFA_REQUIRED_ROLES": "",
            "EXPORT_DIR": str(instance / "exports"),
            "IMPORT_DIR": str(instance / "imports"),
        }
    )


class Worker:
    """A running `assessor worker` process; stopped with SIGKILL to play a crash."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "flask", "--app", "assessor", "worker"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self, sig: int = signal.SIGINT) -> None:
        """Stop the worker: SIGINT lets its jobs finish, SIGKILL plays a crash."""
        stop_group(self.process, sig)


@contextmanager
def working(database_url: str, instance: Path, **settings: str) -> Iterator[Worker]:
    """An `assessor worker` on `database_url` for the duration of the block."""
    worker = Worker(environment(database_url, instance, **settings), instance / "worker.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
