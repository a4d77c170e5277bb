"""Units at CASE 1.1's REST paths, through the test client: what anyone may read as JSON, CASE's 404 for anything
else (a unit file not loaded among it)."""

from __future__ import annotations

import datetime
import json
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from assessor.core import access
from assessor.domain import case, policy
from assessor.domain.standards import Catalogue, Usage, load_unit
from assessor.domain.vocabulary import Role
from assessor.models import UnitVersion, User
from assessor.standards.operations import register_units, set_status
from tests.records.factories import make_user
from tests.web.conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "data" / "interop" / "case-1.1" / "cfpackage.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
API = "/ims/case/v1p1"
NZ = case.document_identifier("us_case_mgmt", 1)
CSC = case.document_identifier("cscofm023", 1)
LIFTING = case.document_identifier("example_safe_lifting", 1)  # in the standards folder, never loaded


def seeds_and_one_unloaded(make_app, tmp_path: Path):
    """The app with the seed units loaded, example_safe_lifting in its standards folder but not loaded, an
    administrator and a trainee."""
    folder = tmp_path / "standards"
    folder.mkdir()
    for path in (ROOT / "standards").glob("*.yaml"):
        shutil.copy(path, folder)
    shutil.copy(ROOT / "tests" / "data" / "valid_unit.yaml", folder)
    made = make_app(STANDARDS_DIR=str(folder), BASE_URL="https://assessor.example.org")
    seeds = Catalogue(tuple(u for u in made.extensions["catalogue"].units if u.id != "example_safe_lifting"))
    with made.extensions["database"].sessions.begin() as session:
        register_units(session, seeds)
        make_user(session, "admin", Role.ADMIN)
        make_user(session, "trainee", Role.TRAINEE)
    return made


@pytest.fixture
def app(make_app, tmp_path):
    return seeds_and_one_unloaded(make_app, tmp_path)


def unknown(response) -> bool:
    """CASE's answer for an identifier it does not know: 404, JSON, in imsx_StatusInfo's words."""
    body = response.get_json()
    field = body["imsx_CodeMinor"]["imsx_codeMinorField"][0] if body else {}
    return (
        response.status_code == 404
        and response.mimetype == "application/json"
        and body["imsx_codeMajor"] == "failure"
        and field == {"imsx_codeMinorFieldName": "sourcedId", "imsx_codeMinorFieldValue": "unknownobject"}
    )


def test_the_list_holds_every_loaded_unit_version_and_the_address_of_its_package(client):
    response = client.get(f"{API}/CFDocuments")
    assert response.status_code == 200 and response.mimetype == "application/json"
    documents = response.get_json()["CFDocuments"]
    assert [d["identifier"] for d in documents] == [CSC, NZ]  # by catalogue id
    nz = documents[1]
    assert nz["title"] == "Build and maintain effective and respectful relationships in case management"
    assert nz["uri"] == f"https://assessor.example.org{API}/CFDocuments/{NZ}"
    assert nz["CFPackageURI"]["uri"] == f"https://assessor.example.org{API}/CFPackages/{NZ}"
    assert client.get(nz["CFPackageURI"]["uri"].removeprefix("https://assessor.example.org")).status_code == 200


@pytest.mark.parametrize("document", [NZ, CSC])
def test_a_package_is_served_whole_and_valid(client, document):
    response = client.get(f"{API}/CFPackages/{document}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    package = response.get_json()
    assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(package)] == []
    assert package["CFDocument"]["identifier"] == document
    items = {i["humanCodingScheme"]: i for i in package["CFItems"]}
    if document == CSC:
        assert items["KE16.1"]["fullStatement"].startswith("organisation")
        assert package["CFDocument"]["adoptionStatus"] == "Deprecated"


def test_a_document_and_an_item_and_an_association_are_served_on_their_own(client):
    package = client.get(f"{API}/CFPackages/{NZ}").get_json()
    document = client.get(f"{API}/CFDocuments/{NZ}")
    assert document.status_code == 200
    assert document.get_json() == {**package["CFDocument"], "CFPackageURI": document.get_json()["CFPackageURI"]}
    criterion = next(i for i in package["CFItems"] if i["humanCodingScheme"] == "1.4")
    served = client.get(f"{API}/CFItems/{criterion['identifier']}")
    assert served.status_code == 200
    its_document = {"title": package["CFDocument"]["title"], "identifier": NZ, "uri": package["CFDocument"]["uri"]}
    assert served.get_json() == {**criterion, "CFDocumentURI": its_document}
    association = package["CFAssociations"][3]
    assert client.get(f"{API}/CFAssociations/{association['identifier']}").get_json() == association


