"""The completion record as people keep it: a printable page and a PDF, read back, with the organisation, the unit's
level and credits, the assessor's name, the verification code and a QR code of the address that checks it."""

from __future__ import annotations

import io
import re

import pypdf
import segno
import sqlalchemy as sa

from assessor.accounts.operations import update_account
from assessor.models import User
from tests.web.conftest import build_web_world, sign_in

ORGANISATION = "Te Pūkenga Mahi Tūmatanui"


def renamed(app, username: str, name: str) -> None:
    with app.extensions["database"].sessions.begin() as session:
        people = {u.username: u for u in session.scalars(sa.select(User))}
        person = people[username]
        update_account(session, people["admin"], person, name, person.email, person.role)


def test_the_record_page_prints_clean_and_names_the_unit_for_people(make_app):
    app = make_app(ORGANISATION_NAME=ORGANISATION)
    world = build_web_world(app)
    client = app.test_client()
    sign_in(client, "trainee")
    page = client.get(f"/records/{world.record}").get_data(as_text=True)
    assert f"{ORGANISATION} · Completion record #{world.record}" in page
    assert "us_case_mgmt@1" not in page
    assert "<dt>Level</dt><dd>5</dd>" in page and "<dt>Credits</dt><dd>24</dd>" in page
    assert '<button type="button" class="button secondary" data-print hidden>Print</button>' in page
    assert '<script src="/static/print.js" defer></script>' in page
    address = f"http://localhost/verify/{world.code}"
    assert (
        segno.make(address, error="m").svg_inline(scale=3, title="QR code of the address that verifies this record")
        in page
    )
    script = client.get("/static/print.js")
    assert script.status_code == 200 and b"window.print()" in script.data
    script.close()


def test_the_pdf_reads_back_with_every_fact_and_its_macrons(make_app):
    app = make_app(ORGANISATION_NAME=ORGANISATION)
    world = build_web_world(app)
    renamed(app, "trainee", "Tūī Parata")
    renamed(app, "assessor", "Ngāio Māhina")
    client = app.test_client()
    sign_in(client, "trainee")
    response = client.get(f"/records/{world.record}/pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="completion-record-{world.record}.pdf"'
    assert response.headers["Cache-Control"] == "no-store"  # as every signed-in page
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    for fact in (
        ORGANISATION,
        "Build and maintain effective and respectful relationships in case management",
        "Tūī Parata",
        "Ngāio Māhina",
        "Achieved",
        "Level 5",
        "Credits 24",
        world.code,
        f"http://localhost/verify/{world.code}",
        "1.1 Establish an appropriate environment",
    ):
        assert fact in text, fact
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()  # type: ignore[union-attr]
    }
    assert fonts and all("Record-Sans" in f for f in fonts), fonts  # the shipped fonts, not whatever the host has


def test_only_those_who_see_the_record_download_its_pdf(app, world):
    for username, status in (("trainee2", 404), ("assessor2", 404), ("coordinator", 200)):
        client = app.test_client()
        sign_in(client, username)
        assert client.get(f"/records/{world.record}/pdf").status_code == status, username


def test_a_server_that_cannot_make_pdfs_says_so_and_offers_the_printed_page(app, world, monkeypatch):
    from assessor.records import views
    from assessor.records.printing import NoPdf

    def without_pango(*_: object) -> bytes:
        raise NoPdf("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(views, "record_pdf", without_pango)
    client = app.test_client()
    sign_in(client, "trainee")
    response = client.get(f"/records/{world.record}/pdf")
    assert response.status_code == 302 and response.headers["Location"] == f"/records/{world.record}"
    assert "print the page instead" in client.get(f"/records/{world.record}").get_data(as_text=True)
