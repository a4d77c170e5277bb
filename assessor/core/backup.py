"""Backups: one archive with the database, the attachments its records refer to, the audit checkpoints and a manifest
of SHA-256s; and restoring one into an empty instance.

An archive (a .tar, or a .tar.gz) holds:

    database/assessor.sqlite   SQLite: a consistent copy made with SQLite's online backup
    database/assessor.pgdump   PostgreSQL: `pg_dump --format=custom`
    attachments/<stored name>  every file of the upload folder that an attachment row of that copy refers to
    audit-checkpoints/<path>   the audit checkpoint folder as it was
    credential-keys/<file>     the key that signs Open Badges credentials and the record of the keys it replaced, from
                               the instance folder: without them no credential issued could be verified again
    manifest.json              last: every other member with its size and SHA-256, the schema revision, the time, the
                               database kind and the number of rows in each table

The audit key and the secret key are never archived: whoever restores carries them over separately. The credential
signing key is, unlike them: it vouches for nothing in the archive, and losing it would orphan every credential.

Order is consistency. The checkpoints are copied first, then the database, then the attachments the copy refers to: a
checkpoint only ever speaks of events written before it, so each one archived speaks of events the copy holds; and
attachments are only ever added, so a file stored after the copy is one the copy does not refer to.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from assessor.core import migrate
from assessor.core.jobs import QUEUE_SCHEMA

FORMAT = "assessor-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/assessor.sqlite", "postgresql": "database/assessor.pgdump"}
ATTACHMENTS = "attachments"
CHECKPOINTS = "audit-checkpoints"
CREDENTIAL_KEYS = "credential-keys"
# The files of the credential signing key in the instance folder (see assessor.credentials.keys).
CREDENTIAL_KEY_FILE = re.compile(r"credential_key(\.retired-\d{8}T\d{6}Z)?|credential_keys_retired")
STORED_NAME = re.compile(r"[0-9a-f]{32}")  # as the evidence feature names stored files
# Files never archived, wherever they are: the keys that sign audit checkpoints and session cookies.
NEVER_ARCHIVED = frozenset({"audit_key", "secret_key"})
SUFFIXES = {".tar": "", ".tar.gz": "gz", ".tgz": "gz"}
CHUNK = 1024 * 1024
DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")  # <version>/bin/pg_dump, where Debian keeps each version's programs
POSTGRES_CLIENT = "install PostgreSQL's client programs (Debian: apt-get install postgresql-client)"


class BackupError(Exception):
    """A backup or restore refused or failed, with a message for whoever runs it."""


@dataclass(frozen=True)
class Instance:
    """Where one installation keeps its records."""

    engine: sa.Engine
    upload_dir: Path
    checkpoint_dir: Path
    instance_dir: Path
    key_files: tuple[Path, ...] = ()  # never archived, even if they sit in the checkpoint folder
    credential_key_files: tuple[Path, ...] = ()  # archived, and restored into the instance folder

    @property
    def kind(self) -> str:
        return self.engine.dialect.name


@dataclass
class BackupReport:
    """What a backup holds, and what it could not hold."""

    path: Path
    manifest: dict[str, Any]
    missing: list[str] = field(default_factory=list)  # referenced attachments absent from the upload folder
    altered: list[str] = field(default_factory=list)  # attachments whose content no longer matches their row's sha256
    unreferenced: int = 0  # files of the upload folder no record of the copy refers to, left out
    skipped: list[str] = field(default_factory=list)  # checkpoint folder entries left out (keys, links, devices)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.altered


@dataclass
class RestoreReport:
    """What a restore put where."""

    manifest: dict[str, Any]
    revision_before_upgrade: str
    revision: str
    counts: dict[str, int]
    attachments: int
    checkpoints: int
    credential_keys: int = 0
    missing: list[str] = field(default_factory=list)  # attachment rows whose file the backup did not hold
    altered: list[str] = field(default_factory=list)  # archived files whose hash differs from their row's


@dataclass
class _Snapshot:
    """The database copy and what it says, read from the copy itself."""

    member: str
    file: Path
    revision: str
    attachments: list[tuple[str, str]]  # (stored_name, sha256) of every attachment row
    counts: dict[str, int]


# Backing up.


def backup(instance: Instance, target: Path) -> BackupReport:
    """Write a backup archive of `instance` to `target`, which must not exist; nothing is left there on failure."""
    compression = compression_of(target)
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    if instance.kind not in DATABASE_MEMBERS:
        raise BackupError(f"cannot back up a {instance.kind} database")
    checkpoint_dir = _checked_checkpoint_dir(instance)
    try:
        reservation = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{target} exists already: choose a new name") from None
    os.close(reservation)
    try:
        with tempfile.TemporaryDirectory(prefix=".assessor-backup-", dir=target.parent) as work_dir:
            report = _write_archive(instance, checkpoint_dir, Path(work_dir), compression, target)
    except BaseException:
        target.unlink(missing_ok=True)  # only ever our empty reservation: the archive replaces it last of all
        raise
    return report


def compression_of(target: Path) -> str:
    """'' for a .tar, 'gz' for a .tar.gz or .tgz; any other name is refused."""
    for suffix, compression in SUFFIXES.items():
        if target.name.endswith(suffix) and len(target.name) > len(suffix):
            return compression
    raise BackupError(f"name the backup .tar or .tar.gz: {target.name}")


def _write_archive(
    instance: Instance, checkpoint_dir: Path, work: Path, compression: str, target: Path
) -> BackupReport:
    checkpoints, skipped = _copy_checkpoints(checkpoint_dir, work / "checkpoints", instance.key_files)
    created_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    if instance.kind == "sqlite":
        snapshot = _copy_sqlite(instance.engine, work / "database")
    else:
        snapshot = _dump_postgres(instance.engine, work / "database")
    report = BackupReport(target, {})
    members: list[dict[str, Any]] = []
    partial = work / "archive"
    with (
        _private_file(partial) as out,
        _tar_writer(out, compression) as tar,
    ):
        members.append(_add_file(tar, snapshot.member, snapshot.file, 0o600))
        referenced = set()
        for stored_name, sha256 in snapshot.attachments:
            referenced.add(stored_name)
            path = instance.upload_dir / stored_name
            if not STORED_NAME.fullmatch(stored_name) or not path.is_file():
                report.missing.append(stored_name)
                continue
            entry = _add_file(tar, f"{ATTACHMENTS}/{stored_name}", path, 0o600)
            members.append(entry)
            if entry["sha256"] != sha256:
                report.altered.append(stored_name)
        if instance.upload_dir.is_dir():
            report.unreferenced = sum(1 for p in instance.upload_dir.iterdir() if p.name not in referenced)
        for relative, path, mode in checkpoints:
            members.append(_add_file(tar, f"{CHECKPOINTS}/{relative}", path, mode))
        credential_keys = [p for p in instance.credential_key_files if p.is_file() and not p.is_symlink()]
        for path in credential_keys:
            members.append(_add_file(tar, f"{CREDENTIAL_KEYS}/{path.name}", path, 0o600))
        report.skipped = skipped
        report.manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": created_at,
            "assessor_version": _version(),
            "database": {"kind": instance.kind, "member": snapshot.member, "schema_revision": snapshot.revision},
            "counts": snapshot.counts,
            "attachments": {
                "referenced": len(snapshot.attachments),
                "archived": len(snapshot.attachments) - len(report.missing),
                "missing": report.missing,
                "not_matching_their_record": report.altered,
                "unreferenced_files_left_out": report.unreferenced,
            },
            "audit_checkpoints": {"files": len(checkpoints), "left_out": skipped},
            "credential_keys": {"files": [p.name for p in credential_keys]},
            "not_included": "the audit key and the secret key: carry them over separately",
            "members": members,
        }
        _add_bytes(tar, MANIFEST, json.dumps(report.manifest, indent=2, ensure_ascii=False).encode() + b"\n")
    os.replace(partial, target)
    _sync_folder(target.parent)
    return report


def _tar_writer(out: IO[bytes], compression: str) -> tarfile.TarFile:
    if compression == "gz":
        return tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT, compresslevel=6)
    return tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT)


def _checked_checkpoint_dir(instance: Instance) -> Path:
    """The checkpoint folder, refused if it would take in the instance or upload folder (and so keys or stray files)."""
    folder = instance.checkpoint_dir.resolve()
    for inside in (instance.instance_dir, instance.upload_dir):
        if inside.resolve().is_relative_to(folder):
            raise BackupError(
                f"the audit checkpoint folder {instance.checkpoint_dir} holds {inside}: "
                "give the checkpoints a folder of their own (AUDIT_CHECKPOINT_DIR)"
            )
    return instance.checkpoint_dir


def _copy_checkpoints(
    folder: Path, into: Path, key_files: tuple[Path, ...]
) -> tuple[list[tuple[str, Path, int]], list[str]]:
    """Copy the checkpoint folder's regular files aside, before the database copy; never a key, never a link."""
    keys = {k.resolve() for k in key_files}
    copied: list[tuple[str, Path, int]] = []
    skipped: list[str] = []
    if not folder.is_dir():
        return copied, skipped
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if Path(root, d).is_symlink()]:
            path = Path(root, name)
            relative = path.relative_to(folder).as_posix()
            info = path.lstat()
            if name in NEVER_ARCHIVED or path.resolve() in keys or not stat.S_ISREG(info.st_mode):
                skipped.append(relative)
                continue
            copy = into / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy, follow_symlinks=False)
            copied.append((relative, copy, stat.S_IMODE(info.st_mode)))
    return copied, skipped


