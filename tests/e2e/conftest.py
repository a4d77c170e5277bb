"""Browser tests: Debian's Chromium driven by Playwright against the app under gunicorn, on a demo database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT

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


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory, demo_database) -> Iterator[Server]:
    """A copy of the demo served by gunicorn to every test marked `reads_only` in this process: starting a server
    costs seconds of each test (each gunicorn worker builds the app). Those tests write nothing but the sessions they
    sign in with: the sweep's one per person (`signed_in`), the others' for people whose sessions no page of the
    sweep lists. No worker: they wait for no job."""
    folder = tmp_path_factory.mktemp("shared")
    shutil.copytree(demo_database, folder, dirs_exist_ok=True)
    env = _settings(folder)
    with smtp_server() as box, running(env["DATABASE_URL"], folder / "instance", **mail_settings(box.port)) as served:
        yield served


@pytest.fixture
def served(request) -> Server:
    """The server `visit` opens pages on: the test's own copy of the demo, or, for a test marked `reads_only`, the
    copy shared by such tests."""
    return request.getfixturevalue("shared_server" if request.node.get_closest_marker("reads_only") else "server")


def axe_violations(page, options: dict | None = None) -> list[dict]:
    """What axe finds wrong with the page as it stands, by axe's default rules or those `options` choose. axe is
    injected once per document (evaluating its 570 kB each time cost a tenth of a second), and only violations come
    back: passes and the rest, each with its nodes, are megabytes that nothing reads."""
    if page.evaluate("typeof window.axe") == "undefined":
        page.evaluate(AXE_SCRIPT)
    return page.evaluate(
        "options => axe.run(document, options).then(results => results.violations)",
        {**(options or {}), "resultTypes": ["violations"]},
    )


@dataclass(frozen=True)
class AxeRules:
    """The rules axe runs by default (`visit` fails on their serious and critical violations), and those tagged for
    the WCAG 2.2 AA success criteria, target size among them, which is off by default."""

    default: frozenset[str]
    wcag_22_aa: frozenset[str]

    WCAG_22_AA_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

    def both(self) -> dict:
        """axe's options to run both sets in one go: one pass over the page instead of two."""
        return {"runOnly": {"type": "rule", "values": sorted(self.default | self.wcag_22_aa)}}


_axe_rules: list[AxeRules] = []


def axe_rules(page) -> AxeRules:
    """The two sets of rules as axe itself reports them: every rule it runs is listed in one of its four kinds of
    result, applicable or not, so the sets depend on axe's configuration alone, not on the page. Asked once."""
    if not _axe_rules:
        if page.evaluate("typeof window.axe") == "undefined":
            page.evaluate(AXE_SCRIPT)
        names = """options => axe.run(document, {...options, resultTypes: ["violations"]}).then(results =>
            [results.violations, results.passes, results.incomplete, results.inapplicable].flat().map(r => r.id))"""
        default = page.evaluate(names, {})
        wcag = page.evaluate(names, {"runOnly": {"type": "tag", "values": list(AxeRules.WCAG_22_AA_TAGS)}})
        assert {"color-contrast", "region"} <= set(default) and {"color-contrast", "target-size"} <= set(wcag)
        _axe_rules.append(AxeRules(frozenset(default), frozenset(wcag)))
    return _axe_rules[0]


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.fixture
def visit(page, served):
    """Open a path, check that every request stays on the app's own origin, and that the page passes axe.

    `visit.check()` checks the page as it stands; `visit(path, check=False)` leaves the check to the caller, who
    passes it the violations of axe's default rules found some other way."""
    foreign: list[str] = []
    origin = urlsplit(served.url)[:2]
    page.on(
        "request",
        lambda request: (
            foreign.append(request.url)
            if urlsplit(request.url)[:2] != origin and not request.url.startswith("data:")
            else None
        ),
    )

    def check_accessible(violations: list[dict] | None = None) -> None:
        found = serious(axe_violations(page) if violations is None else violations)
        assert found == [], f"{page.url}: " + "; ".join(f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in found)

    def go(path: str, check: bool = True) -> None:
        page.goto(served.url + path)
        if check:
            check_accessible()

    go.check = check_accessible  # type: ignore[attr-defined]
    go.foreign = foreign  # type: ignore[attr-defined]
    go.server = served  # type: ignore[attr-defined]
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


_sessions: dict[tuple[str, str], list] = {}  # (server, username): the cookies of the one session `signed_in` made


def signed_in(page, visit, username: str) -> None:
    """Be signed in as `username` with one session per server: signed in through the form the first time, after
    which the browser takes that session's cookies, as a person's browser keeps them between visits; and through
    the form again should the session have ended meanwhile (30 idle minutes), lest the pages to check turn out to be
    the sign-in page. On the shared server, the pages listing a person's sessions then read the same whichever test
    came first."""
    key = (visit.server.url, username)
    if key in _sessions:
        page.context.add_cookies(_sessions[key])
        page.goto(visit.server.url + "/account")
        if urlsplit(page.url).path == "/account":
            return
        page.context.clear_cookies()
    sign_in(page, visit, username)
    _sessions[key] = page.context.cookies()


def screenshot(page, name: str) -> None:
    """Keep a screenshot as a test artefact."""
    folder = ARTEFACTS / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
