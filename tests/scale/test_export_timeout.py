"""An export that takes longer than gunicorn lets a request run still finishes: the page only asks for it, and the
worker writes it. Served by gunicorn with a two-second timeout, over HTTP, with a real worker."""

from __future__ import annotations

import http.cookiejar
import io
import re
import time
import urllib.parse
import urllib.request

import openpyxl
import pytest
import sqlalchemy as sa

from assessor.demo.generate import generate
from assessor.demo.sample import create_demo
from assessor.models import Job
from assessor.models.columns import as_utc
from assessor.standards.operations import register_units
from tests.conftest import POSTGRES_URL
from tests.server import app_on, running, working

PASSWORD = "demo password 1"
TIMEOUT = 2  # seconds gunicorn lets a request run (time enough for a sign-in, not for the export)


class Browser:
    """Cookies and CSRF tokens over plain HTTP."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[str, bytes]:
        with self.opener.open(self.base_url + path, timeout=30) as response:
            return response.geturl(), response.read()

    def post(self, path: str, form: dict[str, str], form_page: str | None = None) -> str:
        """Post the form of `form_page` (by default `path` itself) to `path`."""
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', self.get(form_page or path)[1])
        assert token, path
        data = urllib.parse.urlencode({"csrf_token": token.group(1).decode(), **form}).encode()
        with self.opener.open(self.base_url + path, data=data, timeout=30) as response:
            return response.geturl()  # where the redirect led


def test_an_export_longer_than_the_request_timeout_finishes(tmp_path):
    if POSTGRES_URL:
        pytest.skip("the timeout is gunicorn's and the export the worker's, whatever the database: SQLite covers it")
    url = f"sqlite:///{tmp_path / 'assessor.sqlite'}"
    instance = tmp_path / "instance"
    app = app_on(url, instance)
    try:
        assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
        database = app.extensions["database"]
        with database.sessions.begin() as session:
            register_units(session, app.extensions["catalogue"])
            create_demo(session, PASSWORD)
        # Enough evidence that writing its register outlasts the request timeout, however fast the writer gets.
        generate(database.sessions, 600, PASSWORD, seed=5)
        with running(url, instance, workers=1, timeout=TIMEOUT) as server, working(url, instance):
            browser = Browser(server.url)
            browser.post("/sign-in", {"username": "admin", "password": PASSWORD})
            job_page = browser.post("/exports/evidence", {}, form_page="/exports")
            path = urllib.parse.urlsplit(job_page).path
            assert re.fullmatch(r"/jobs/\d+", path), job_page
            deadline = time.monotonic() + 90
            while b"rows written" not in (page := browser.get(path)[1]):
                assert time.monotonic() < deadline, page.decode()[-2000:]
                time.sleep(0.5)
            link = re.search(rb'href="(/exports/\d+/file)"', page)
            assert link
            book = openpyxl.load_workbook(io.BytesIO(browser.get(link.group(1).decode())[1]), read_only=True)
            rows = sum(1 for _ in book["Evidence register"].iter_rows())
            book.close()
        with database.read_sessions() as session:
            job = session.scalars(sa.select(Job)).one()
        assert job.result is not None and rows == job.result["rows"] + 1 > 4000
        assert job.started_at is not None and job.finished_at is not None
        assert (as_utc(job.finished_at) - as_utc(job.started_at)).total_seconds() > TIMEOUT
    finally:
        app.extensions["database"].dispose()