def _copy_sqlite(engine: sa.Engine, work: Path) -> _Snapshot:
    """A consistent copy of the live SQLite database through SQLite's online backup, and what the copy holds."""
    work.mkdir()
    copy = work / "assessor.sqlite"
    source = engine.raw_connection()
    try:
        destination = sqlite3.connect(copy)
        try:
            with destination:
                source.driver_connection.backup(destination)  # type: ignore[union-attr]
        finally:
            destination.close()
    finally:
        source.close()
    # Read the copy without changing a byte of it (no journal, no locks).
    reader = sqlite3.connect(f"{copy.as_uri()}?immutable=1", uri=True)
    try:
        tables = [
            row[0]
            for row in reader.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        revision = _one_revision(reader.execute("SELECT version_num FROM alembic_version").fetchall(), tables)
        counts = {
            t: reader.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables if t != "alembic_version"
        }
        attachments = [(r[0], r[1]) for r in reader.execute(kept_files_sql(revision))]
    except sqlite3.Error as exc:
        raise BackupError(f"the database is not initialised: {exc}") from None
    finally:
        reader.close()
    return _Snapshot(DATABASE_MEMBERS["sqlite"], copy, revision, attachments, counts)


def kept_files_sql(revision: str) -> str:
    """The (stored name, SHA-256) of every attachment whose file a database at `revision` keeps: from revision 0005
    on, an attachment erased by retention keeps its row but has no file. (Revisions are numbered, so they sort.)"""
    erased = " WHERE erased_on IS NULL" if revision >= "0005" else ""
    return f"SELECT stored_name, sha256 FROM attachment{erased} ORDER BY id"


def _dump_postgres(engine: sa.Engine, work: Path) -> _Snapshot:
    """`pg_dump` of the database, and what it holds read in the very snapshot the dump is taken in."""
    pg_dump = find_program("pg_dump")
    work.mkdir()
    dump = work / "assessor.pgdump"
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            tables = sorted(sa.inspect(connection).get_table_names())
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all() if tables else []
            revision = _one_revision(rows, tables)
            counts = {
                t: connection.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one()
                for t in tables
                if t != "alembic_version"
            }
            attachments = [(r[0], r[1]) for r in connection.exec_driver_sql(kept_files_sql(revision))]
            # The dump sees exactly what was read above: the snapshot stays exported while this transaction is open.
            # The job queue's own schema is left out: after a restore, the sweep sends every unfinished job again.
            command = [pg_dump, "--format=custom", f"--exclude-schema={QUEUE_SCHEMA}", f"--snapshot={snapshot}"]
            _run([*command, f"--file={dump}"], engine.url, "pg_dump")
    return _Snapshot(DATABASE_MEMBERS["postgresql"], dump, revision, attachments, counts)


def _one_revision(rows: Sequence[Any], tables: list[str]) -> str:
    if "alembic_version" not in tables or len(rows) != 1:
        raise BackupError("the database is not initialised: nothing to back up (run `assessor init`)")
    revision: str = rows[0][0]
    return revision


def _add_file(tar: tarfile.TarFile, name: str, path: Path, mode: int) -> dict[str, Any]:
    """Add the file at `path` as `name`; its size and SHA-256 as read into the archive."""
    with path.open("rb") as source:
        info = tarfile.TarInfo(name)
        status = os.fstat(source.fileno())
        info.size, info.mtime, info.mode = status.st_size, int(status.st_mtime), mode
        reader = _Hashing(source)
        tar.addfile(info, cast(IO[bytes], reader))
    return {"name": name, "size": info.size, "sha256": reader.hexdigest()}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.datetime.now().timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))


