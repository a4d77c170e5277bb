"""A completion record as people keep it: printed from the page, or as a PDF with the organisation's name, the
unit's code, title, level and credits, and a QR code of the address that verifies it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import segno
from flask import current_app, render_template, url_for
from markupsafe import Markup

from assessor.domain.standards import Unit
from assessor.models import CompletionRecord

FONTS = Path(__file__).parents[1] / "static" / "fonts"


def verify_address(record: CompletionRecord) -> str:
    """Where anyone checks the record: the public verify page of its code."""
    return url_for("records.verify", code=record.verification_code, _external=True)


def qr_code(address: str) -> Markup:
    """The address as a QR code, an SVG to put in a page (no image files, nothing fetched)."""
    title = "QR code of the address that verifies this record"
    return Markup(segno.make(address, error="m").svg_inline(scale=3, title=title))


def record_context(record: CompletionRecord, unit: Unit) -> dict[str, Any]:
    """What the page and the PDF show of a record beyond the record itself."""
    address = verify_address(record)
    return {
        "unit": unit,
        "organisation": current_app.config["ORGANISATION_NAME"],
        "verify_address": address,
        "qr": qr_code(address),
    }


class NoPdf(RuntimeError):
    """The server cannot make PDFs: WeasyPrint found no Pango library (Debian: apt-get install libpango-1.0-0)."""


def record_pdf(record: CompletionRecord, unit: Unit) -> bytes:
    """The record as a PDF, laid out by its own template and set in the fonts shipped with the app."""
    try:
        import weasyprint  # imported when a PDF is asked for: it loads Pango, which nothing else needs
    except OSError as exc:
        raise NoPdf(str(exc)) from None

    html = render_template("records/record_pdf.html", record=record, **record_context(record, unit))
    return bytes(weasyprint.HTML(string=html, base_url=str(FONTS)).write_pdf())
