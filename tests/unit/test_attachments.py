"""Attachments are checked by size and by content before they are kept, and stored under random names."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest

from assessor.evidence.attachments import ALLOWED, UploadRefused, store_upload, stored_path

LIMIT = 1024
ALLOWED_LIST = ".pdf, .png, .jpg, .jpeg, .gif, .webp, .heic, .heif, .docx, .xlsx, .pptx, .odt, .ods, .odp, .doc, .xls, .ppt, .txt, .csv, .md, .mp3, .wav, .m4a, .ogg, .mp4, .mov, .webm"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."


def zipped(members: dict[str, bytes]) -> bytes:
    """A zip archive holding these members, in this order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ooxml(folder: str, part: str) -> bytes:
    """A minimal Office Open XML package with one part in its folder."""
    return zipped(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "_rels/.rels": b"<Relationships/>",
            f"{folder}/{part}": b"<x/>",
        }
    )


def odf(kind: str) -> bytes:
    """A minimal OpenDocument package of this kind (text, spreadsheet, presentation)."""
    return zipped({"mimetype": (ODF + kind).encode(), "content.xml": b"<office:document-content/>"})


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """The opening ftyp box of an ISO media file, followed by an empty free box."""
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def png() -> bytes:
    """A real one-pixel greyscale PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def listing(folder: Path) -> list[str]:
    """The names in a folder, or none if it was never made."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


