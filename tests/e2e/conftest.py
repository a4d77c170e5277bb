"""Browser tests: Debian's Chromium driven by Playwright against the app under gunicorn, on a demo database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.mailbox import Mailbox, mail_settings, smtp_server
from tests.server import ROOT, TEST_AUDIT_KEY, Server, running, working

PASSWORD = "demo password 1"
CHROMIUM = "/usr/bin/chromium"
ARTEFACTS = ROOT / "artifacts"

if os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("browser tests run once, on SQLite; the database is not what they test", allow_module_level=True)
if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium); CI installs it", allow_module_level=True
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Playwright cannot download its own browser here; Chromium's background services would call out to the internet.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-gpu",
        ],
    }


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """The SMTP server the app's worker sends e-mail to."""
    with smtp_server() as box:
        yield box


def _settings(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'assessor.sqlite'}",
        "ASSESSOR_SECRET_KEY": "e2e",
        "ASSESSOR_AUDIT_KEY": TEST_AUDIT_KEY,  # the server's too
        "ASSESSOR_AUDIT_CHECKPOINT_DIR": str(folder / "instance" / "audit-checkpoints"),
    }


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """The demo's database, queue and audit checkpoints, made once per test process (six seconds each time)."""
    folder = tmp_path_factory.mktemp("demo")
    command = str(Path(sys.executable).with_name("assessor"))
    subprocess.run(
        [command, "demo", "--password", PASSWORD], env=_settings(folder), cwd=ROOT, check=True, capture_output=True
    )
    with sqlite3.connect(folder / "assessor.sqlite") as connection:  # everything in the file, nothing in its WAL
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder


@pytest.fixture
def server(tmp_path, mailbox, demo_database) -> Iterator[Server]:
    """A fresh copy of the demo served by gunicorn for one test, with a worker that sends e-mail to `mailbox`."""
    shutil.copytree(demo_database, tmp_path, dirs_exist_ok=True)
    env = _settings(tmp_path)
    mail = mail_settings(mailbox.port)
    with (
        running(env["DATABASE_URL"], tmp_path / "instance", workers=2, **mail) as served,
        working(env["DATABASE_URL"], tmp_path / "instance", **mail),
    ):
        yield served


@pytest.fixture
def visit(page, server):
    """Open a path, check that every request stays on the app's own origin, and that the page passes axe."""
    foreign: list[str] = []
    origin = urlsplit(server.url)[:2]
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if urlsplit(request.url)[:2] != origin and not request.url.startswith("data:")
            else None
        ),
    )
    axe = Axe()

    def check_accessible() -> None:
        results = axe.run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], f"{page.url}: " + "; ".join(
            f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in serious
        )

    def go(path: str) -> None:
        page.goto(server.url + path)
        check_accessible()

    go.check = check_accessible  # type: ignore[attr-defined]
    go.foreign = foreign  # type: ignore[attr-defined]
    yield go
    assert foreign == [], f"requests to other origins: {foreign}"


def sign_in(page, visit, username: str) -> None:
    """Sign in through the form, by its labels."""
    visit("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/quality" if username == "qa" else "**/enrolments")  # each role's home
    visit.check()


def screenshot(page, name: str) -> None:
    """Keep a screenshot as a test artefact."""
    folder = ARTEFACTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
