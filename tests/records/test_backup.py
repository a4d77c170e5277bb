"""`assessor backup` and `assessor restore`: a backup restored into an empty instance verifies its audit chain, holds
every attachment with its hash and serves every page; a changed archive, a non-empty instance or an existing path is
refused and changes nothing. On PostgreSQL (TEST_DATABASE_URL) the same tests go through pg_dump and pg_restore, into
throwaway databases created beside the test database."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re
import shutil
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask

from assessor.cohorts.operations import withdraw
from assessor.core import backup, migrate
from assessor.core.access import scope_of
from assessor.core.database import make_engine
from assessor.credentials import keys as credential_keys
from assessor.domain.retention import DEFAULT_RULES
from assessor.domain.vocabulary import Verdict
from assessor.evidence.operations import MappingInput, record_evidence
from assessor.models import Attachment, Enrolment, Evidence, User
from assessor.retention.operations import Erasure, erase_if_due
from tests.conftest import POSTGRES_URL, assert_tallies_current
from tests.records.factories import TODAY, observation
from tests.server import app_on
from tests.web.conftest import PDF, WebWorld, build_web_world, sign_in, stored_attachment, with_group_observations
from tests.web.test_access import expected, requests

POSTGRES = bool(POSTGRES_URL) and sa.make_url(POSTGRES_URL or "").get_backend_name() == "postgresql"
DATABASE_MEMBER = "database/assessor.pgdump" if POSTGRES else "database/assessor.sqlite"
SIGNED_IN_USERS = ["admin", "coordinator", "assessor", "trainee"]


# Instances: an app with its own database, upload folder and audit checkpoint folder.


def folders(app: Flask) -> tuple[Path, Path]:
    return Path(app.config["UPLOAD_DIR"]), Path(app.config["AUDIT_CHECKPOINT_DIR"])


@pytest.fixture
def empty_instance(tmp_path) -> Iterator[Callable[[str], Flask]]:
    """A factory of apps on an empty database (no table at all) with empty folders under tmp_path/NAME: a new SQLite
    file, or a throwaway database created on the PostgreSQL server of TEST_DATABASE_URL and dropped afterwards (never
    the test database itself)."""
    made: list[Flask] = []
    created: list[str] = []
    server = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT") if POSTGRES and POSTGRES_URL else None

    def make(name: str) -> Flask:
        if server is None:
            url = f"sqlite:///{tmp_path / name / 'assessor.sqlite'}"
        else:
            database = f"assessor_restore_{uuid.uuid4().hex[:12]}"
            with server.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
            created.append(database)
            url = sa.make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)
        made.append(app_on(url, tmp_path / name))
        made[-1].instance_path = str(tmp_path / name / "instance")  # not the checkout's, which may hold keys
        return made[-1]

    yield make
    try:
        for app in made:
            assert_tallies_current(app.extensions["database"].engine)
    finally:
        for app in made:
            app.extensions["database"].dispose()
        if server is not None:
            with server.connect() as connection:
                for database in created:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            server.dispose()


@pytest.fixture
def original(make_app, tmp_path) -> Flask:
    """The app on this test's database, with folders of its own."""
    app = make_app(
        UPLOAD_DIR=str(tmp_path / "original" / "uploads"),
        AUDIT_CHECKPOINT_DIR=str(tmp_path / "original" / "audit-checkpoints"),
    )
    app.instance_path = str(tmp_path / "original" / "instance")  # not the checkout's, which may hold keys
    return app


def build(app: Flask) -> WebWorld:
    """Records of every kind, with attachments, in the app's own upload folder."""
    assert Path(app.config["UPLOAD_DIR"]) == folders(app)[0]
    return build_web_world(app)


# What an instance holds.


def row_counts(app: Flask) -> dict[str, int]:
    engine = app.extensions["database"].engine
    with engine.connect() as connection:
        return {
            table: connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar_one()
            for table in sorted(sa.inspect(connection).get_table_names())
        }