SAMPLES = {
    "report.pdf": (PDF, "application/pdf"),
    "photo.png": (png(), "image/png"),
    "photo.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9", "image/jpeg"),
    "photo.jpeg": (b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00\xff\xd9", "image/jpeg"),
    "photo.gif": (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        "image/gif",
    ),
    "photo.webp": (
        b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00",
        "image/webp",
    ),
    "photo.heic": (ftyp(b"heic", b"mif1", b"heic"), "image/heic"),
    "photo.heif": (ftyp(b"mif1", b"mif1", b"heic"), "image/heic"),
    "plan.docx": (ooxml("word", "document.xml"), OOXML + "wordprocessingml.document"),
    "sheet.xlsx": (ooxml("xl", "workbook.xml"), OOXML + "spreadsheetml.sheet"),
    "slides.pptx": (ooxml("ppt", "presentation.xml"), OOXML + "presentationml.presentation"),
    "notes.odt": (odf("text"), ODF + "text"),
    "sheet.ods": (odf("spreadsheet"), ODF + "spreadsheet"),
    "slides.odp": (odf("presentation"), ODF + "presentation"),
    "old.doc": (OLE2, "application/msword"),
    "old.xls": (OLE2, "application/vnd.ms-excel"),
    "old.ppt": (OLE2, "application/vnd.ms-powerpoint"),
    "notes.txt": ("Kōrero with the whānau, 3 pm.\n".encode(), "text/plain"),
    "list.csv": ("\ufeffname,date\nAroha,2026-11-02\n".encode(), "text/csv"),
    "README.md": (b"# Case plan\n\nWritten with <b>care</b>.\n", "text/plain"),
    "voice.mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 20, "audio/mpeg"),
    "frames.mp3": (b"\xff\xfb\x90\x64" + b"\x00" * 20, "audio/mpeg"),
    "voice.wav": (
        b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00",
        "audio/wav",
    ),
    "voice.m4a": (ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
    "voice.ogg": (b"OggS\x00\x02" + b"\x00" * 20, "audio/ogg"),
    "clip.mp4": (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
    "phone.mp4": (ftyp(b"mp42", b"isom", b"mp42"), "video/mp4"),
    "clip.mov": (ftyp(b"qt  ", b"qt  "), "video/quicktime"),
    "clip.webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 20, "video/webm"),
}


def test_every_allowed_extension_has_a_sample():
    assert {name.rpartition(".")[2] for name in SAMPLES} == set(ALLOWED)


@pytest.mark.parametrize("filename", list(SAMPLES))
def test_each_allowed_kind_is_stored_with_its_type_size_and_hash(tmp_path, filename):
    data, content_type = SAMPLES[filename]
    stored = store_upload(io.BytesIO(data), filename, tmp_path, LIMIT)
    assert (stored.original_name, stored.size, stored.content_type, stored.sha256) == (
        filename,
        len(data),
        content_type,
        hashlib.sha256(data).hexdigest(),
    )
    assert re.fullmatch(r"[0-9a-f]{32}", stored.stored_name)
    assert listing(tmp_path) == [stored.stored_name]
    assert (tmp_path / stored.stored_name).read_bytes() == data
    assert (tmp_path / stored.stored_name).stat().st_mode & 0o777 == 0o600


def test_each_upload_gets_its_own_random_name(tmp_path):
    first = store_upload(io.BytesIO(PDF), "a.pdf", tmp_path, LIMIT)
    second = store_upload(io.BytesIO(PDF), "a.pdf", tmp_path, LIMIT)
    assert first.stored_name != second.stored_name
    assert listing(tmp_path) == sorted([first.stored_name, second.stored_name])


def test_the_upload_folder_is_made_private(tmp_path):
    stored = store_upload(io.BytesIO(PDF), "a.pdf", tmp_path / "uploads", LIMIT)
    assert (tmp_path / "uploads").stat().st_mode & 0o777 == 0o700
    assert listing(tmp_path / "uploads") == [stored.stored_name]


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("empty.pdf", b"", "empty.pdf is empty."),
        (
            "setup.pdf",
            b"MZ\x90\x00\x03" + b"\x00" * 60 + b"This program cannot be run in DOS mode.",
            "setup.pdf is not a PDF file: its content does not match its name.",
        ),
        (
            "tool.png",
            b"\x7fELF\x02\x01\x01" + b"\x00" * 60,
            "tool.png is not a PNG image: its content does not match its name.",
        ),
        (
            "page.pdf",
            b"<!doctype html><script>alert(1)</script>",
            "page.pdf is not a PDF file: its content does not match its name.",
        ),
        (
            "page.txt",
            b"\n  <HTML><body onload=alert(1)>",
            "page.txt is not a text file: its content does not match its name.",
        ),
        (
            "page.md",
            b"<!DOCTYPE html>\n<p>hi</p>",
            "page.md is not a Markdown file: its content does not match its name.",
        ),
        ("run.txt", b"<script>alert(1)</script>", "run.txt is not a text file: its content does not match its name."),
        (
            "image.txt",
            b"\xef\xbb\xbf <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
            "image.txt is not a text file: its content does not match its name.",
        ),
        (
            "image.csv",
            b'<?xml version="1.0"?><svg/>',
            "image.csv is not a CSV file: its content does not match its name.",
        ),
        ("latin1.txt", "café".encode("latin-1"), "latin1.txt is not a text file: its content does not match its name."),
        ("nul.csv", b"a,b\n1,\x00\n", "nul.csv is not a CSV file: its content does not match its name."),
        (
            "broken.docx",
            b"PK\x03\x04 this is not a zip",
            "broken.docx is not a Word document: its content does not match its name.",
        ),
        (
            "other.docx",
            zipped({"hello.txt": b"hi"}),
            "other.docx is not a Word document: its content does not match its name.",
        ),
        (
            "sheet.docx",
            ooxml("xl", "workbook.xml"),
            "sheet.docx is not a Word document: its content does not match its name.",
        ),
        (
            "setup.docx",
            b"MZ\x90\x00" + b"\x00" * 60 + ooxml("word", "document.xml"),
            "setup.docx is not a Word document: its content does not match its name.",
        ),
        (
            "sheet.odt",
            odf("spreadsheet"),
            "sheet.odt is not an OpenDocument text document: its content does not match its name.",
        ),
        (
            "late.odt",
            zipped({"content.xml": b"<c/>", "mimetype": (ODF + "text").encode()}),
            "late.odt is not an OpenDocument text document: its content does not match its name.",
        ),
        ("clip.mp4", ftyp(b"qt  ", b"qt  "), "clip.mp4 is not an MP4 video: its content does not match its name."),
        (
            "voice.wav",
            b"RIFF\x1a\x00\x00\x00WEBPVP8L",
            "voice.wav is not a WAV audio file: its content does not match its name.",
        ),
    ],
)
def test_content_that_does_not_match_its_name_is_refused_and_nothing_kept(tmp_path, filename, data, message):
    with pytest.raises(UploadRefused) as caught:
        store_upload(io.BytesIO(data), filename, tmp_path, LIMIT)
    assert caught.value.message == message
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "filename", ["run.exe", "script.sh", "noextension", "trailing.", "page.html", "drawing.svg", "archive.zip"]
)
def test_kinds_that_are_not_allowed_are_refused_by_name(tmp_path, filename):
    with pytest.raises(UploadRefused) as caught:
        store_upload(io.BytesIO(PDF), filename, tmp_path / "uploads", LIMIT)
    assert caught.value.message == f"{filename} is not a kind of file that can be attached. Allowed: {ALLOWED_LIST}."
    assert listing(tmp_path / "uploads") == []


