"""The audit key and the checkpoints: what vouches for the audit trail from outside the database.

The key (`AUDIT_KEY`, hex, else the file `audit_key` in the instance folder, made on first run) signs every event from
the start seal on, the seals and the checkpoints; it is never stored in the database. After each commit that added
audit events, a checkpoint (the chain, the last event's number and hash, the time, signed with the key) is appended as
one line to `<chain>.checkpoints` in `AUDIT_CHECKPOINT_DIR`, outside the database: deleting the last events, or
rewriting the trail, no longer matches it.

Every session of the application's sessionmakers carries the settings in `session.info`, so the operations, the
command line and the bulk generator all find the key through the session they are given.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask

from assessor.domain.audit_chain import canonical, checkpoint_mac, same

KEY_FILE = "audit_key"
KEY_BYTES = 32
MIN_KEY_BYTES = 16
SUFFIX = ".checkpoints"
SETTINGS = "audit"  # session.info: the AuditSettings
CHAIN = "audit_chain"  # session.info: the chain this transaction appends to, once known
PENDING = "audit_pending"  # session.info: (chain, seq, hash) of the last event this transaction appended

log = logging.getLogger("assessor.audit")


@dataclass(frozen=True)
class AuditSettings:
    """The audit key and where checkpoints go."""

    key: bytes
    checkpoint_dir: Path


@dataclass(frozen=True)
class Checkpoint:
    """At `at`, event `seq` of the chain had the hash `hash`; `where` names the file and line."""

    chain: str
    seq: int
    hash: str
    at: str
    where: str


def key_from_hex(text: str, what: str = "the audit key") -> bytes:
    """The key written as hex; ValueError naming `what` when it is not that or too short."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be written in hexadecimal") from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{what} must be at least {MIN_KEY_BYTES} bytes ({2 * MIN_KEY_BYTES} hex digits)")
    return key


def instance_key(instance: Path) -> bytes:
    """The key kept in the instance folder, made on first run (readable by its owner only) and never committed.

    Several server processes may start at once: the file appears whole or not at all, and the first one made wins."""
    path = instance / KEY_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd, made = tempfile.mkstemp(dir=instance, prefix=f".{KEY_FILE}.")  # mode 0600
        try:
            os.write(fd, f"{secrets.token_hex(KEY_BYTES)}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(made, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            os.unlink(made)
    return key_from_hex(path.read_text(), f"the audit key in {path}")


def load_settings(app: Flask) -> AuditSettings:
    """The key from `AUDIT_KEY` (env `ASSESSOR_AUDIT_KEY`) or the instance folder, and the checkpoint folder."""
    value: Any = app.config.get("AUDIT_KEY")
    if value is not None and not isinstance(value, str):
        # Flask reads ASSESSOR_* variables as JSON where they parse: a key of digits only would become a number.
        value = os.environ.get("ASSESSOR_AUDIT_KEY", str(value))
    key = key_from_hex(value, "AUDIT_KEY") if value else instance_key(Path(app.instance_path))
    return AuditSettings(key, Path(app.config["AUDIT_CHECKPOINT_DIR"]))


def install(app: Flask, sessionmakers: tuple[so.sessionmaker[Any], ...]) -> AuditSettings:
    """Give every session of these sessionmakers the audit settings, and write a checkpoint after each commit that
    added audit events."""
    settings = load_settings(app)
    app.extensions["audit"] = settings
    for sessions in sessionmakers:
        sessions.configure(info={SETTINGS: settings})
        sa.event.listen(sessions, "after_commit", _after_commit)
        sa.event.listen(sessions, "after_soft_rollback", _after_rollback)
    return settings


def settings_of(session: so.Session) -> AuditSettings:
    """The audit settings a session carries; an error for a session made elsewhere."""
    settings = session.info.get(SETTINGS)
    if not isinstance(settings, AuditSettings):
        raise RuntimeError("this session has no audit key: use the application's sessions (database().sessions)")
    return settings


def appended(session: so.Session, chain: str, seq: int, hash: str) -> None:
    """Note the last event this transaction appended, for the checkpoint written once it commits."""
    pending = session.info.get(PENDING)
    if pending is None or seq > pending[1]:
        session.info[PENDING] = (chain, seq, hash)


def _after_commit(session: so.Session) -> None:
    session.info.pop(CHAIN, None)
    pending = session.info.pop(PENDING, None)
    if pending is None:
        return
    try:
        write_checkpoint(settings_of(session), *pending)
    except OSError:
        # The events are committed; a missing checkpoint only narrows what can be checked later. Say so loudly.
        log.exception("could not write the audit checkpoint for event %s", pending[1])


def _after_rollback(session: so.Session, _previous: Any) -> None:
    # Whatever this transaction (or a savepoint of it) appended may be gone: never vouch for it.
    session.info.pop(CHAIN, None)
    session.info.pop(PENDING, None)


def checkpoint_file(directory: Path, chain: str) -> Path:
    """The file of one chain's checkpoints."""
    return directory / f"{chain}{SUFFIX}"


def write_checkpoint(settings: AuditSettings, chain: str, seq: int, hash: str) -> None:
    """Append one signed checkpoint line; a single write to a file opened for appending, so that several processes
    appending at once never mix their lines."""
    at = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
    mac = checkpoint_mac(settings.key, chain, seq, hash, at)
    line = canonical({"chain": chain, "seq": seq, "hash": hash, "at": at, "mac": mac}) + "\n"
    settings.checkpoint_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(checkpoint_file(settings.checkpoint_dir, chain), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@dataclass
class CheckpointLog:
    """One chain's checkpoints as read: the good ones, the lines not signed with the key, the unreadable ones."""

    checkpoints: list[Checkpoint]
    forged: list[str]
    unreadable: list[str]


def read_checkpoints(settings: AuditSettings, chain: str) -> CheckpointLog:
    """Every checkpoint of a chain, in file order, each checked against the key."""
    path = checkpoint_file(settings.checkpoint_dir, chain)
    read = CheckpointLog([], [], [])
    if not path.exists():
        return read
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            where = f"{path}, line {number}"
            try:
                fields = json.loads(line)
                found = Checkpoint(fields["chain"], int(fields["seq"]), fields["hash"], fields["at"], where)
                mac = fields["mac"]
                if not all(isinstance(v, str) for v in (found.chain, found.hash, found.at, mac)):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                if line.strip():
                    read.unreadable.append(where)
                continue
            good = same(checkpoint_mac(settings.key, found.chain, found.seq, found.hash, found.at), mac)
            if good and found.chain == chain:
                read.checkpoints.append(found)
            else:
                read.forged.append(where)
    return read


def other_chains(settings: AuditSettings, chain: str | None) -> Iterator[Checkpoint]:
    """The last checkpoint signed with this key of every other chain in the checkpoint folder: the trails of other
    databases, or an earlier trail of this one."""
    if not settings.checkpoint_dir.is_dir():
        return
    for path in sorted(settings.checkpoint_dir.glob(f"*{SUFFIX}")):
        other = path.name.removesuffix(SUFFIX)
        if other == chain:
            continue
        found = read_checkpoints(settings, other).checkpoints
        if found:
            yield max(found, key=lambda c: c.seq)
