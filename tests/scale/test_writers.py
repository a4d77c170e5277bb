"""Many writers through a real server, and a crash mid-write: every acknowledged write is kept, with its audit event."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import random
import re
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa

from assessor.models import AuditEvent, Evidence
from tests.records.factories import PASSWORD
from tests.scale.conftest import Seeded
from tests.server import Server, app_on, running

MARK = "Scale test"  # starts every narrative a writer sends
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Ack:
    """A write the server acknowledged with a redirect to the evidence."""

    kind: str  # "record" or "edit", as in the audit action
    evidence_id: int
    narrative: str
    base_version: int | None = None  # the version an edit was made on


@dataclass(frozen=True)
class Reply:
    """A response, whatever its status."""

    status: int
    location: str
    body: str


class Unexpected(Exception):
    """The server answered in a way no correct server would."""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand redirects back to the caller: the redirect to the evidence is the acknowledgement."""

    def redirect_request(self, *args, **kwargs):
        return None


class FormFields(HTMLParser):
    """What a browser would submit from the first form whose tag mentions `marker` (its action or class)."""

    def __init__(self, marker: str):
        super().__init__()
        self.marker = marker
        self.fields: dict[str, str] = {}
        self.state = "before"  # then "inside", then "after"
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.state == "before" and any(self.marker in v for v in a.values()):
            self.state = "inside"
        if self.state != "inside":
            return
        if tag == "option" and self.select and (self.select not in self.fields or "selected" in a):
            self.fields[self.select] = a.get("value", "")
        elif "name" not in a:
            return
        elif (
            tag == "input"
            and a.get("type") not in ("file", "submit")
            and (a.get("type") not in ("radio", "checkbox") or "checked" in a)
        ):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields[self.textarea] = ""
        elif tag == "select":
            self.select = a["name"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.state == "inside":
            self.state = "after"
        elif tag == "textarea" and self.textarea:
            # As browsers do, drop the line break that follows the opening tag.
            self.fields[self.textarea] = self.fields[self.textarea].removeprefix("\r\n").removeprefix("\n")
            self.textarea = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea] += data


def form_fields(page: str, marker: str) -> dict[str, str]:
    """The fields of the form on `page` whose tag mentions `marker`."""
    parser = FormFields(marker)
    parser.feed(page)
    parser.close()
    if parser.state == "before":
        raise Unexpected(f"no form marked {marker!r} on the page: {page[:500]}")
    return parser.fields