@pytest.mark.parametrize("filename", ["", "..", ".", "../", "..\\", "uploads/", "  ", "\x00\x07"])
def test_a_file_needs_a_name(tmp_path, filename):
    with pytest.raises(UploadRefused) as caught:
        store_upload(io.BytesIO(PDF), filename, tmp_path / "uploads", LIMIT)
    assert caught.value.message == "The file needs a name."
    assert listing(tmp_path / "uploads") == []


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("../../secret.pdf", "secret.pdf"),
        ("/etc/../passwd.pdf", "passwd.pdf"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("..\\..\\windows\\notes.pdf", "notes.pdf"),
        ("a\x00b\x1f\x7f.pdf", "ab.pdf"),
        ("scan\u202efdp.pdf", "scanfdp.pdf"),
        ("  Scan 1.PDF \n", "Scan 1.PDF"),
        (unicodedata.normalize("NFD", "whānau.pdf"), "whānau.pdf"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_folders_invisible_characters_and_excess_length_are_stripped_from_the_name(tmp_path, filename, shown):
    upload_dir = tmp_path / "uploads"
    stored = store_upload(io.BytesIO(PDF), filename, upload_dir, LIMIT)
    assert stored.original_name == shown
    assert listing(tmp_path) == ["uploads"]
    assert listing(upload_dir) == [stored.stored_name]
    assert (upload_dir / stored.stored_name).read_bytes() == PDF


class Watched(io.BytesIO):
    """An upload stream that notes what the upload folder holds each time it is read."""

    def __init__(self, data: bytes, folder: Path):
        super().__init__(data)
        self.folder = folder
        self.seen: list[list[str]] = []

    def read(self, size: int | None = -1) -> bytes:
        self.seen.append(listing(self.folder))
        return super().read(size)


def test_a_file_over_the_limit_is_refused_as_soon_as_it_passes_it_and_its_temporary_file_removed(tmp_path):
    data = PDF + b"0" * (1024 * 1024)
    stream = Watched(data, tmp_path)
    with pytest.raises(UploadRefused) as caught:
        store_upload(stream, "big.pdf", tmp_path, LIMIT)
    assert caught.value.message == "big.pdf is larger than the 1 KB limit."
    # The bytes were kept only in a temporary file inside the upload folder, and reading stopped early.
    [temporary] = stream.seen[0]
    assert temporary.startswith(".upload-") and temporary.endswith(".part")
    assert stream.tell() < len(data)
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("max_bytes", "shown"),
    [(1000, "1 KB"), (1536, "1.5 KB"), (1024 * 1024, "1 MB"), (1536 * 1024, "1.5 MB"), (20 * 1024 * 1024, "20 MB")],
)
def test_the_limit_is_given_in_megabytes_or_kilobytes(tmp_path, max_bytes, shown):
    with pytest.raises(UploadRefused) as caught:
        store_upload(io.BytesIO(PDF + b"0" * (max_bytes + 1 - len(PDF))), "report.pdf", tmp_path, max_bytes)
    assert caught.value.message == f"report.pdf is larger than the {shown} limit."
    assert listing(tmp_path) == []


def test_a_file_exactly_at_the_limit_is_kept(tmp_path):
    data = PDF + b"0" * (LIMIT - len(PDF))
    stored = store_upload(io.BytesIO(data), "full.pdf", tmp_path, LIMIT)
    assert stored.size == LIMIT
    assert listing(tmp_path) == [stored.stored_name]


class Failing(io.BytesIO):
    """An upload stream whose connection drops after the first chunk."""

    def read(self, size: int | None = -1) -> bytes:
        if self.tell():
            raise OSError("connection reset")
        return super().read(size)


def test_a_failed_upload_leaves_nothing_behind(tmp_path):
    with pytest.raises(OSError, match="connection reset"):
        store_upload(Failing(PDF + b"0" * (200 * 1024)), "report.pdf", tmp_path, 1024 * 1024)
    assert listing(tmp_path) == []


def test_stored_path_accepts_only_names_it_made(tmp_path):
    name = "0123456789abcdef0123456789abcdef"
    assert stored_path(tmp_path, name) == tmp_path / name
    assert stored_path(tmp_path, name).parent == tmp_path


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "abc",
        "",
        "..",
        "0123456789abcdef/123456789abcdef",
        "../3456789abcdef0123456789abcdef",
        "/123456789abcdef0123456789abcdef",
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcdef\n",
        "0123456789abcdef0123456789abcdef0",
        "0123456789abcdef0123456789abcdeg",
    ],
)
def test_stored_path_refuses_names_it_did_not_make(tmp_path, name):
    with pytest.raises(ValueError):
        stored_path(tmp_path, name)