class _Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, source: IO[bytes]):
        self.source = source
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.hash.update(data)
        return data

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


@contextmanager
def _private_file(path: Path) -> Iterator[IO[bytes]]:
    """A new file readable by its owner only, on disk when the block ends."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        yield out
        out.flush()
        os.fsync(out.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _version() -> str:
    try:
        return metadata.version("assessor")
    except metadata.PackageNotFoundError:
        return "unknown"


# PostgreSQL's programs.


def find_program(name: str) -> str:
    """`pg_dump` or `pg_restore`: from PATH, else the newest in Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = [p for p in DEBIAN_POSTGRESQL.glob(f"*/bin/{name}") if os.access(p, os.X_OK)]
    candidates.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)] or [0])
    if candidates:
        return str(candidates[-1])
    raise BackupError(f"{name} is not installed: {POSTGRES_CLIENT}, of the server's major version or newer")


def _run(command: list[str], url: sa.URL, program: str) -> None:
    """Run pg_dump or pg_restore against `url`; the password goes through the environment, never the command line."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    result = subprocess.run([*command, f"--dbname={target}"], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip() or f'exit status {result.returncode}'}")


# Restoring.


def restore(instance: Instance, source: Path) -> RestoreReport:
    """Restore the archive at `source` into `instance`, which must be empty. Every member is checked against the
    manifest before anything is changed."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    if instance.kind not in DATABASE_MEMBERS:
        raise BackupError(f"cannot restore into a {instance.kind} database")
    _require_empty(instance)
    # Unpack beside the upload folder (on its file system, so that attachments are moved, not copied), making no folder.
    staging_parent = next(p for p in instance.upload_dir.absolute().parents if p.is_dir())
    with tempfile.TemporaryDirectory(prefix=".assessor-restore-", dir=staging_parent) as staging_dir:
        staging = Path(staging_dir)
        manifest = unpack_verified(source, staging, accept=lambda m: _check_restorable(instance, m))
        database_member, revision = _check_restorable(instance, manifest)
        _restore_database(instance, staging / database_member)
        try:
            restored_revision = migrate.current_revision(instance.engine)
            if restored_revision != revision:
                raise BackupError(f"the restored database is at {restored_revision}, its manifest says {revision}")
            counts = _counts(instance.engine)
            attachments = _move_all(staging / ATTACHMENTS, instance.upload_dir, 0o700)
            checkpoints = _move_all(staging / CHECKPOINTS, instance.checkpoint_dir, None)
            credential_keys = _move_all(staging / CREDENTIAL_KEYS, instance.instance_dir, 0o700)
            report = RestoreReport(manifest, revision, revision, counts, attachments, checkpoints, credential_keys)
            _compare_attachments(instance.engine, manifest, report)
            if revision != migrate.head_revision(instance.engine):
                migrate.upgrade(instance.engine)
                report.revision = migrate.current_revision(instance.engine) or ""
        except Exception as exc:
            raise BackupError(
                f"the restore stopped after the database was restored: {exc}. "
                "Empty the database, the upload folder and the checkpoint folder before trying again"
            ) from exc
    return report


