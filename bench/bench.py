"""The scale benchmark: 1,000 and 10,000 generated trainees on SQLite and PostgreSQL, pages, exports and throughput
against targets."""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import http.cookiejar
import json
import math
import os
import platform
import pstats
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

PASSWORD = "bench-password-1"
SECRET = "bench-secret-key"
SEED = 1
# The two dataset sizes (--sizes changes them, for a quick trial). The large one is the small one grown by trainees in
# cohorts of 25-40 and one cohort as big as the whole small dataset: the heat map of 1,000 trainees at the default
# sizes.
SMALL, LARGE = 1000, 10000
# With --huge, PostgreSQL also measures the pages at this size: the large dataset grown by 90,000 more trainees.
HUGE = 100_000
WARMUP = 5
REQUESTS = 50
PAGE_BUDGET_S = 25.0  # the most one page's timed requests may take: slow pages get fewer (at least MIN_REQUESTS)
MIN_REQUESTS = 10
EXPORTS = ("progress", "matrix", "evidence", "completions")
EXPORT_TIMEOUT_S = 1200
WRK_SECONDS = 15
WRK_CONNECTIONS = 8
CEILING = "hello-world Flask app, 40 KB (the ceiling)"
TRAINEE_HOME = "trainee home (/enrolments)"
TRAINEE_ENROLMENT = "enrolment page, as trainee"
ASSESSOR_HOME = "assessor home (/enrolments)"
SHARE_OF_CEILING = {TRAINEE_HOME: 0.10, TRAINEE_ENROLMENT: 0.10, ASSESSOR_HOME: 0.05}  # issue targets, at LARGE

PAGE_MEDIAN_MS, PAGE_P95_MS = 50.0, 150.0
BIG_HEAT_MAP_MS = 300.0
FLOOR_RATIO = 1.3
EXPORT_PEAK_MB = 200.0


@dataclass(frozen=True)
class Page:
    name: str
    who: str | None  # "assessor", "trainee", "coordinator", or None for the public
    path: Callable[[Subjects], str | None]
    target_ms: tuple[float, float] = (PAGE_MEDIAN_MS, PAGE_P95_MS)


@dataclass(frozen=True)
class Subjects:
    """The records the pages are measured on: the same ones at 1,000 and at 10,000."""

    assessor: str
    trainee: str
    trainee_id: int
    enrolment: int
    cohort: int
    cohort_size: int
    big_cohort: int | None
    big_cohort_size: int
    code: str
    assessor_enrolments: int
    middle: str = ""  # the coordinator's enrolment list, sorted by trainee: the link to the page halfway down
    search: str = ""  # part of a trainee's name, with its diacritics dropped, as a coordinator types it


PAGES = (
    Page("assessor home (/enrolments)", "assessor", lambda s: "/enrolments"),
    Page("enrolment page, as assessor", "assessor", lambda s: f"/enrolments/{s.enrolment}"),
    Page("record-evidence form", "assessor", lambda s: f"/trainees/{s.trainee_id}/evidence/new"),
    Page("trainee home (/enrolments)", "trainee", lambda s: "/enrolments"),
    Page("enrolment page, as trainee", "trainee", lambda s: f"/enrolments/{s.enrolment}"),
    Page("cohort heat map", "coordinator", lambda s: f"/cohorts/{s.cohort}"),
    Page(
        "heat map of the largest cohort (1,000 trainees)",
        "coordinator",
        lambda s: s.big_cohort and f"/cohorts/{s.big_cohort}",
        (BIG_HEAT_MAP_MS, math.inf),
    ),
    Page("public verify page", None, lambda s: f"/verify/{s.code}"),
    Page("cohort list (/cohorts)", "coordinator", lambda s: "/cohorts"),
    Page("coordinator's enrolment list", "coordinator", lambda s: "/enrolments"),
    Page("… halfway down", "coordinator", lambda s: f"/enrolments?at={s.middle}"),
    Page("… its last page", "coordinator", lambda s: "/enrolments?at=end"),
    *(
        Page(f"… by {label}{where}", "coordinator", lambda s, sort=sort, at=at: f"/enrolments?sort={sort}{at}")
        for sort, label in (
            ("unit", "unit"),
            ("progress", "progress"),
            ("outstanding", "most outstanding"),
            ("last_evidence", "last evidence"),
        )
        for where, at in (("", ""), (", last page", "&at=end"))
    ),
    Page("… found by name", "coordinator", lambda s: f"/enrolments?search={s.search}"),
)


@dataclass
class PageResult:
    median_ms: float
    p95_ms: float
    requests: int
    statements: int
    sql_share: float = 0.0
    diagnosis: list[str] = field(default_factory=list)


@dataclass
class Run:
    """Everything measured on one database at one size."""

    database: str
    size: int
    build_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    subjects: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, PageResult] = field(default_factory=dict)
    exports: dict[str, dict[str, float]] = field(default_factory=dict)
    floor: dict[str, dict[str, float]] = field(default_factory=dict)  # each export's openpyxl floor, by kind
    wrk: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, float]] = field(default_factory=dict)


def log(message: str) -> None:
    """Progress on standard error, with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- datasets -----------------------------------------------------------------------------------


def env_for(url: str) -> dict[str, str]:
    """The environment of every child process: the database and a fixed secret key; staff sign in with a password
    alone (the benchmark measures pages, not signing in)."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "ASSESSOR_SECRET_KEY": SECRET,
        "ASSESSOR_MFA_REQUIRED_ROLES": "",
        "PYTHONPATH": str(ROOT),
    }


