"""Checking and storing files attached to evidence: size limit, allowed types checked by content, random stored
names."""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assessor.evidence.operations import AttachmentInput

CHUNK = 64 * 1024
HEAD = 512  # enough leading bytes to recognise every allowed kind
MAX_NAME = 255  # the width of attachment.original_name
STORED_NAME = re.compile(r"[0-9a-f]{32}")

# Control, format (bidi overrides that disguise an extension), surrogate and line/paragraph separator characters.
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}
_MARKUP = ("<!doctype html", "<html", "<script", "<svg", "<?xml")
# What zipfile and zlib may raise on a damaged or unusual archive; any of them means "not the document it claims".
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError, zlib.error)

Check = Callable[[Path, bytes], bool]


class UploadRefused(Exception):
    """An upload was refused; `message` tells the person uploading why."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Kind:
    """An allowed kind of file: how to name it to people, its content type, and how to recognise its content."""

    label: str
    content_type: str
    matches: Check


def _starts(*prefixes: bytes) -> Check:
    """Content that starts with one of these signatures."""
    return lambda path, head: head.startswith(prefixes)


def _riff(form: bytes) -> Check:
    """A RIFF container of this form (WAVE, WEBP)."""
    return lambda path, head: head[:4] == b"RIFF" and head[8:12] == form


def _brands(head: bytes) -> set[bytes]:
    """The major and compatible brands of the ftyp box that opens an ISO media file (MP4, MOV, HEIC, M4A)."""
    size = int.from_bytes(head[:4], "big")
    if head[4:8] != b"ftyp" or size < 16:
        return set()
    box = head[8:size]
    return {box[:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}


def _ftyp(*brands: bytes) -> Check:
    """An ISO media file carrying one of these brands."""
    return lambda path, head: not _brands(head).isdisjoint(brands)


def _ooxml(folder: str) -> Check:
    """An Office Open XML package (docx, xlsx, pptx) with its part folder."""

    def matches(path: Path, head: bytes) -> bool:
        # The zip must start the file: zipfile also reads archives appended to other files, such as executables.
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(path) as package:
                names = package.namelist()
        except _ZIP_ERRORS:
            return False
        return "[Content_Types].xml" in names and any(name.startswith(folder) for name in names)

    return matches


def _odf(mimetype: str) -> Check:
    """An OpenDocument package whose first member, "mimetype", names this type."""

    def matches(path: Path, head: bytes) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(path) as package:
                members = package.infolist()
                if not members or members[0].filename != "mimetype":
                    return False
                with package.open(members[0]) as member:
                    return member.read(100) == mimetype.encode()
        except _ZIP_ERRORS:
            return False

    return matches


def _plain_text(path: Path, head: bytes) -> bool:
    """UTF-8 text without NUL bytes that does not open like HTML, SVG, XML or a script."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    start = ""
    try:
        with path.open("rb") as file:
            while chunk := file.read(CHUNK):
                if b"\0" in chunk:
                    return False
                start = (start + decoder.decode(chunk)).lstrip()[:20]
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return not start.lower().startswith(_MARKUP)


_OLE2 = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office; doc, xls and ppt share it, so any of them passes as another
)
_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."

