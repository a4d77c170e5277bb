"""Attachments held across a refused evidence form: the files already checked and stored stay, named in a signed
token the form carries, so the assessor need not choose them again; what nobody comes back for is removed."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from assessor.core import database as db
from assessor.core.jobs import every_hour
from assessor.evidence.attachments import STORED_NAME, stored_path
from assessor.evidence.operations import AttachmentInput
from assessor.models import Attachment

SALT = "held-attachments"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def hold(items: list[AttachmentInput], user_id: int) -> str:
    """A token naming stored files for the next try of the same person's form ("" for none)."""
    if not items:
        return ""
    return _signer().dumps({"user": user_id, "files": [asdict(item) for item in items]})


def unhold(token: str, user_id: int) -> list[AttachmentInput]:
    """The files a token from this person's last try names, still stored and not yet too old; none for a token that
    is forged, someone else's or stale (the assessor then chooses the files again)."""
    if not token or len(token) > 10_000:
        return []
    try:
        held = _signer().loads(token, max_age=int(current_app.config["HELD_ATTACHMENT_HOURS"]) * 3600)
    except BadSignature:
        return []
    if held.get("user") != user_id:
        return []
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    items = [AttachmentInput(**item) for item in held.get("files", [])]
    return [item for item in items if stored_path(upload_dir, item.stored_name).is_file()]


@every_hour
def forget_held_attachments() -> None:
    """Remove stored files no attachment records and nobody has come back for within HELD_ATTACHMENT_HOURS (held for a
    form left refused, or left by a request that failed)."""
    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    if not upload_dir.is_dir():
        return
    cutoff = time.time() - int(current_app.config["HELD_ATTACHMENT_HOURS"]) * 3600
    old = {p.name: p for p in upload_dir.iterdir() if STORED_NAME.fullmatch(p.name) and p.stat().st_mtime < cutoff}
    if not old:
        return
    with db.database().read_sessions() as reader:
        recorded = set(reader.scalars(sa.select(Attachment.stored_name).where(Attachment.stored_name.in_(old))))
    for name, path in old.items():
        if name not in recorded:
            path.unlink(missing_ok=True)
