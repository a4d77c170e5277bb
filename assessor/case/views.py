"""The CASE 1.1 REST binding, read only: the unit versions anyone may read, each as a CFDocument, a CFPackage, and
its CFItems and CFAssociations by identifier. JSON throughout, 404 in CASE's own words for an unknown identifier."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from flask_login import current_user

from assessor.case.queries import holding, readable_versions
from assessor.core import database as db
from assessor.core.access import PUBLIC, actor, allow, me
from assessor.domain import case, policy

bp = Blueprint("case", __name__, url_prefix=case.SERVICE_PATH)


# Unit standards are published documents, to other systems as to people: the policy decides which versions, for
# whoever asks, signed in or not.
@bp.get("/CFDocuments")
@allow(PUBLIC)
def documents() -> Response:
    """Every unit version the reader may see, as CFDocuments with the address of each one's package."""
    base = _base_url()
    return jsonify({"CFDocuments": [case.listed_document(v, base) for v in _readable()]})


@bp.get("/CFDocuments/<document_id>")
@allow(PUBLIC)
def document(document_id: str) -> Any:
    """One unit version's CFDocument."""
    version = _holding(document_id)
    if version is None or case.document_node(version).identifier != document_id:
        return _unknown(document_id)
    return jsonify(case.listed_document(version, _base_url()))


@bp.get("/CFPackages/<document_id>")
@allow(PUBLIC)
def package(document_id: str) -> Any:
    """One unit version as a whole CFPackage: document, items and associations."""
    published = _readable()
    version = holding(published, document_id)
    if version is None or case.document_node(version).identifier != document_id:
        return _unknown(document_id)
    return jsonify(case.package(version, published, _base_url()))


@bp.get("/CFItems/<item_id>")
@allow(PUBLIC)
def item(item_id: str) -> Any:
    """One component, criterion or evidence requirement as a CFItem, with its document."""
    version = _holding(item_id)
    found = case.listed_item(version, item_id, _base_url()) if version is not None else None
    if found is None:
        return _unknown(item_id)
    return jsonify(found)


@bp.get("/CFAssociations/<association_id>")
@allow(PUBLIC)
def association(association_id: str) -> Any:
    """One association (the tree, a replacement or an equivalence) between versions the reader may see."""
    found = case.association(_readable(), association_id, _base_url())
    if found is not None:
        return jsonify(found)
    return _unknown(association_id)


def _readable() -> list[case.PublishedVersion]:
    reader: policy.Actor | None = actor(me()) if current_user.is_authenticated else None
    return readable_versions(db.session(), reader)


def _holding(identifier: str) -> case.PublishedVersion | None:
    return holding(_readable(), identifier)


def _base_url() -> str:
    """The site's public address (never the request's Host header, which a client chooses)."""
    return str(current_app.config["BASE_URL"])


def _unknown(identifier: str) -> tuple[Response, int]:
    """CASE's answer for an identifier it does not know, or that the reader may not see: the two look alike."""
    status = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": f"No unit version, item or association {identifier!r} is published here.",
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "sourcedId", "imsx_codeMinorFieldValue": "unknownobject"}
            ]
        },
    }
    return jsonify(status), 404
