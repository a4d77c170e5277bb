"""The issuer's Ed25519 signing key, and the public keys of the keys it replaced: kept outside the database.

The key signing new credentials and status lists is `CREDENTIAL_KEY` (env `ASSESSOR_CREDENTIAL_KEY`, the 32-byte
seed in hex), else the file `credential_key` in the instance folder, made by `assessor init` (or on first use). The
public keys of earlier keys stay published, so that credentials they signed still verify: `CREDENTIAL_RETIRED_KEYS`
(env, comma-separated `publicKeyMultibase` values), else the file `credential_keys_retired`, one per line. Backups
carry both files (unlike the audit key, losing this key would leave every credential unverifiable).
"""

from __future__ import annotations

import datetime
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask, current_app

from assessor.credentials.proof import public_key_from_multibase, public_multibase

KEY_FILE = "credential_key"
RETIRED_FILE = "credential_keys_retired"
SEED_BYTES = 32


@dataclass(frozen=True)
class IssuerKeys:
    """The key that signs now, and the public keys of those it replaced (oldest first)."""

    signing: Ed25519PrivateKey
    retired: tuple[str, ...] = ()

    @property
    def current(self) -> str:
        """The signing key's `publicKeyMultibase`."""
        return public_multibase(self.signing.public_key())

    @property
    def published(self) -> tuple[str, ...]:
        """Every public key whose signatures still verify: the retired ones, then the current one."""
        return (*(k for k in self.retired if k != self.current), self.current)

    def public_key(self, multibase: str) -> Ed25519PublicKey | None:
        """The published key of that `publicKeyMultibase`; None for any other."""
        return public_key_from_multibase(multibase) if multibase in self.published else None


def seed_from_hex(text: str, what: str) -> Ed25519PrivateKey:
    """An Ed25519 key from its 32-byte seed in hex; ValueError naming `what` otherwise."""
    try:
        seed = bytes.fromhex(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be written in hexadecimal") from None
    if len(seed) != SEED_BYTES:
        raise ValueError(f"{what} must be {SEED_BYTES} bytes ({2 * SEED_BYTES} hex digits)")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _write_new(path: Path, text: str) -> bool:
    """Write a file readable by its owner only, whole or not at all; False when it already exists (someone else's
    wins, as several server processes may start at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, made = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(made, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(made)
    return True


def make_instance_key(instance: Path) -> bool:
    """Make the signing key in the instance folder unless it is there; True when it was made."""
    return _write_new(instance / KEY_FILE, f"{secrets.token_hex(SEED_BYTES)}\n")


def _retired_lines(text: str) -> tuple[str, ...]:
    """The public keys a retired-keys file or setting names; `#` starts a comment."""
    keys = []
    for line in text.replace(",", "\n").splitlines():
        key = line.split("#", 1)[0].strip()
        if key:
            public_key_from_multibase(key)  # a ValueError for a line that is not an Ed25519 public key
            keys.append(key)
    return tuple(keys)


def load(app: Flask) -> IssuerKeys:
    """The issuer's keys from the settings, else the instance folder (making the signing key there if missing)."""
    instance = Path(app.instance_path)
    value: Any = app.config.get("CREDENTIAL_KEY")
    if value is not None and not isinstance(value, str):
        # Flask reads ASSESSOR_* variables as JSON where they parse: a key of digits only would become a number.
        value = os.environ.get("ASSESSOR_CREDENTIAL_KEY", str(value))
    if value:
        signing = seed_from_hex(value, "CREDENTIAL_KEY")
    else:
        make_instance_key(instance)
        signing = seed_from_hex((instance / KEY_FILE).read_text(), f"the credential key in {instance / KEY_FILE}")
    retired_setting = app.config.get("CREDENTIAL_RETIRED_KEYS")
    retired_file = instance / RETIRED_FILE
    if retired_setting:
        retired = _retired_lines(str(retired_setting))
    elif retired_file.exists():
        retired = _retired_lines(retired_file.read_text())
    else:
        retired = ()
    return IssuerKeys(signing, retired)


def issuer_keys() -> IssuerKeys:
    """The keys of the running app, read once."""
    keys = current_app.extensions.get("credential_keys")
    if not isinstance(keys, IssuerKeys):
        keys = load(current_app)
        current_app.extensions["credential_keys"] = keys
    return keys


def instance_files(instance: Path) -> tuple[Path, ...]:
    """The key files in the instance folder, as backups archive them: the signing key, the retired keys' record and
    the seeds of retired keys kept aside."""
    found = [instance / KEY_FILE, instance / RETIRED_FILE, *sorted(instance.glob(f"{KEY_FILE}.retired-*"))]
    return tuple(p for p in found if p.is_file())


def rotate(instance: Path) -> tuple[str, str]:
    """Retire the instance folder's signing key (its public key stays published) and make a new one: the old and new
    `publicKeyMultibase`. The old seed is kept beside, renamed with the date, for whoever must prove what it signed."""
    path = instance / KEY_FILE
    old = seed_from_hex(path.read_text(), f"the credential key in {path}")
    old_public = public_multibase(old.public_key())
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    with (instance / RETIRED_FILE).open("a", encoding="utf-8") as retired:
        retired.write(f"{old_public}  # retired {stamp}\n")
    os.replace(path, instance / f"{KEY_FILE}.retired-{stamp}")
    make_instance_key(instance)
    new = seed_from_hex(path.read_text(), f"the credential key in {path}")
    return old_public, public_multibase(new.public_key())