def _require_empty(instance: Instance) -> None:
    """Refuse unless the database has no table and the upload and checkpoint folders hold nothing."""
    tables = _tables(instance.engine)
    if tables:
        raise BackupError(
            f"the database is not empty ({len(tables)} tables): restore only into an empty database "
            f"({instance.engine.url.render_as_string(hide_password=True)})"
        )
    for what, folder in (("upload", instance.upload_dir), ("audit checkpoint", instance.checkpoint_dir)):
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise BackupError(f"the {what} folder {folder} is not empty: restore only into an empty instance")


def _tables(engine: sa.Engine) -> list[str]:
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if not path or not Path(path).exists() or Path(path).stat().st_size == 0:
            return []
    with engine.connect() as connection:
        return sorted(sa.inspect(connection).get_table_names())


def unpack_verified(
    source: Path, staging: Path, accept: Callable[[dict[str, Any]], object] | None = None
) -> dict[str, Any]:
    """Unpack the archive's members into `staging`, checking each against the manifest; refuse any difference.
    `accept` may refuse the manifest (by raising BackupError) before anything is unpacked."""
    try:
        with tarfile.open(source, "r:*") as tar:
            members = tar.getmembers()
            manifest = _read_manifest(tar, members)
            if accept is not None:
                accept(manifest)
            expected = {m["name"]: m for m in manifest["members"]}
            seen: set[str] = set()
            for member in members:
                if member.name == MANIFEST:
                    continue
                entry = expected.get(member.name)
                if entry is None or not member.isfile():
                    raise BackupError(f"{member.name} is not in the manifest: not restoring from a changed archive")
                if member.name in seen:
                    raise BackupError(f"{member.name} appears twice in the archive")
                seen.add(member.name)
                if member.size != entry["size"]:
                    raise BackupError(f"{member.name} is {member.size} bytes, its manifest says {entry['size']}")
                if _extract(tar, member, staging / member.name) != entry["sha256"]:
                    raise BackupError(f"{member.name} does not match its SHA-256 in the manifest")
            if absent := sorted(set(expected) - seen):
                raise BackupError(f"the archive lacks {len(absent)} member(s) of its manifest, such as {absent[0]}")
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(f"{source} is damaged, truncated or not a backup: {exc}") from None
    except OSError as exc:
        raise BackupError(f"could not unpack {source}: {exc}") from None
    return manifest