def assessor_cli(url: str, *args: str, timeout: float | None = 3600) -> str:
    """Run the real `assessor` command; return its output, or fail with it."""
    command = [sys.executable, "-c", "from assessor.cli import main; main()", *args]
    done = subprocess.run(command, cwd=ROOT, env=env_for(url), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"assessor {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def grow(url: str, size: int) -> float:
    """Bring the database to `size` generated trainees through `assessor demo`; return the seconds taken."""
    started = time.perf_counter()
    steps = {
        SMALL: [("--trainees", str(SMALL))],
        LARGE: [("--trainees", str(LARGE - 2 * SMALL)), ("--trainees", str(SMALL), "--cohort-size", str(SMALL))],
        HUGE: [("--trainees", str(HUGE - LARGE))],
    }[size]
    for step in (s for s in steps if int(s[1]) > 0):  # small trial sizes (--sizes 40,80) can leave a step nothing
        log(f"  assessor demo {' '.join(step)}")
        # Growing 90,000 trainees can take over an hour while anything else runs: no time limit here.
        said = assessor_cli(url, "demo", "--password", PASSWORD, "--seed", str(SEED), *step, timeout=None)
        log("  " + said.strip().splitlines()[-1])
    settle(url)
    return time.perf_counter() - started


def settle(url: str) -> None:
    """Leave a grown database as it stands in use, not just after a bulk load: on PostgreSQL its statistics gathered
    (as autovacuum would, some time later); on SQLite its write-ahead log written back and emptied (a log of 150 MB
    left by the growth made the first writes of every later process wait half a second)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def counts_of(engine: sa.Engine) -> dict[str, int]:
    """How many rows the main tables hold."""
    tables = (
        "user_account",
        "cohort",
        "enrolment",
        "evidence",
        "evidence_mapping",
        "acknowledgement",
        "completion_record",
        "audit_event",
    )
    with engine.connect() as connection:
        return {t: connection.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}


class Databases:
    """Where each dataset lives: SQLite files, or databases of a PostgreSQL cluster copied from one another."""

    def __init__(self, name: str, work: Path, server_url: str | None = None):
        self.name = name
        self.work = work
        self.server_url = server_url

    def url(self, size: int) -> str:
        if self.server_url is None:
            return f"sqlite:///{self.work / f'sqlite-{size}.sqlite'}"
        return str(sa.make_url(self.server_url).set(database=f"assessor_bench_{size}"))

    def exists(self, size: int) -> bool:
        if self.server_url is None:
            return (self.work / f"sqlite-{size}.sqlite").exists()
        with self._admin() as connection:
            return bool(
                connection.scalar(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": f"assessor_bench_{size}"}
                )
            )

    def create(self, size: int, previous: int | None) -> None:
        """An empty database, or a copy of the previous size's to grow from."""
        if self.server_url is None:
            path = self.work / f"sqlite-{size}.sqlite"
            for stale in path.parent.glob(path.name + "*"):
                stale.unlink()
            if previous is not None:
                shutil.copy(self.work / f"sqlite-{previous}.sqlite", path)
            return
        with self._admin() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS assessor_bench_{size}")
            if previous is not None:  # a copy needs its source to itself: the job queue's connections may linger
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :source AND pid <> pg_backend_pid()"
                    ),
                    {"source": f"assessor_bench_{previous}"},
                )
            template = f" TEMPLATE assessor_bench_{previous}" if previous is not None else ""
            connection.exec_driver_sql(f"CREATE DATABASE assessor_bench_{size}{template}")

    @contextlib.contextmanager
    def _admin(self) -> Iterator[sa.Connection]:
        engine = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()


# --- pages, in process --------------------------------------------------------------------------


def subjects_of(engine: sa.Engine) -> Subjects:
    """An assessor with 40 trainees (80 enrolments), one of their trainees with both units open, its cohort, the largest
    cohort, a code."""
    with engine.connect() as c:
        assessor_id, assessor, count = c.execute(
            sa.text(
                "SELECT u.id, u.username, count(*) FROM user_account u JOIN enrolment_assessor ea ON ea.user_id = u.id "
                "WHERE u.role = 'assessor' GROUP BY u.id, u.username ORDER BY count(*) DESC, u.id LIMIT 1"
            )
        ).one()
        trainee_id = c.scalar(
            sa.text(
                "SELECT e.trainee_id FROM enrolment e JOIN enrolment_assessor ea ON ea.enrolment_id = e.id WHERE ea.user_id = :a "
                "GROUP BY e.trainee_id HAVING sum(CASE WHEN e.status IN ('active', 'ready_for_sign_off') THEN 1 ELSE 0 END) = 2 "
                "ORDER BY e.trainee_id LIMIT 1"
            ),
            {"a": assessor_id},
        )
        trainee = c.scalar(sa.text("SELECT username FROM user_account WHERE id = :t"), {"t": trainee_id})
        enrolment, cohort = c.execute(
            sa.text(
                "SELECT e.id, e.cohort_id FROM enrolment e JOIN unit_version v ON v.id = e.unit_version_id "
                "WHERE e.trainee_id = :t AND v.unit_id = 'cscofm023'"
            ),
            {"t": trainee_id},
        ).one()
        sizes = dict(
            c.execute(sa.text("SELECT cohort_id, count(DISTINCT trainee_id) FROM enrolment GROUP BY cohort_id")).all()
        )
        big = max(sizes, key=lambda k: sizes[k])
        code = c.scalar(sa.text("SELECT verification_code FROM completion_record ORDER BY id LIMIT 1"))
        middle, search = coordinator_list(c)
    return Subjects(
        assessor,
        trainee,
        trainee_id,
        enrolment,
        cohort,
        sizes[cohort],
        big if sizes[big] >= SMALL else None,
        sizes[big],
        code,
        count,
        middle,
        search,
    )