# The allowed kinds, by lower-case extension without the dot, in the order they are listed to people.
ALLOWED: dict[str, Kind] = {
    "pdf": Kind("a PDF file", "application/pdf", _starts(b"%PDF-")),
    # Images, mostly from tablet cameras.
    "png": Kind("a PNG image", "image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    "jpg": Kind("a JPEG image", "image/jpeg", _starts(b"\xff\xd8\xff")),
    "jpeg": Kind("a JPEG image", "image/jpeg", _starts(b"\xff\xd8\xff")),
    "gif": Kind("a GIF image", "image/gif", _starts(b"GIF87a", b"GIF89a")),
    "webp": Kind("a WebP image", "image/webp", _riff(b"WEBP")),
    "heic": Kind("a HEIC image", "image/heic", _ftyp(b"heic", b"heix", b"mif1", b"msf1")),
    "heif": Kind("a HEIF image", "image/heic", _ftyp(b"heic", b"heix", b"mif1", b"msf1")),
    # Office documents: Office Open XML, OpenDocument and legacy Office.
    "docx": Kind("a Word document", _OOXML + "wordprocessingml.document", _ooxml("word/")),
    "xlsx": Kind("an Excel spreadsheet", _OOXML + "spreadsheetml.sheet", _ooxml("xl/")),
    "pptx": Kind("a PowerPoint presentation", _OOXML + "presentationml.presentation", _ooxml("ppt/")),
    "odt": Kind("an OpenDocument text document", _ODF + "text", _odf(_ODF + "text")),
    "ods": Kind("an OpenDocument spreadsheet", _ODF + "spreadsheet", _odf(_ODF + "spreadsheet")),
    "odp": Kind("an OpenDocument presentation", _ODF + "presentation", _odf(_ODF + "presentation")),
    "doc": Kind("a Word document", "application/msword", _starts(_OLE2)),
    "xls": Kind("an Excel spreadsheet", "application/vnd.ms-excel", _starts(_OLE2)),
    "ppt": Kind("a PowerPoint presentation", "application/vnd.ms-powerpoint", _starts(_OLE2)),
    # Plain text.
    "txt": Kind("a text file", "text/plain", _plain_text),
    "csv": Kind("a CSV file", "text/csv", _plain_text),
    "md": Kind("a Markdown file", "text/plain", _plain_text),
    # Audio and video, such as recorded observations.
    "mp3": Kind("an MP3 audio file", "audio/mpeg", _starts(b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    "wav": Kind("a WAV audio file", "audio/wav", _riff(b"WAVE")),
    "m4a": Kind("an M4A audio file", "audio/mp4", _ftyp(b"M4A ")),
    "ogg": Kind("an Ogg audio file", "audio/ogg", _starts(b"OggS")),
    "mp4": Kind("an MP4 video", "video/mp4", _ftyp(b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"dash")),
    "mov": Kind("a QuickTime video", "video/quicktime", _ftyp(b"qt  ")),
    "webm": Kind("a WebM video", "video/webm", _starts(b"\x1a\x45\xdf\xa3")),
}

ALLOWED_TYPES = ", ".join(f".{extension}" for extension in ALLOWED)


def store_upload(stream: BinaryIO, filename: str, upload_dir: Path, max_bytes: int) -> AttachmentInput:
    """Check an uploaded file and keep it under a random name in upload_dir, or raise UploadRefused leaving nothing."""
    name = _display_name(filename)
    kind = _kind(name)
    upload_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp makes the file readable and writable by its owner only (0o600), which os.replace keeps.
    handle, temp = tempfile.mkstemp(dir=upload_dir, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            size, sha256, head = _copy(stream, out, name, max_bytes)
            # The evidence row is committed after this returns, so the content must be on disk by then.
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise UploadRefused(f"{name} is empty.")
        if not kind.matches(Path(temp), head):
            raise UploadRefused(f"{name} is not {kind.label}: its content does not match its name.")
        stored_name = secrets.token_hex(16)
        os.replace(temp, upload_dir / stored_name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return AttachmentInput(
        original_name=name, size=size, content_type=kind.content_type, sha256=sha256, stored_name=stored_name
    )


def copy_stored(upload_dir: Path, item: AttachmentInput) -> AttachmentInput:
    """Another copy of a stored file under a new random name: the same file attached to another trainee's evidence,
    so that erasing one never takes the other."""
    handle, temp = tempfile.mkstemp(dir=upload_dir, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, stored_path(upload_dir, item.stored_name).open("rb") as source:
            shutil.copyfileobj(source, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        stored_name = secrets.token_hex(16)
        os.replace(temp, upload_dir / stored_name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return dataclasses.replace(item, stored_name=stored_name)


def stored_path(upload_dir: Path, stored_name: str) -> Path:
    """Where a stored attachment lives, refusing any name store_upload would not have made."""
    if not STORED_NAME.fullmatch(stored_name):
        raise ValueError(f"Not a stored attachment name: {stored_name!r}")
    return upload_dir / stored_name


def _display_name(filename: str) -> str:
    """The uploaded file's own name, without any folder, invisible characters or excess length."""
    name = filename.replace("\\", "/").rpartition("/")[2]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c) not in _UNPRINTABLE).strip()
    if len(name) > MAX_NAME:
        # Shorten the stem rather than cut off the extension that decides the file's kind.
        stem, dot, extension = name.rpartition(".")
        tail = dot + extension if len(extension) < 10 else ""
        name = (stem if tail else name)[: MAX_NAME - len(tail)] + tail
    if name in ("", ".", ".."):
        raise UploadRefused("The file needs a name.")
    return name


def _kind(name: str) -> Kind:
    """The allowed kind the name's extension claims, or a refusal naming the allowed types."""
    _, dot, extension = name.rpartition(".")
    kind = ALLOWED.get(extension.lower()) if dot else None
    if kind is None:
        raise UploadRefused(f"{name} is not a kind of file that can be attached. Allowed: {ALLOWED_TYPES}.")
    return kind


def _copy(stream: BinaryIO, out: BinaryIO, name: str, max_bytes: int) -> tuple[int, str, bytes]:
    """Copy the stream out in chunks, refusing it once it passes max_bytes; its size, SHA-256 and first bytes."""
    size, digest, head = 0, hashlib.sha256(), b""
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise UploadRefused(f"{name} is larger than the {_megabytes(max_bytes)} limit.")
        digest.update(chunk)
        out.write(chunk)
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
    return size, digest.hexdigest(), head


def _megabytes(size: int) -> str:
    """A size limit as people read it: "20 MB", "1.5 MB", or in KB below a megabyte."""
    if size >= 1024 * 1024:
        return f"{round(size / (1024 * 1024), 1):g} MB"
    return f"{round(size / 1024, 1):g} KB"