def files_under(folder: Path) -> dict[str, str]:
    """Every file below `folder`, by relative path, with its SHA-256."""
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def state(app: Flask) -> tuple[Any, ...]:
    """Everything a refused restore must leave as it was: the rows, both folders and what lies beside them."""
    upload_dir, checkpoint_dir = folders(app)
    return (
        row_counts(app),
        files_under(upload_dir),
        files_under(checkpoint_dir),
        sorted(p.name for p in upload_dir.parent.iterdir()) if upload_dir.parent.is_dir() else None,
    )


def invoke(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def rewrite(archive: Path, target: Path, change: Callable[[str, bytes], bytes]) -> None:
    """A copy of the archive with each member's content passed through `change`."""
    with tarfile.open(archive) as tar, tarfile.open(target, "w") as out:
        for member in tar.getmembers():
            data = change(member.name, tar.extractfile(member).read())  # type: ignore[union-attr]
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))


# The round trip.


def test_a_restored_backup_verifies_holds_every_attachment_and_serves_every_page(original, empty_instance, tmp_path):
    world = with_group_observations(original, build(original))
    archive = tmp_path / "backup.tar.gz"
    result = invoke(original, "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert "attachments: 3 of 3" in result.output

    contents = members(archive)
    manifest = json.loads(contents["manifest.json"])
    assert manifest["database"] == {
        "kind": "postgresql" if POSTGRES else "sqlite",
        "member": DATABASE_MEMBER,
        "schema_revision": migrate.current_revision(original.extensions["database"].engine),
    }
    assert manifest["counts"] == {t: n for t, n in row_counts(original).items() if t != "alembic_version"}
    listed = {m["name"]: m for m in manifest["members"]}
    assert set(listed) == set(contents) - {"manifest.json"}
    for name, data in contents.items():
        if name != "manifest.json":
            assert listed[name] == {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    with original.extensions["database"].read_sessions() as session:
        stored = {a.stored_name: a.sha256 for a in session.scalars(sa.select(Attachment))}
    assert {n.removeprefix("attachments/") for n in contents if n.startswith("attachments/")} == set(stored)

    restored = empty_instance("restored")
    result = invoke(restored, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "as the manifest says" in result.output

    verified = invoke(restored, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert row_counts(restored) == row_counts(original)
    upload_dir, checkpoint_dir = folders(restored)
    with restored.extensions["database"].read_sessions() as session:
        rows = session.scalars(sa.select(Attachment)).all()
    assert len(rows) == 3
    for row in rows:
        assert hashlib.sha256((upload_dir / row.stored_name).read_bytes()).hexdigest() == row.sha256
    assert files_under(upload_dir) == files_under(folders(original)[0])
    assert files_under(checkpoint_dir) == files_under(folders(original)[1])

    walked = walk_every_page(original, restored, world)
    assert walked > 50


def test_a_backup_after_an_erasure_holds_the_files_kept_and_restores_to_a_verified_trail(
    original, empty_instance, tmp_path
):
    world = build(original)
    sessions = original.extensions["database"].sessions
    with sessions.begin() as session:
        admin = session.scalars(sa.select(User).where(User.username == "admin")).one()
        withdraw(session, admin, session.get_one(Enrolment, world.other_enrolment), "Left the course.")
    with sessions.begin() as session:
        admin = session.scalars(sa.select(User).where(User.username == "admin")).one()
        evidence = session.get_one(Evidence, world.other_evidence)
        erased = erase_if_due(session, admin, evidence, DEFAULT_RULES, datetime.date(2040, 1, 1))
    assert isinstance(erased, Erasure) and len(erased.files) == 1
    for name in erased.files:
        (folders(original)[0] / name).unlink()

    archive = tmp_path / "backup.tar"
    result = invoke(original, "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert "attachments: 2 of 2" in result.output and "MISSING" not in result.output
    restored = empty_instance("restored")
    result = invoke(restored, "restore", str(archive))
    assert result.exit_code == 0, result.output
    verified = invoke(restored, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    with restored.extensions["database"].read_sessions() as session:
        assert session.get_one(Evidence, world.other_evidence).erased_on == datetime.date(2040, 1, 1)


def walk_every_page(original: Flask, restored: Flask, world: WebWorld) -> int:
    """Every page each signed-in role may reach by the access policy, for their own records and others': 200 on the
    restored app (a redirect where the original redirects), and the same page as on the original."""
    pages = 0
    for username in SIGNED_IN_USERS:
        before, after = original.test_client(), restored.test_client()
        assert sign_in(before, username).status_code == 302
        assert sign_in(after, username).status_code == 302
        with original.extensions["database"].read_sessions() as session:
            user = session.scalar(sa.select(User).where(User.username == username))
            urls = sorted(
                {
                    original.url_map.bind("localhost").build(endpoint, values)
                    for endpoint, method, _which, values in requests(original, world)
                    # (the API takes a token, never a signed-in browser: its answers are checked in tests/web)
                    if method == "GET"
                    and scope_of(original, endpoint) is None
                    and expected(original, session, user, endpoint, values)
                }
            )
        for url in urls:
            was, now = before.get(url), after.get(url)
            try:
                same_page(username, url, was, now)
            finally:
                was.close()
                now.close()
            pages += 1
    return pages


def same_page(username: str, url: str, was: Any, now: Any) -> None:
    if re.fullmatch(r"/exports/\d+/file", url):  # a finished export is not backed up: made again on request
        assert (was.status_code, now.status_code) == (200, 410), (username, url)
        assert "no longer kept" in now.get_data(as_text=True)
        return
    if re.fullmatch(r"/(reset|welcome)/[^/]+", url):  # a link nobody was given, dead before and after
        assert was.status_code == now.status_code == 410, (username, url)
        return
    if url == "/sign-in/code":  # no password was just checked: back to signing in
        assert was.headers["Location"] == now.headers["Location"] == "/sign-in", (username, url)
        return
    if url in ("/account/two-factor", "/account/sessions"):  # a new secret on each visit; the browsers signed in
        assert was.status_code == now.status_code == 200, (username, url)
        return
    if was.status_code == 302:  # the home page and the sign-in page send a signed-in user on
        assert now.status_code == 302, (username, url, now.status_code)
        assert now.headers["Location"] == was.headers["Location"] != "/sign-in", (username, url)
        return
    assert now.status_code == was.status_code == 200, (username, url, was.status_code, now.status_code)
    assert now.mimetype == was.mimetype, (username, url)
    if now.mimetype == "text/html":
        assert comparable(now.get_data(as_text=True)) == comparable(was.get_data(as_text=True)), (username, url)
    elif re.fullmatch(r"/credentials/status/\d+", url):  # signed afresh on each request: the same list, a new proof
        assert json.loads(now.get_data())["credentialSubject"] == json.loads(was.get_data())["credentialSubject"]
    else:
        assert now.get_data() == was.get_data(), (username, url)


def comparable(page: str) -> str:
    """A page without what differs from one session, or one showing of a form, to another."""
    return re.sub(r'(name="(?:csrf_token|submission)"[^>]*value=|name="csrf-token" content=)"[^"]*"', r"\1", page)


# Refusals that change nothing.


@pytest.fixture
def archive(original, tmp_path) -> Path:
    """An uncompressed backup of the world, so that its bytes can be changed in place."""
    build(original)
    path = tmp_path / "backup.tar"
    result = invoke(original, "backup", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_restore_into_an_instance_that_is_not_empty_is_refused_and_changes_nothing(archive, empty_instance):
    restored = empty_instance("restored")
    assert invoke(restored, "restore", str(archive)).exit_code == 0
    before = state(restored)
    again = invoke(restored, "restore", str(archive))
    assert again.exit_code == 1
    assert "the database is not empty" in again.output
    assert state(restored) == before

    for which in ("upload", "checkpoint"):
        instance = empty_instance(f"stray-{which}")
        folder = folders(instance)[0 if which == "upload" else 1]
        folder.mkdir(parents=True)
        (folder / "stray").write_bytes(b"left here")
        before = state(instance)
        result = invoke(instance, "restore", str(archive))
        assert result.exit_code == 1
        assert f"folder {folder} is not empty" in result.output
        assert state(instance) == before


def flip_one_byte(archive: Path, member_name: str, at: int = 100) -> None:
    with tarfile.open(archive) as tar:
        member = tar.getmember(member_name)
    with archive.open("r+b") as f:
        f.seek(member.offset_data + min(at, member.size - 1))
        byte = f.read(1)
        f.seek(-1, io.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x01]))


@pytest.mark.parametrize("member", ["database", "attachment"])
def test_a_changed_byte_is_refused_and_changes_nothing(archive, empty_instance, member):
    names = members(archive)
    name = DATABASE_MEMBER if member == "database" else next(n for n in names if n.startswith("attachments/"))
    flip_one_byte(archive, name)
    restored = empty_instance("restored")
    before = state(restored)
    result = invoke(restored, "restore", str(archive))
    assert result.exit_code == 1
    assert f"{name} does not match its SHA-256 in the manifest" in result.output
    assert state(restored) == before


def test_a_truncated_archive_is_refused_and_changes_nothing(archive, empty_instance, tmp_path):
    data = archive.read_bytes()
    with tarfile.open(archive) as tar:
        cuts = [tar.getmember(name).offset_data + 10 for name in (DATABASE_MEMBER, "manifest.json")]
    for n, cut in enumerate(cuts):
        truncated = tmp_path / f"truncated{n}.tar"
        truncated.write_bytes(data[:cut])
        restored = empty_instance(f"restored{n}")
        before = state(restored)
        result = invoke(restored, "restore", str(truncated))
        assert result.exit_code == 1, result.output
        assert re.search(r"truncated|lacks|damaged", result.output), result.output
        assert state(restored) == before


def test_a_member_the_manifest_does_not_list_is_refused(archive, empty_instance, tmp_path):
    extra = tmp_path / "extra.tar"
    shutil.copy(archive, extra)
    with tarfile.open(extra, "a") as tar:
        info = tarfile.TarInfo("attachments/" + "0" * 32)
        info.size = 3
        tar.addfile(info, io.BytesIO(b"new"))
    restored = empty_instance("restored")
    before = state(restored)
    result = invoke(restored, "restore", str(extra))
    assert result.exit_code == 1
    assert "is not in the manifest" in result.output
    assert state(restored) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_revision": "9999"}, "newer than this version of Assessor knows"),
        ({"kind": "mysql"}, "this is a backup of a mysql database"),
    ],
)
def test_a_backup_this_code_cannot_take_is_refused_before_anything_changes(
    archive, empty_instance, tmp_path, change, message
):
    def edit(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["database"].update(change)
        return json.dumps(manifest).encode()

    edited = tmp_path / "edited.tar"
    rewrite(archive, edited, edit)
    restored = empty_instance("restored")
    before = state(restored)
    result = invoke(restored, "restore", str(edited))
    assert result.exit_code == 1
    assert message in result.output
    assert state(restored) == before


def test_a_backup_path_that_exists_is_refused(original, tmp_path):
    build(original)
    existing = tmp_path / "backup.tar"
    existing.write_bytes(b"an older backup")
    result = invoke(original, "backup", str(existing))
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert existing.read_bytes() == b"an older backup"
    result = invoke(original, "backup", str(tmp_path / "backup.zip"))
    assert result.exit_code == 1 and "name the backup .tar or .tar.gz" in result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == ["backup.tar"]


# What goes in, and what never does.


def test_the_checkpoint_folder_is_copied_as_it_is_and_no_key_ever(make_app, empty_instance, tmp_path):
    instance = tmp_path / "instance"
    checkpoints = instance / "audit-checkpoints"
    original = make_app(UPLOAD_DIR=str(instance / "uploads"), AUDIT_CHECKPOINT_DIR=str(checkpoints))
    original.instance_path = str(instance)
    build(original)
    key = b"0123456789abcdef0123456789abcdef-the-audit-key"
    (instance / "audit_key").write_bytes(key)
    (instance / "secret_key").write_bytes(b"the-secret-key")
    (checkpoints / "nested").mkdir(parents=True)
    (checkpoints / "main.checkpoints").write_bytes(b'{"seq": 1}\n{"seq": 2}\n')
    (checkpoints / "nested" / "older.checkpoints").write_bytes(b'{"seq": 0}\n')
    (checkpoints / "audit_key").write_bytes(key)  # misplaced: never archived all the same
    (checkpoints / "key-link").symlink_to(instance / "audit_key")

    # Whatever else the folder holds (checkpoints the app wrote itself) goes in too, but never a key or a link.
    kept = {name: sha256 for name, sha256 in files_under(checkpoints).items() if name not in ("audit_key", "key-link")}
    assert {"main.checkpoints", "nested/older.checkpoints"} <= set(kept)

    archive = tmp_path / "backup.tar"
    result = invoke(original, "backup", str(archive))
    assert result.exit_code == 0, result.output
    contents = members(archive)
    assert {n for n in contents if n.startswith("audit-checkpoints/")} == {f"audit-checkpoints/{n}" for n in kept}
    assert not any(key in data or b"the-secret-key" in data for data in contents.values())
    assert json.loads(contents["manifest.json"])["audit_checkpoints"]["left_out"] == ["audit_key", "key-link"]

    restored = empty_instance("restored")
    assert invoke(restored, "restore", str(archive)).exit_code == 0
    assert files_under(folders(restored)[1]) == kept

    outside = make_app(UPLOAD_DIR=str(instance / "uploads"), AUDIT_CHECKPOINT_DIR=str(tmp_path))
    outside.instance_path = str(instance)
    refused = invoke(outside, "backup", str(tmp_path / "again.tar"))
    assert refused.exit_code == 1 and "give the checkpoints a folder of their own" in refused.output


def test_only_referenced_attachments_go_in_and_a_missing_one_is_named(original, empty_instance, tmp_path):
    build(original)
    upload_dir = folders(original)[0]
    (upload_dir / ("f" * 32)).write_bytes(b"stored for a request that kept nothing")
    with original.extensions["database"].read_sessions() as session:
        gone = session.scalars(sa.select(Attachment.stored_name).order_by(Attachment.id)).first()
    assert gone is not None
    (upload_dir / gone).unlink()

    archive = tmp_path / "backup.tar"
    result = invoke(original, "backup", str(archive))
    assert result.exit_code == 1  # written all the same, but not complete
    assert f"MISSING: attachment file {gone}" in result.output
    assert "left out 1 file(s) of the upload folder that no record refers to" in result.output
    manifest = json.loads(members(archive)["manifest.json"])
    assert manifest["attachments"]["missing"] == [gone]
    assert not any(n.endswith("f" * 32) for n in members(archive))

    restored = empty_instance("restored")
    result = invoke(restored, "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert f"MISSING: attachment file {gone} was not in the backup" in result.output
    assert len(files_under(folders(restored)[0])) == 2


def test_a_backup_of_an_older_schema_is_upgraded_on_restore(empty_instance, tmp_path):
    old = empty_instance("old")
    engine = old.extensions["database"].engine
    config = migrate.alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    archive = tmp_path / "old.tar.gz"
    result = invoke(old, "backup", str(archive))
    assert result.exit_code == 0, result.output

    restored = empty_instance("restored")
    result = invoke(restored, "restore", str(archive))
    assert result.exit_code == 0, result.output
    head = migrate.head_revision(engine)
    assert f"at schema {head} (upgraded from 0002)" in result.output
    assert migrate.current_revision(restored.extensions["database"].engine) == head


def test_a_backup_taken_while_records_are_written_is_consistent(original, empty_instance, tmp_path):
    """Writers keep recording evidence with attachments during the backup: every attachment the copy refers to is in
    the archive, and the restored chain verifies."""
    world = build(original)
    upload_dir = folders(original)[0]
    sessions = original.extensions["database"].sessions
    stop = threading.Event()
    written: list[int] = []
    failed: list[BaseException] = []

    def keep_writing() -> None:
        try:
            while not stop.is_set():
                with sessions.begin() as session:
                    assessor, trainee = (
                        session.scalars(sa.select(User).where(User.username == name)).one()
                        for name in ("assessor", "trainee")
                    )
                    record_evidence(
                        session,
                        assessor,
                        trainee,
                        observation(f"Written during the backup {len(written)}."),
                        [MappingInput(world.open_enrolment, "1.1", Verdict.SATISFIED)],
                        [stored_attachment(upload_dir, data=PDF + f"% {len(written)}\n".encode())],
                        today=TODAY,
                    )
                written.append(1)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failed.append(exc)

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(written) < 3 and not failed and time.monotonic() < deadline:
            time.sleep(0.05)
        archive = tmp_path / "backup.tar"
        result = invoke(original, "backup", str(archive))
        during = len(written)
    finally:
        stop.set()
        thread.join()
    assert failed == []
    assert result.exit_code == 0, result.output
    assert during >= 3  # the writers were at work when the backup began

    restored = empty_instance("restored")
    assert invoke(restored, "restore", str(archive)).exit_code == 0
    verified = invoke(restored, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    with restored.extensions["database"].read_sessions() as session:
        rows = session.scalars(sa.select(Attachment)).all()
    restored_uploads = folders(restored)[0]
    assert len(rows) >= 3 + 3
    for row in rows:
        assert hashlib.sha256((restored_uploads / row.stored_name).read_bytes()).hexdigest() == row.sha256


# PostgreSQL's programs.


def test_pg_dump_is_found_where_debian_keeps_it_or_named_with_its_package(monkeypatch, tmp_path):
    for version in ("9.6", "15", "16"):
        program = tmp_path / version / "bin" / "pg_dump"
        program.parent.mkdir(parents=True)
        program.write_text("#!/bin/sh\n")
        program.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(backup, "DEBIAN_POSTGRESQL", tmp_path)
    assert backup.find_program("pg_dump") == str(tmp_path / "16" / "bin" / "pg_dump")
    with pytest.raises(backup.BackupError, match=r"pg_restore is not installed: .*apt-get install postgresql-client"):
        backup.find_program("pg_restore")


def test_the_credential_signing_key_goes_in_and_comes_back_to_the_instance_folder(original, empty_instance, tmp_path):
    instance = Path(original.instance_path)
    build(original)
    credential_keys.make_instance_key(instance)
    credential_keys.rotate(instance)  # a retired key too, whose public key must stay published
    kept = {p.name: p.read_bytes() for p in credential_keys.instance_files(instance)}
    assert len(kept) == 3
    archive = tmp_path / "backup.tar"
    result = invoke(original, "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert "credential signing keys: credential_key, credential_keys_retired, credential_key.retired-" in result.output
    contents = members(archive)
    assert {n: contents[f"credential-keys/{n}"] for n in kept} == kept
    assert json.loads(contents["manifest.json"])["credential_keys"]["files"] == list(kept)

    restored = empty_instance("restored")
    result = invoke(restored, "restore", str(archive))
    assert result.exit_code == 0, result.output
    back = Path(restored.instance_path)
    assert {p.name: p.read_bytes() for p in credential_keys.instance_files(back)} == kept
    assert (back / credential_keys.KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_a_restore_never_overwrites_a_credential_key_already_there(original, empty_instance, tmp_path):
    instance = Path(original.instance_path)
    build(original)
    credential_keys.make_instance_key(instance)
    archive = tmp_path / "backup.tar"
    assert invoke(original, "backup", str(archive)).exit_code == 0
    restored = empty_instance("restored")
    credential_keys.make_instance_key(Path(restored.instance_path))
    theirs = (Path(restored.instance_path) / credential_keys.KEY_FILE).read_bytes()
    result = invoke(restored, "restore", str(archive))
    assert result.exit_code == 1 and "already holds credential_key: move them aside" in result.output
    assert (Path(restored.instance_path) / credential_keys.KEY_FILE).read_bytes() == theirs