@pytest.mark.parametrize(
    "path",
    [
        f"CFPackages/{uuid.uuid5(uuid.NAMESPACE_URL, 'unknown packages')}",
        f"CFDocuments/{uuid.uuid5(uuid.NAMESPACE_URL, 'unknown documents')}",
        f"CFItems/{uuid.uuid5(uuid.NAMESPACE_URL, 'unknown items')}",
        f"CFAssociations/{uuid.uuid5(uuid.NAMESPACE_URL, 'unknown associations')}",
        "CFPackages/not-a-uuid",
        f"CFItems/{NZ}",  # a document is not an item
        f"CFPackages/{case.item_identifier('us_case_mgmt', 1, 'criterion', '1.1')}",  # nor an item a package
    ],
)
def test_an_unknown_identifier_is_a_404_in_case_words(client, path):
    assert unknown(client.get(f"{API}/{path}"))


def test_a_unit_file_not_loaded_is_nobodys_to_read(app, client):
    assert "example_safe_lifting" in {u.id for u in app.extensions["catalogue"].units}
    listed = [d["identifier"] for d in client.get(f"{API}/CFDocuments").get_json()["CFDocuments"]]
    assert LIFTING not in listed
    criterion = case.item_identifier("example_safe_lifting", 1, "criterion", "1.1")
    for path in (f"CFPackages/{LIFTING}", f"CFDocuments/{LIFTING}", f"CFItems/{criterion}"):
        assert unknown(client.get(f"{API}/{path}")), path
    for username in ("admin", "trainee"):  # not even to an administrator: it is not published
        signed_in = app.test_client()
        assert sign_in(signed_in, username).status_code == 302
        assert unknown(signed_in.get(f"{API}/CFPackages/{LIFTING}"))
        assert signed_in.get(f"{API}/CFPackages/{NZ}").status_code == 200
    with app.extensions["database"].sessions.begin() as session:
        register_units(session, app.extensions["catalogue"])
    assert client.get(f"{API}/CFPackages/{LIFTING}").status_code == 200


def test_a_unit_version_is_loaded_once_it_is_a_row_of_the_database(app):
    with app.extensions["database"].sessions() as session:
        stored = session.scalar(sa.select(UnitVersion).where(UnitVersion.unit_id == "cscofm023"))
        assert access.unit_facts(stored) == policy.UnitFacts(loaded=True)
        waiting = UnitVersion(unit_id="example_safe_lifting", version=1, title="Lift loads safely", framework="other")
        assert access.unit_facts(waiting) == policy.UnitFacts(loaded=False)


def test_the_api_only_reads(client):
    assert client.post(f"{API}/CFPackages/{NZ}").status_code == 405
    assert client.delete(f"{API}/CFDocuments/{NZ}").status_code == 405


def test_a_status_change_shows_in_the_package_with_the_replacement_it_names(app, client):
    replacement = load_unit(ROOT / "tests" / "data" / "publisher_fields.yaml")  # code EXCLR002
    with app.extensions["database"].sessions.begin() as session:
        register_units(session, Catalogue((replacement,)))
        loaded = session.scalar(sa.select(UnitVersion).where(UnitVersion.unit_id == "us_case_mgmt"))
        admin = session.scalar(sa.select(User).where(User.username == "admin"))
        set_status(session, admin, loaded, Usage("superseded", datetime.date(2026, 11, 30), "EXCLR002"))
    package = client.get(f"{API}/CFPackages/{NZ}").get_json()
    assert package["CFDocument"]["adoptionStatus"] == "Deprecated"
    assert package["CFDocument"]["statusStartDate"] == "2026-11-30"
    replaced = [a for a in package["CFAssociations"] if a["associationType"] == "replacedBy"]
    assert [(a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"]) for a in replaced] == [
        (NZ, case.document_identifier("example_client_review", 1))
    ]
    assert not list(VALIDATOR.iter_errors(package))