def coordinator_list(c: sa.Connection) -> tuple[str, str]:
    """The link to the page halfway down the demo coordinator's enrolment list sorted by trainee, as the list makes it;
    and a search for the given name of the trainee there, typed without its macrons."""
    from assessor.core.paging import Cursor
    from assessor.domain.text import folded
    from assessor.progress.queries import SORTS

    visible = (
        "FROM enrolment e JOIN user_account t ON t.id = e.trainee_id JOIN enrolment_progress p ON p.enrolment_id = e.id "
        "JOIN cohort_coordinator cc ON cc.cohort_id = e.cohort_id "
        "JOIN user_account c ON c.id = cc.user_id WHERE c.username = 'coordinator'"
    )
    half = c.scalar(sa.text(f"SELECT count(*) {visible}")) // 2
    name, enrolment, shown = c.execute(
        sa.text(
            f"SELECT p.trainee_name, e.id, t.display_name {visible} ORDER BY p.trainee_name, e.id LIMIT 1 OFFSET :n"
        ),
        {"n": half},
    ).one()
    return Cursor((name, enrolment), True, half + 1).token(SORTS["trainee"]), folded(shown.split()[0])


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    if not match:
        raise RuntimeError("no CSRF token on the sign-in page")
    return match.group(1)


def signed_in_client(app: Any, username: str | None) -> Any:
    """A test client, signed in as `username` (or anonymous for None)."""
    client = app.test_client()
    if username is None:
        return client
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"csrf_token": token, "username": username, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"could not sign in as {username}: {response.status_code}")
    return client


@contextlib.contextmanager
def sql_timer(engine: sa.Engine) -> Iterator[dict[str, Any]]:
    """Count the statements sent inside the block and the time spent in them, keeping each statement's time."""
    found: dict[str, Any] = {"count": 0, "seconds": 0.0, "each": []}
    started: list[float] = []

    def before(_conn, _cursor, statement, *_args) -> None:
        found["count"] += 1
        started.append(time.perf_counter())

    def after(_conn, _cursor, statement, *_args) -> None:
        spent = time.perf_counter() - started.pop()
        found["seconds"] += spent
        found["each"].append((spent, " ".join(statement.split())[:160]))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def fetch(client: Any, path: str) -> float:
    """One request, body read; return its server time in seconds (the test client runs the app in this process)."""
    started = time.perf_counter()
    response = client.get(path)
    response.get_data()
    spent = time.perf_counter() - started
    response.close()
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}")
    return spent


def nearest_rank(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def measure_page(app: Any, client: Any, path: str, target: tuple[float, float]) -> PageResult:
    """Warm up, count the statements of one request, then time up to REQUESTS requests within the page budget."""
    engine = app.extensions["database"].engine
    for _ in range(WARMUP):
        fetch(client, path)
    with sql_timer(engine) as sql:
        first = fetch(client, path)
    count = min(REQUESTS, max(MIN_REQUESTS, int(PAGE_BUDGET_S / max(first, 1e-6))))
    times = [fetch(client, path) for _ in range(count)]
    result = PageResult(
        statistics.median(times) * 1000, nearest_rank(times, 0.95) * 1000, count, sql["count"], sql["seconds"] / first
    )
    if result.median_ms > target[0] or result.p95_ms > target[1]:
        result.diagnosis = diagnose(engine, client, path)
    return result


def diagnose(engine: sa.Engine, client: Any, path: str) -> list[str]:
    """Where a slow page spends its time: its slowest statements and the project's functions that take longest."""
    profile = cProfile.Profile()
    with sql_timer(engine) as sql:
        profile.enable()
        total = sum(fetch(client, path) for _ in range(3))
        profile.disable()
    lines = [f"SQL: {sql['seconds'] / total:.0%} of the time in {sql['count'] // 3} statements per request"]
    slowest: dict[str, float] = {}
    for spent, statement in sql["each"]:
        slowest[statement] = slowest.get(statement, 0.0) + spent / 3
    for statement, spent in sorted(slowest.items(), key=lambda kv: -kv[1])[:2]:
        lines.append(f"{spent * 1000:.0f} ms: `{statement[:120]}`")
    stats = pstats.Stats(profile)
    own = [
        (cumulative / 3, f"{Path(file).name}:{line} {name}")
        for (file, line, name), (_calls, _n, _tt, cumulative, _callers) in stats.stats.items()  # type: ignore[attr-defined]
        if "/assessor/" in file and name not in ("<module>",) and "/views/" not in file
    ]
    for spent, where in sorted(own, reverse=True)[:5]:
        lines.append(f"{spent * 1000:.0f} ms in {where}")
    return lines


def measure_pages(url: str, subjects: Subjects) -> dict[str, PageResult]:
    """Every page, each signed in as the user it is for."""
    from assessor import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "MFA_REQUIRED_ROLES": ""})  # pages, not signing in
    users = {"assessor": subjects.assessor, "trainee": subjects.trainee, "coordinator": "coordinator", None: None}
    clients = {who: signed_in_client(app, username) for who, username in users.items()}
    results = {}
    try:
        for page in PAGES:
            path = page.path(subjects)
            if not path:
                continue
            log(f"  page {page.name}: {path}")
            results[page.name] = measure_page(app, clients[page.who], path, page.target_ms)
            log(
                f"    median {results[page.name].median_ms:.1f} ms, p95 {results[page.name].p95_ms:.1f} ms, {results[page.name].statements} statements"
            )
    finally:
        app.extensions["database"].dispose()
    return results


# --- exports, each in its own process ------------------------------------------------------------