def _read_manifest(tar: tarfile.TarFile, members: list[tarfile.TarInfo]) -> dict[str, Any]:
    found = [m for m in members if m.name == MANIFEST]
    if len(found) != 1 or not found[0].isfile():
        raise BackupError(f"no single {MANIFEST}: the archive is truncated or not an Assessor backup")
    reader = tar.extractfile(found[0])
    assert reader is not None
    try:
        manifest = json.loads(reader.read())
    except ValueError:
        raise BackupError(f"{MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("not an Assessor backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"backup format {manifest.get('format_version')} is not one this version reads")
    listed = manifest.get("members")
    database = manifest.get("database")
    if not isinstance(listed, list) or not isinstance(database, dict) or not isinstance(manifest.get("counts"), dict):
        raise BackupError(f"{MANIFEST} is incomplete")
    names = set()
    for entry in listed:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            raise BackupError(f"{MANIFEST} lists a member without a name, size and SHA-256")
        _check_member_name(entry["name"], database.get("member"))
        names.add(entry["name"])
    if len(names) != len(listed) or database.get("member") not in names:
        raise BackupError(f"{MANIFEST} lists a member twice, or no database")
    return manifest


def _check_member_name(name: str, database_member: object) -> None:
    """Only the names a backup writes: the database, attachments by stored name, checkpoint files below their folder."""
    path = PurePosixPath(name)
    parts = name.split("/")
    safe = (
        not path.is_absolute()
        and "\\" not in name
        and "\0" not in name
        and all(p not in ("", ".", "..") for p in parts)
    )
    if safe and name == database_member and name in DATABASE_MEMBERS.values():
        return
    if safe and len(parts) == 2 and parts[0] == ATTACHMENTS and STORED_NAME.fullmatch(parts[1]):
        return
    if safe and len(parts) >= 2 and parts[0] == CHECKPOINTS and parts[-1] not in NEVER_ARCHIVED:
        return
    if safe and len(parts) == 2 and parts[0] == CREDENTIAL_KEYS and CREDENTIAL_KEY_FILE.fullmatch(parts[1]):
        return
    raise BackupError(f"the manifest lists {name!r}, which no backup writes")


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, path: Path) -> str:
    """Write one member's content to `path`; its SHA-256."""
    reader = tar.extractfile(member)
    assert reader is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with _private_file(path) as out:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    os.chmod(path, stat.S_IMODE(member.mode) & 0o777 or 0o600)
    os.utime(path, (member.mtime, member.mtime))
    return digest.hexdigest()