@dataclass
class Writer:
    """A browser-like client, signed in as the assessor, that records and edits evidence until told to stop."""

    base_url: str
    seeded: Seeded
    number: int
    acks: list[Ack] = field(default_factory=list)
    refused_edits: int = 0  # 409: changed by someone else meanwhile
    unexpected: list[str] = field(default_factory=list)
    in_flight: str | None = None  # the narrative being posted, if a transport error cut it off
    transport_error: BaseException | None = None
    transport_error_at: float = 0.0
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect
        )
        self.random = random.Random(self.number)

    def request(self, path: str, form: dict[str, str] | None = None) -> Reply:
        """GET, or POST the form; any status comes back as a reply."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base_url + path, data=data, timeout=60) as response:
                return Reply(response.status, response.headers.get("Location", ""), response.read().decode())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers.get("Location", ""), error.read().decode())

    def form(self, path: str, marker: str) -> dict[str, str]:
        """The fields of a form page, as a browser would submit them."""
        reply = self.request(path)
        if reply.status != 200:
            raise Unexpected(f"GET {path}: {reply.status} {reply.body[:1000]}")
        return form_fields(reply.body, marker)

    def sign_in(self) -> None:
        """Sign in through the real form, with its CSRF token."""
        fields = self.form("/sign-in", "/sign-in")
        reply = self.request("/sign-in", {**fields, "username": "assessor", "password": PASSWORD})
        if reply.status != 302:
            raise Unexpected(f"sign-in: {reply.status} {reply.body[:1000]}")

    def record(self) -> None:
        """Record new evidence, mapped into both enrolments."""
        path = f"/trainees/{self.seeded.trainee_id}/evidence/new"
        narrative = self.narrative()
        self.post(
            path,
            {**self.form(path, "evidence-form"), **self.seeded.mappings, "narrative": narrative},
            Ack("record", 0, narrative),
        )

    def edit(self, evidence_id: int) -> None:
        """Change the narrative of evidence, from the edit form as it was read."""
        path = f"/evidence/{evidence_id}/edit"
        fields = self.form(path, "evidence-form")
        narrative = self.narrative()
        self.post(path, {**fields, "narrative": narrative}, Ack("edit", evidence_id, narrative, int(fields["version"])))

    def post(self, path: str, form: dict[str, str], ack: Ack) -> None:
        """Submit the form and keep the acknowledgement, or count the refusal."""
        self.in_flight = ack.narrative
        reply = self.request(path, form)
        self.in_flight = None
        if (
            ack.kind == "edit"
            and reply.status == 409
            and "Someone else saved this evidence while you were working on it" in reply.body
        ):
            self.refused_edits += 1
            return
        found = re.fullmatch(r"(?:https?://[^/]+)?/evidence/(\d+)", reply.location)
        if reply.status != 302 or not found or (ack.kind == "edit" and int(found.group(1)) != ack.evidence_id):
            raise Unexpected(f"POST {path}: {reply.status} {reply.location} {reply.body[:2000]}")
        self.acks.append(Ack(ack.kind, int(found.group(1)), ack.narrative, ack.base_version))

    def narrative(self) -> str:
        """A narrative no other write sends."""
        return f"{MARK}: writer {self.number} saw the trainee handle case {uuid.uuid4().hex}."

    def run(self, seconds: float, max_writes: int, stop: threading.Event) -> None:
        """Sign in, then write (half new evidence, half edits of the shared pool) until the time, the count or
        `stop`."""
        try:
            self.sign_in()
            until = time.monotonic() + seconds
            for _ in range(max_writes):
                if stop.is_set() or time.monotonic() >= until:
                    return
                try:
                    if self.random.random() < 0.5:
                        self.record()
                    else:
                        self.edit(self.random.choice(self.seeded.pool))
                except Unexpected as exc:
                    self.unexpected.append(str(exc))
        except TRANSPORT_ERRORS as exc:
            self.transport_error, self.transport_error_at = (
                exc,
                time.monotonic(),
            )  # the server went away: expected only after a crash
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread, which raises it
            self.error = exc


def start_writers(
    server: Server, seeded: Seeded, count: int, seconds: float, max_writes: int
) -> tuple[list[Writer], list[threading.Thread], threading.Event]:
    """Writers, each on its own thread, already running."""
    stop = threading.Event()
    writers = [Writer(server.url, seeded, n) for n in range(count)]
    threads = [
        threading.Thread(target=w.run, args=(seconds, max_writes, stop), name=f"writer-{w.number}") for w in writers
    ]
    for thread in threads:
        thread.start()
    return writers, threads, stop


def finish(threads: list[threading.Thread]) -> None:
    """Wait for the writers to finish."""
    for thread in threads:
        thread.join(timeout=90)
        assert not thread.is_alive(), f"{thread.name} did not finish"


def check_writers(writers: list[Writer], killed_at: float | None = None) -> list[Ack]:
    """Every acknowledgement, after checking that no writer met an error, a reply no correct server gives or a lost
    connection before any kill."""
    for w in writers:
        if w.error is not None:
            raise w.error
        if w.transport_error is not None and (killed_at is None or w.transport_error_at < killed_at):
            raise w.transport_error
    unexpected = [u for w in writers for u in w.unexpected]
    assert not unexpected, f"{len(unexpected)} unexpected replies, the first: {unexpected[0]}"
    return [a for w in writers for a in w.acks]


@dataclass(frozen=True)
class Logged:
    """An evidence.record or evidence.edit audit event."""

    seq: int
    kind: str
    evidence_id: int
    narrative: str


def stored(url: str, instance: Path) -> tuple[dict[int, str], list[Logged]]:
    """Every evidence's narrative, and every evidence.record and evidence.edit event in chain order, read from the
    database."""
    app = app_on(url, instance)
    try:
        with app.extensions["database"].read_sessions() as session:
            narratives = dict(session.execute(sa.select(Evidence.id, Evidence.narrative)).all())
            events = session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.action.in_(["evidence.record", "evidence.edit"]))
                .order_by(AuditEvent.seq)
            ).all()
    finally:
        app.extensions["database"].dispose()
    return narratives, [
        Logged(e.seq, e.action.removeprefix("evidence."), int(e.entity_id), json.loads(e.after)["narrative"])
        for e in events
    ]


def assert_kept(seeded: Seeded, acks: list[Ack], all_answered: bool) -> None:
    """Every acknowledged write is stored with its audit event, and no two accepted edits were made on the same version.

    With `all_answered` (no request was cut off) nothing was stored that the client was not told was saved.
    """
    narratives, events = stored(seeded.url, seeded.instance)
    last = {e.evidence_id: e.narrative for e in events}
    # Each evidence says what its latest audit event says: no change without its event, none half made.
    assert narratives == last
    seq = {(e.kind, e.evidence_id, e.narrative): e.seq for e in events}
    missing = [a for a in acks if (a.kind, a.evidence_id, a.narrative) not in seq]
    assert not missing, (
        f"{len(missing)} of {len(acks)} acknowledged writes are not stored with their audit event: {missing[:5]}"
    )
    # So an acknowledged edit's narrative is current, or a later edit replaced it; edits on one version would lose one.
    edits: dict[int, list[Ack]] = {}
    for a in sorted((a for a in acks if a.kind == "edit"), key=lambda a: seq[a.kind, a.evidence_id, a.narrative]):
        edits.setdefault(a.evidence_id, []).append(a)
    for evidence_id, made in edits.items():
        versions = [a.base_version for a in made]
        assert versions == sorted(set(versions)), f"evidence {evidence_id}: edits accepted on versions {versions}"
    if all_answered:
        ours = {(e.kind, e.evidence_id, e.narrative) for e in events if e.narrative.startswith(MARK)}
        assert ours == {(a.kind, a.evidence_id, a.narrative) for a in acks}, (
            "a write stored although the client was told it was not"
        )


def assert_audit_verifies(seeded: Seeded) -> None:
    """`assessor audit verify` passes."""
    app = app_on(seeded.url, seeded.instance)
    try:
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
    finally:
        app.extensions["database"].dispose()
    assert result.exit_code == 0 and "audit trail intact" in result.output, result.output


def assert_database_intact(seeded: Seeded) -> None:
    """SQLite: the file passes the integrity and foreign key checks. PostgreSQL: amcheck finds every index consistent
    with its table."""
    if seeded.sqlite_path is not None:
        connection = sqlite3.connect(seeded.sqlite_path)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            connection.close()
        return
    engine = sa.create_engine(seeded.url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
            indexes = (
                connection.exec_driver_sql(
                    "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND n.nspname = current_schema()"
                )
                .scalars()
                .all()
            )
            assert len(indexes) > 10
            for oid in indexes:  # raises on any inconsistency; heapallindexed also checks every row is indexed
                connection.execute(sa.text("SELECT bt_index_check(:oid, true)"), {"oid": oid})
    finally:
        engine.dispose()


def assert_clean_log(seeded: Seeded) -> None:
    """The server logged no lock error and no traceback."""
    log = (seeded.instance / "gunicorn.log").read_text()
    for bad in ("database is locked", "Traceback"):
        assert bad not in log, f"{bad!r} in the gunicorn log:\n{log[-6000:]}"


def test_many_writers_keep_every_acknowledged_write(seeded):
    """Six clients record and edit at once against three workers; every acknowledged write is stored and audited."""
    with running(seeded.url, seeded.instance, workers=3) as server:
        # Until enough of each kind is acknowledged, not for a fixed time: a busy machine writes more slowly.
        writers, threads, stop = start_writers(server, seeded, count=6, seconds=60, max_writes=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(t.is_alive() for t in threads):
            kinds = [a.kind for w in writers for a in list(w.acks)]
            if kinds.count("record") >= 10 and kinds.count("edit") >= 5:
                break
            time.sleep(0.05)
        stop.set()
        finish(threads)
    acks = check_writers(writers)
    refused = sum(w.refused_edits for w in writers)
    print(
        f"{len(acks)} acknowledged writes ({sum(a.kind == 'edit' for a in acks)} edits), {refused} edits refused as changed meanwhile"
    )
    assert sum(a.kind == "record" for a in acks) >= 10 and sum(a.kind == "edit" for a in acks) >= 5
    assert_kept(seeded, acks, all_answered=True)
    assert_audit_verifies(seeded)
    assert_clean_log(seeded)


def test_a_crash_mid_write_loses_no_acknowledged_write(seeded):
    """Kill the server outright while clients write; what it acknowledged is kept, and it starts again and serves."""
    with running(seeded.url, seeded.instance, workers=2) as server:
        # Killed once 30 writes are acknowledged and one is in flight, however long a busy machine takes to get there.
        writers, threads, stop = start_writers(server, seeded, count=4, seconds=300, max_writes=1000)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and all(t.is_alive() for t in threads):
            if sum(len(w.acks) for w in writers) >= 30 and any(w.in_flight for w in writers):
                break
            time.sleep(0.01)
        killed_at = time.monotonic()
        server.stop(signal.SIGKILL)
        stop.set()
        finish(threads)
    acks = check_writers(writers, killed_at)
    cut_off = sum(w.in_flight is not None for w in writers)
    print(f"{len(acks)} writes acknowledged before the kill, {cut_off} posts cut off by it")
    assert len(acks) >= 30
    assert_database_intact(seeded)
    assert_kept(seeded, acks, all_answered=False)
    assert_audit_verifies(seeded)

    with running(seeded.url, seeded.instance, workers=2) as server:
        after = Writer(server.url, seeded, 99)
        after.sign_in()
        after.record()
    assert len(after.acks) == 1
    assert_kept(seeded, acks + after.acks, all_answered=False)
    assert_audit_verifies(seeded)
    assert_clean_log(seeded)