def probe(url: str, what: str, output: Path) -> dict[str, float]:
    """Run bench/probe_export.py for one export or its floor; return what it printed."""
    command = [sys.executable, str(ROOT / "bench" / "probe_export.py"), what, str(output), "--database-url", url]
    done = subprocess.run(command, cwd=ROOT, env=env_for(url), capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"probe {what} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_exports(url: str, out: Path) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Each export's time and peak memory, each followed at once by its openpyxl floor, so that a noisy spell of the
    machine slows an export and its floor alike."""
    exports, floors = {}, {}
    for kind in EXPORTS:
        log(f"  export {kind}")
        exports[kind] = probe(url, kind, out / f"{kind}.xlsx")
        log(f"    {exports[kind]['seconds']:.1f} s, peak {exports[kind]['peak_mb']:.0f} MB")
        floors[kind] = floor = probe(url, f"floor-{kind}", out / f"floor-{kind}.xlsx")
        log(
            f"    floor {floor['seconds']:.1f} s ({floor['rows']:.0f} rows), the project's writer on the same rows "
            f"{floor['writer_seconds']:.1f} s: export / floor {exports[kind]['seconds'] / floor['seconds']:.2f}× "
            f"({exports[kind]['cpu_seconds'] / floor['cpu_seconds']:.2f}× in CPU time)"
        )
    return exports, floors


# --- throughput under gunicorn ------------------------------------------------------------------

# Each page is measured twice: rendered in full for every request, and as repeat views, every request asking with
# If-None-Match as a browser that holds the page does (bench/revalidate.lua), answered 304 while nothing changed.
REPEAT_VIEW = ", repeat view (304)"
REPEAT_SCRIPT = ROOT / "bench" / "revalidate.lua"
TAG_CHECKS = 20  # requests in a row with the tag that must each answer 304 (from either worker) before repeat views


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, log_path: Path, app: str = "assessor:create_app()", cwd: Path = ROOT) -> Iterator[str]:
    """The app (or another, such as the hello-world ceiling) under gunicorn with 2 sync workers on 127.0.0.1; yields
    its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        app,
    ]
    with log_path.open("ab") as sink:
        process = subprocess.Popen(
            command, cwd=cwd, env=env_for(url), stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: see {log_path}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/", timeout=2):
                break
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def session_cookie(base: str, username: str) -> str:
    """Sign in over HTTP with a cookie jar; return the session cookie as a Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/sign-in", timeout=30) as response:
        token = csrf_token(response.read().decode())
    form = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD}).encode()
    with opener.open(f"{base}/sign-in", data=form, timeout=30) as response:
        response.read()
    cookie = next((c for c in jar if c.name == "session"), None)
    if cookie is None:
        raise RuntimeError(f"no session cookie after signing in as {username}")
    return f"session={cookie.value}"


def wrk(base: str, path: str, cookie: str, seconds: int, tag: str | None = None) -> dict[str, Any]:
    """wrk against one page with the session cookie; requests per second, latency and any non-2xx or 3xx answers.
    With `tag`, repeat views: each request sends it as If-None-Match, and how many answers were 304 is counted."""
    command = ["wrk", "-t2", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency", "-H", f"Cookie: {cookie}"]
    if tag is not None:
        command += ["-s", str(REPEAT_SCRIPT), f"{base}{path}", "--", tag]
    else:
        check_page(base, path, cookie)
        command.append(f"{base}{path}")
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE))
    result = {
        "rps": rps,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "p50": latency.get("50", "?"),
        "p99": latency.get("99", "?"),
    }
    if tag is not None:
        counted = re.search(r"Not modified: (\d+), rendered: (\d+)", output)
        result["not_modified"], result["rendered"] = int(counted.group(1)), int(counted.group(2))
    return result


def check_page(base: str, path: str, cookie: str) -> None:
    """Refuse to measure anything but the page itself: with the cookie, a whole page."""
    with urllib.request.urlopen(urllib.request.Request(f"{base}{path}", headers={"Cookie": cookie}), timeout=30) as r:
        if r.status != 200 or "/sign-in" in r.geturl():
            raise RuntimeError(f"{path} with the cookie answered {r.status} at {r.geturl()}")
        if len(r.read()) < 1000:
            raise RuntimeError(f"{path} answered almost nothing: not the page to measure")


def settled_tag(base: str, path: str, cookie: str) -> str:
    """The page's ETag, once TAG_CHECKS requests in a row sending it were each answered 304, from whichever worker.
    A 200 meanwhile brings a newer tag (the CSRF token's slice of time turned, say), which is checked in turn."""
    tag = None
    for _ in range(3):
        if tag is None:
            with urllib.request.urlopen(
                urllib.request.Request(f"{base}{path}", headers={"Cookie": cookie}), timeout=30
            ) as response:
                tag = response.headers.get("ETag")
                response.read()
            if not tag:
                raise RuntimeError(f"{path} has no ETag: repeat views cannot be measured")
        for _ in range(TAG_CHECKS):
            request = urllib.request.Request(f"{base}{path}", headers={"Cookie": cookie, "If-None-Match": tag})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    tag = response.headers.get("ETag") if response.status == 200 else None
                    break  # a whole page: check its tag afresh
            except urllib.error.HTTPError as answer:
                if answer.code != 304:
                    raise RuntimeError(f"{path} with its tag answered {answer.code}, not 304") from None
        else:
            return tag
    raise RuntimeError(f"{path} did not answer its own tag with 304 {TAG_CHECKS} times in a row")


def measure_throughput(url: str, subjects: Subjects, out: Path) -> dict[str, dict[str, Any]]:
    """Requests per second of the trainee's pages and the assessor's home with 2 gunicorn workers, rendered in full
    and as repeat views, and in the same run of a hello-world Flask app under the same settings, the ceiling they are
    shares of; skipped when wrk is missing."""
    if shutil.which("wrk") is None:
        log("  wrk is not installed: throughput skipped (apt-get install wrk)")
        return {}
    results = {}

    def measure(name: str, base: str, path: str, cookie: str, tag: str | None = None) -> None:
        wrk(base, path, cookie, 3, tag)  # warm both workers
        results[name] = w = wrk(base, path, cookie, WRK_SECONDS, tag)
        counted = f", {w['not_modified']} × 304, {w['rendered']} rendered" if tag else ""
        log(f"  wrk {name}: {w['rps']:.0f} req/s, p50 {w['p50']}, p99 {w['p99']}{counted}")

    with gunicorn(url, out / "gunicorn.log") as base:
        trainee = session_cookie(base, subjects.trainee)
        assessor = session_cookie(base, subjects.assessor)
        pages = (
            (TRAINEE_HOME, "/enrolments", trainee),
            (TRAINEE_ENROLMENT, f"/enrolments/{subjects.enrolment}", trainee),
            (ASSESSOR_HOME, "/enrolments", assessor),
        )
        for name, path, cookie in pages:
            measure(name, base, path, cookie)
        for name, path, cookie in pages:
            measure(name + REPEAT_VIEW, base, path, cookie, settled_tag(base, path, cookie))
    with gunicorn(url, out / "gunicorn-hello.log", app="hello:app", cwd=ROOT / "bench") as base:
        measure(CEILING, base, "/", "none=0")
    return results


# --- jobs, end to end ----------------------------------------------------------------------------

JOB_EXPORTS = ("matrix", "evidence")
JOB_TIMEOUT_S = 3600


@contextlib.contextmanager
def worker(url: str, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`assessor worker` beside the app, as a site runs it (one job at a time)."""
    command = [sys.executable, "-c", "from assessor.cli import main; main()", "worker"]
    with log_path.open("ab") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env_for(url), stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def job_done(engine: sa.Engine, job_id: int, doer: subprocess.Popen[bytes]) -> float:
    """Wait for a job to finish; when it did (a monotonic time), or fail with its error (or the worker's end)."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        if doer.poll() is not None:
            raise RuntimeError(f"the worker ended ({doer.returncode}) before job {job_id} was done: see worker.log")
        with engine.connect() as connection:
            status, error = connection.execute(
                sa.text("SELECT status, error FROM job WHERE id = :id"), {"id": job_id}
            ).one()
        if status == "done":
            return time.monotonic()
        if status == "failed":
            raise RuntimeError(f"job {job_id} failed: {error}")
        time.sleep(0.1)
    raise RuntimeError(f"job {job_id} not done in {JOB_TIMEOUT_S} s")


def ask_and_wait(client: Any, engine: sa.Engine, kind: str, doer: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Ask for an export of every enrolment on the web; its job's id and when it was done."""
    token = csrf_token(client.get("/exports").get_data(as_text=True))
    response = client.post(f"/exports/{kind}", data={"csrf_token": token, "format": "xlsx"})
    if response.status_code != 302:
        raise RuntimeError(f"asking for the {kind} export: {response.status_code}")
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    return job_id, job_done(engine, job_id, doer)


def measure_jobs(url: str, out: Path) -> dict[str, dict[str, float]]:
    """Each export of every enrolment asked for on the web as the coordinator, done by a real worker: seconds from
    the request to the file being ready, and the file's size."""
    from assessor import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "MFA_REQUIRED_ROLES": ""})
    engine = app.extensions["database"].engine
    client = signed_in_client(app, "coordinator")
    results: dict[str, dict[str, float]] = {}
    try:
        with worker(url, out / "worker.log") as doer:
            ask_and_wait(client, engine, "completions", doer)  # warm-up: the worker has started and imported everything
            for kind in JOB_EXPORTS:
                asked = time.monotonic()
                job_id, ready = ask_and_wait(client, engine, kind, doer)
                file = client.get(f"/exports/{job_id}/file")
                if file.status_code != 200:
                    raise RuntimeError(f"the {kind} export's file: {file.status_code}")
                results[kind] = {"seconds": ready - asked, "bytes": len(file.get_data())}
                log(f"  export job {kind}: {results[kind]['seconds']:.1f} s, {results[kind]['bytes']:,} bytes")
    finally:
        app.extensions["database"].dispose()
    return results


# --- the run and its report ---------------------------------------------------------------------


def run_database(databases: Databases, out: Path, reuse: bool, skip: set[str], huge: bool) -> list[Run]:
    """Build each size (each from a copy of the one before) and measure it; the huge one, pages and throughput only."""
    runs = []
    previous = None
    earlier = {r.size: r for r in load_runs(out / f"results-{databases.name.lower()}.json")}
    for size in (SMALL, LARGE, HUGE) if huge else (SMALL, LARGE):
        url = databases.url(size)
        run = Run(databases.name, size)
        if reuse and databases.exists(size):
            log(f"{databases.name} {size}: reusing the dataset, " + assessor_cli(url, "init").strip().splitlines()[0])
            run.build_seconds = (
                earlier[size].build_seconds if size in earlier else 0.0
            )  # as long as it took when it was built
        else:
            log(f"{databases.name} {size}: building")
            databases.create(size, previous)
            run.build_seconds = grow(url, size)
        engine = sa.create_engine(url)
        try:
            run.counts = counts_of(engine)
            subjects = subjects_of(engine)
        finally:
            engine.dispose()
        run.subjects = asdict(subjects)
        log(f"{databases.name} {size}: {run.counts}")
        where = out / f"{databases.name.lower()}-{size}"
        where.mkdir(parents=True, exist_ok=True)
        run.pages = measure_pages(url, subjects)
        if "exports" not in skip and size != HUGE:
            run.exports, run.floor = measure_exports(url, where)
        if "wrk" not in skip:
            run.wrk = measure_throughput(url, subjects, where)
        if "jobs" not in skip and size != HUGE:
            run.jobs = measure_jobs(url, where)
        runs.append(run)
        (out / f"results-{databases.name.lower()}.json").write_text(
            json.dumps([asdict(r) for r in runs], indent=1, default=str)
        )
        previous = size
    return runs


def machine() -> list[str]:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    import sqlite3

    return [
        f"- Machine: {os.cpu_count()} cores ({cpu}), {memory} MB of memory, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, SQLAlchemy {sa.__version__}, SQLite {sqlite3.sqlite_version}",
    ]


def ok(met: bool) -> str:
    return "met" if met else "**missed**"


def load_runs(path: Path) -> list[Run]:
    """The runs an earlier invocation wrote as JSON, or none."""
    if not path.exists():
        return []
    runs = []
    for data in json.loads(path.read_text()):
        run = Run(**data)
        run.pages = {name: PageResult(**page) for name, page in run.pages.items()}
        runs.append(run)
    return runs


def report(runs: list[Run], took: str, notes: dict[str, str], postgres_version: str | None) -> str:
    """RESULTS.md: measured against target, with a note under each missed target."""
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `bench/run` on {datetime.date.today().isoformat()}; {took}. See `bench/README.md` for how each figure is measured.",
        "",
        *machine(),
        f"- PostgreSQL: {postgres_version or 'not run'}",
        "",
        "## Datasets",
        "",
        "| database | trainees | built in | users | cohorts | enrolments | evidence | judgements | completion records | audit events |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        c = r.counts
        built = f"{r.build_seconds:.0f} s" if r.build_seconds else "reused"
        lines.append(
            f"| {r.database} | {r.size:,} | {built} | {c['user_account']:,} | {c['cohort']:,} | {c['enrolment']:,} | {c['evidence']:,} | "
            f"{c['evidence_mapping']:,} | {c['completion_record']:,} | {c['audit_event']:,} |"
        )
    lines += [
        "",
        f"The {LARGE:,} dataset is the {SMALL:,} one grown by {LARGE - 2 * SMALL:,} trainees in cohorts of 25–40 and one cohort of {SMALL:,}; "
        "its time is the time to grow it.",
        "",
    ]
    lines += page_table(runs, notes)
    lines += statement_table(runs)
    lines += huge_table(runs, notes)
    lines += export_table(runs, notes)
    lines += throughput_table(runs, notes)
    lines += jobs_table(runs)
    missed = [note for key, note in notes.items() if key.startswith("!")]
    if missed:
        lines += ["## Notes on missed targets", "", *missed, ""]
    return "\n".join(lines) + "\n"


def page_table(runs: list[Run], notes: dict[str, str]) -> list[str]:
    lines = [
        "## Pages: server time",
        "",
        f"In-process with Flask's test client, signed in as the page's user, after {WARMUP} warm-up requests; "
        f"median and 95th percentile (nearest rank) of up to {REQUESTS} requests. Target at {LARGE:,} trainees: "
        f"median ≤ {PAGE_MEDIAN_MS:.0f} ms and p95 ≤ {PAGE_P95_MS:.0f} ms; the {SMALL:,}-trainee heat map ≤ {BIG_HEAT_MAP_MS:.0f} ms (median).",
        "",
        f"| page | database | {SMALL:,}: median / p95 | {LARGE:,}: median / p95 | requests | target | at {LARGE:,} |",
        "|---|---|---|---|---|---|---|",
    ]
    for page in PAGES:
        for database in dict.fromkeys(r.database for r in runs):
            by_size = {r.size: r.pages.get(page.name) for r in runs if r.database == database}
            big = by_size.get(LARGE)
            if big is None:
                continue
            small = by_size.get(SMALL)
            target = f"≤ {page.target_ms[0]:.0f} ms" + (
                f" / ≤ {page.target_ms[1]:.0f} ms" if page.target_ms[1] != math.inf else ""
            )
            met = big.median_ms <= page.target_ms[0] and big.p95_ms <= page.target_ms[1]
            if not met:
                key = f"!{page.name}"
                detail = "; ".join(big.diagnosis)
                notes.setdefault(key, f"- **{page.name}** ({notes.get(page.name, 'see the profile below')})")
                notes[key] += f"\n  - {database} at {LARGE:,}, profile: {detail}"
            first = f"{small.median_ms:.1f} / {small.p95_ms:.1f} ms" if small else "–"
            lines.append(
                f"| {page.name} | {database} | {first} | {big.median_ms:.1f} / {big.p95_ms:.1f} ms | {big.requests} | {target} | {ok(met)} |"
            )
    return lines + [""]


def huge_table(runs: list[Run], notes: dict[str, str]) -> list[str]:
    """The pages at HUGE trainees (PostgreSQL), against the same targets, with statement counts beside those at SMALL."""
    huge = [r for r in runs if r.size == HUGE]
    if not huge:
        return []
    lines = [
        f"## Pages at {HUGE:,} trainees",
        "",
        f"As above, on the {LARGE:,} dataset grown by {HUGE - LARGE:,} trainees in cohorts of 25–40. Target for every page: "
        f"median ≤ {PAGE_MEDIAN_MS:.0f} ms and p95 ≤ {PAGE_P95_MS:.0f} ms; the statements the same as at {SMALL:,}.",
        "",
        f"| page | database | median / p95 | requests | statements ({SMALL:,} / {HUGE:,}) | time | statements |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in huge:
        small = next((s for s in runs if s.database == r.database and s.size == SMALL), None)
        for page in PAGES:
            p = r.pages.get(page.name)
            if p is None:
                continue
            before = small.pages.get(page.name) if small else None
            met = p.median_ms <= page.target_ms[0] and p.p95_ms <= page.target_ms[1]
            if not met:
                key = f"!{page.name}"
                notes.setdefault(key, f"- **{page.name}** ({notes.get(page.name, 'see the profile below')})")
                notes[key] += f"\n  - {r.database} at {HUGE:,}, profile: {'; '.join(p.diagnosis)}"
            counts = f"{before.statements} / {p.statements}" if before else f"– / {p.statements}"
            same = ok(before.statements == p.statements) if before else "–"
            lines.append(
                f"| {page.name} | {r.database} | {p.median_ms:.1f} / {p.p95_ms:.1f} ms | {p.requests} | {counts} | {ok(met)} | {same} |"
            )
    return lines + [""]


def statement_table(runs: list[Run]) -> list[str]:
    lines = [
        "## Pages: SQL statements per request",
        "",
        f"Counted with a `before_cursor_execute` listener on one request. Target: the same count at {SMALL:,} and at {LARGE:,}.",
        "",
        f"| page | database | {SMALL:,} | {LARGE:,} | equal |",
        "|---|---|---|---|---|",
    ]
    for page in PAGES:
        for database in dict.fromkeys(r.database for r in runs):
            by_size = {r.size: r.pages.get(page.name) for r in runs if r.database == database}
            small, big = by_size.get(SMALL), by_size.get(LARGE)
            if small is None or big is None:
                if big is not None:
                    lines.append(f"| {page.name} | {database} | – | {big.statements} | (only at {LARGE:,}) |")
                continue
            lines.append(
                f"| {page.name} | {database} | {small.statements} | {big.statements} | {ok(small.statements == big.statements)} |"
            )
    return lines + [""]


def export_table(runs: list[Run], notes: dict[str, str]) -> list[str]:
    lines = [
        "## Exports",
        "",
        "`assessor export KIND --as coordinator -o FILE` (every enrolment) in a fresh process each: time of the command itself, the "
        "application built first by the command's own factory and its start-up shown apart (the same for every export; a worker pays it "
        "once for all its jobs), and the process's peak resident memory (`VmHWM`, which includes Python and the app: the baseline "
        f"before the export is shown beside it). Targets at {LARGE:,}: every export within {FLOOR_RATIO}× its openpyxl floor, peak "
        f"memory < {EXPORT_PEAK_MB:.0f} MB.",
        "",
        "| export | database | trainees | time | start-up | peak memory (baseline) | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        floors = floors_of(r)
        for kind, e in r.exports.items():
            target, met = f"< {EXPORT_PEAK_MB:.0f} MB", e["peak_mb"] < EXPORT_PEAK_MB
            if kind in floors:
                target += f", ≤ {FLOOR_RATIO}× floor"
                met = met and e["seconds"] <= FLOOR_RATIO * floors[kind]["seconds"]
            shown = ok(met) if r.size == LARGE else ("(met)" if met else "(over)")
            started = f"{e['start_seconds']:.1f} s" if "start_seconds" in e else "–"
            if not met and r.size == LARGE:
                key = f"!export {kind}"
                notes.setdefault(key, f"- **{kind} export** ({notes.get('export ' + kind, 'see the figures above')})")
            lines.append(
                f"| {kind} | {r.database} | {r.size:,} | {e['seconds']:.1f} s | {started} | {e['peak_mb']:.0f} MB ({e['baseline_mb']:.0f} MB) | {target} | {shown} |"
            )
    lines += [
        "",
        "The floor: for each export, measured just after it, plain openpyxl in write-only mode writing the same cells "
        "(values, number formats, status fills and fonts) from the export's rows already in memory, as the cells store them; "
        "beside it, the project's own writer on the same rows. The export's time over its floor is the ratio the target names; "
        "beside it the same ratio in the processes' CPU time, which varies less on a shared machine but leaves out the "
        "database server's work.",
        "",
        f"| export | database | trainees | rows | cells | floor | project's writer | export | ratio export / floor | in CPU time | ≤ {FLOOR_RATIO}× |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        for kind, f in floors_of(r).items():
            if kind not in r.exports:
                continue
            e = r.exports[kind]
            ratio = e["seconds"] / f["seconds"]
            cpu = f"{e['cpu_seconds'] / f['cpu_seconds']:.2f}×" if "cpu_seconds" in e and "cpu_seconds" in f else "–"
            met = ratio <= FLOOR_RATIO
            shown = ok(met) if r.size == LARGE else ("(met)" if met else "(over)")
            lines.append(
                f"| {kind} | {r.database} | {r.size:,} | {f['rows']:,.0f} | {f['cells']:,.0f} | {f['seconds']:.1f} s | "
                f"{f['writer_seconds']:.1f} s | {e['seconds']:.1f} s | {ratio:.2f}× | {cpu} | {shown} |"
            )
    return lines + [""]


def floors_of(run: Run) -> dict[str, dict[str, float]]:
    """The run's floors by export; an earlier run's figures (`--report-only`) have the criteria matrix's alone."""
    if "seconds" in run.floor:
        return {"matrix": run.floor}  # type: ignore[dict-item]
    return run.floor


def throughput_table(runs: list[Run], notes: dict[str, str]) -> list[str]:
    lines = [
        "## Throughput under gunicorn",
        "",
        f"gunicorn with 2 sync workers on 127.0.0.1, `wrk -t2 -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s` with the page's user's "
        "session cookie, on the same 2 cores (wrk takes a share of them). In the same run, the same gunicorn settings serve "
        f"a hello-world Flask app answering 40 KB (`bench/hello.py`): the ceiling each figure is a share of. Targets at "
        f"{LARGE:,}: the trainee's pages ≥ 10 % of the ceiling, the assessor's home ≥ 5 %.",
        "",
        "Each page twice: *full render*, every request rendering the whole page; and *repeat view*, every request "
        "sending the page's ETag as If-None-Match as a browser holding the page does (`bench/revalidate.lua`), "
        "answered 304 Not Modified while nothing it shows changed; the answers column counts 304s and whole pages.",
        "",
        "| page | view | database | trainees | req/s | share of the ceiling | latency p50 / p99 | answers | non-2xx/3xx | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        ceiling = r.wrk.get(CEILING, {}).get("rps")
        pages = list(dict.fromkeys(name.removesuffix(REPEAT_VIEW) for name in r.wrk))
        for name, w in sorted(r.wrk.items(), key=lambda item: pages.index(item[0].removesuffix(REPEAT_VIEW))):
            page = name.removesuffix(REPEAT_VIEW)
            view = "–" if name == CEILING else ("repeat view" if page != name else "full render")
            answers = f"{w['not_modified']:,} × 304, {w['rendered']:,} whole" if "not_modified" in w else "–"
            share = w["rps"] / ceiling if ceiling else None
            shown_share = f"{share:.1%}" if share is not None and name != CEILING else "–"
            wanted = SHARE_OF_CEILING.get(page)
            if wanted is None or share is None:
                target, shown = "–", "–"
            else:
                met = share >= wanted and w["non_2xx"] == 0
                target = f"≥ {wanted:.0%}"
                shown = ok(met) if r.size == LARGE else ("(met)" if met else "(under)")
                if not met and r.size == LARGE:
                    notes.setdefault(
                        f"!wrk {name}", f"- **{name} under gunicorn** ({notes.get('wrk', 'see the figures above')})"
                    )
            lines.append(
                f"| {page} | {view} | {r.database} | {r.size:,} | {w['rps']:.0f} | {shown_share} | {w['p50']} / {w['p99']} | "
                f"{answers} | {w['non_2xx']} | {target} | {shown} |"
            )
    return lines + [""]


def jobs_table(runs: list[Run]) -> list[str]:
    measured = [r for r in runs if r.jobs]
    if not measured:
        return []
    lines = [
        "## Export jobs, end to end",
        "",
        "Asked for on the web as the coordinator (every enrolment, xlsx), done by `assessor worker` in a process of its "
        "own: the time from the request to the file being ready, and the file's size. No target: any size must finish.",
        "",
        "| export | database | trainees | request to file ready | file |",
        "|---|---|---|---|---|",
    ]
    for r in measured:
        for kind, j in r.jobs.items():
            lines.append(f"| {kind} | {r.database} | {r.size:,} | {j['seconds']:.1f} s | {j['bytes'] / 1e6:.1f} MB |")
    return lines + [""]


def postgres_version(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SHOW server_version"))
    finally:
        engine.dispose()


def sizes(text: str) -> tuple[int, int]:
    small, large = (int(n) for n in text.split(","))
    if not 0 < 2 * small <= large:
        raise argparse.ArgumentTypeError("expected SMALL,LARGE with LARGE at least twice SMALL")
    return small, large


def set_sizes(small: int, large: int, huge: int) -> None:
    global SMALL, LARGE, HUGE
    SMALL, LARGE, HUGE = small, large, huge


def main() -> None:
    """Parse the arguments, run each database in turn, write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres-url",
        help="a PostgreSQL server (any database on it) to build the datasets on; omit to run SQLite only",
    )
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "out", help="where datasets, exports and logs go")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse datasets left by an earlier run (SQLite files) instead of building them",
    )
    parser.add_argument(
        "--skip", action="append", default=[], choices=["exports", "wrk", "jobs", "sqlite"], help="leave out a part"
    )
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=(SMALL, LARGE),
        help="SMALL,LARGE trainees (default 1000,10000); LARGE at least 2 × SMALL",
    )
    parser.add_argument(
        "--huge",
        nargs="?",
        type=int,
        const=HUGE,
        help=f"PostgreSQL only: also build this many trainees (default {HUGE:,}; the large dataset grown) and measure "
        "its pages and throughput",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="measure nothing: write the report again from the figures in WORK/results.json",
    )
    args = parser.parse_args()
    set_sizes(*args.sizes, args.huge or HUGE)
    from notes import NOTES  # bench/notes.py: this script's folder is first on sys.path

    version = postgres_version(args.postgres_url) if args.postgres_url else None
    if args.report_only:
        args.results.write_text(
            report(
                load_runs(args.work / "results.json"),
                "this report was written again from that run's figures (`--report-only`)",
                dict(NOTES),
                version,
            )
        )
        log(f"wrote {args.results}")
        return
    started = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    targets = [] if "sqlite" in args.skip else [Databases("SQLite", args.work)]
    if args.postgres_url:
        targets.append(Databases("PostgreSQL", args.work, args.postgres_url))
    runs = []
    for databases in targets:
        runs += run_database(
            databases, args.work, args.reuse, set(args.skip), args.huge and databases.server_url is not None
        )
        (args.work / "results.json").write_text(json.dumps([asdict(r) for r in runs], indent=1, default=str))
    took = f"the whole run took {(time.perf_counter() - started) / 60:.0f} minutes"
    args.results.write_text(report(runs, took, dict(NOTES), version))
    log(f"wrote {args.results}")


if __name__ == "__main__":
    main()