def _check_restorable(instance: Instance, manifest: dict[str, Any]) -> tuple[str, str]:
    """The database member and revision, refused if this instance's database or this code cannot take them."""
    database = manifest["database"]
    kind, revision = database.get("kind"), database.get("schema_revision")
    archived_keys = any(m["name"].startswith(f"{CREDENTIAL_KEYS}/") for m in manifest["members"])
    if archived_keys and instance.instance_dir.is_dir():
        if present := sorted(p.name for p in instance.instance_dir.iterdir() if CREDENTIAL_KEY_FILE.fullmatch(p.name)):
            raise BackupError(
                f"the instance folder {instance.instance_dir} already holds {', '.join(present)}: move them aside, "
                "as the backup's credential key replaces them (credentials it signed must go on verifying)"
            )
    if kind != instance.kind:
        raise BackupError(f"this is a backup of a {kind} database: restore it into an empty {kind} database")
    if database["member"] != DATABASE_MEMBERS[instance.kind]:
        raise BackupError(f"the manifest names {database['member']} as the database")
    scripts = ScriptDirectory.from_config(migrate.alembic_config(instance.engine))
    try:
        known = isinstance(revision, str) and scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"the backup's schema revision {revision!r} is newer than this version of Assessor knows "
            f"(it knows up to {scripts.get_current_head()}): restore it with the version that made it or a later one"
        )
    return database["member"], revision


def _restore_database(instance: Instance, dump: Path) -> None:
    engine = instance.engine
    engine.dispose()
    if instance.kind == "sqlite":
        target = Path(engine.url.database or "")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.restoring")
        partial.unlink(missing_ok=True)
        shutil.copyfile(dump, partial)
        partial.chmod(0o600)
        with partial.open("rb+") as out:
            os.fsync(out.fileno())
        for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)  # of the empty database being replaced
        os.replace(partial, target)
        _sync_folder(target.parent)
    else:
        pg_restore = find_program("pg_restore")
        # One transaction: a restore that fails leaves the database as empty as it was.
        _run(
            [pg_restore, "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", str(dump)],
            engine.url,
            "pg_restore",
        )
    engine.dispose()


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            t: connection.exec_driver_sql(f'SELECT count(*) FROM "{t}"').scalar_one()
            for t in sorted(sa.inspect(connection).get_table_names())
            if t != "alembic_version"
        }


def _move_all(source: Path, target: Path, folder_mode: int | None) -> int:
    """Move every file below `source` to the same place below `target`; how many."""
    if not source.is_dir():
        return 0
    moved = 0
    target.mkdir(mode=folder_mode or 0o777, parents=True, exist_ok=True)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, destination)
        moved += 1
    return moved


def _compare_attachments(engine: sa.Engine, manifest: dict[str, Any], report: RestoreReport) -> None:
    """Each attachment row against the archived file's SHA-256."""
    archived = {
        m["name"].removeprefix(f"{ATTACHMENTS}/"): m["sha256"]
        for m in manifest["members"]
        if m["name"].startswith(f"{ATTACHMENTS}/")
    }
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(kept_files_sql(report.revision)).all()
    for stored_name, sha256 in rows:
        if stored_name not in archived:
            report.missing.append(stored_name)
        elif archived[stored_name] != sha256:
            report.altered.append(stored_name)
