"""A completion record as a signed Open Badges 3.0 credential: the trainee downloads it, it validates against 1EdTech's
JSON Schema, the issuer's profile, keys and status list are served, and the public check says genuine, revoked or
tampered with."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from assessor.credentials import documents, keys, operations, proof
from assessor.models import AuditEvent, CompletionRecord, User
from tests.server import TEST_CREDENTIAL_KEY
from tests.web.conftest import csrf_token, sign_in

DATA = Path(__file__).parent.parent / "data" / "interop"
SCHEMA = json.loads((DATA / "openbadges-3.0" / "achievementcredential.schema.json").read_text(encoding="utf-8"))
BASE = "https://assessor.example"

UNIT_TITLE = "Build and maintain effective and respectful relationships in case management"


@pytest.fixture
def app(make_app):
    return make_app(CREDENTIAL_KEY=TEST_CREDENTIAL_KEY, BASE_URL=BASE, ORGANISATION_NAME="Te Kura Example")


def client_of(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def take(client, record: int):
    """Press the record page's download button."""
    url = f"/records/{record}"
    return client.post(f"{url}/credential", data={"csrf_token": csrf_token(client, url)})


def taken(app, world) -> tuple[str, dict]:
    """The trainee's credential of the world's record: the file as downloaded, and its JSON."""
    response = take(client_of(app, "trainee"), world.record)
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    return text, json.loads(text)


def events(app, action: str) -> list[AuditEvent]:
    with app.extensions["database"].sessions() as session:
        return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def present(app, text: str | None = None, upload: bytes | None = None):
    client = app.test_client()
    data: dict = {"csrf_token": csrf_token(client, "/verify/credential"), "credential": text or ""}
    if upload is not None:
        data["file"] = (io.BytesIO(upload), "credential.json")
    return client.post("/verify/credential", data=data, content_type="multipart/form-data")


def revoke(app, world) -> None:
    coordinator = client_of(app, "coordinator")
    url = f"/records/{world.record}"
    response = coordinator.post(f"{url}/revoke", data={"csrf_token": csrf_token(coordinator, url), "reason": "Wrong"})
    assert response.status_code == 302


def test_the_trainee_downloads_a_credential_that_validates_against_the_open_badges_schema(app, world):
    response = take(client_of(app, "trainee"), world.record)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="credential-{world.record}.json"'
    assert response.headers["Cache-Control"] == "no-store"
    credential = json.loads(response.get_data(as_text=True))
    assert list(jsonschema.Draft201909Validator(SCHEMA).iter_errors(credential)) == []
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["@context"] == [proof.VC_V2, proof.OB_V3]
    assert credential["issuer"] == {"id": f"{BASE}/credentials/issuer", "type": ["Profile"], "name": "Te Kura Example"}
    (signature,) = credential["proof"]
    assert signature["cryptosuite"] == "eddsa-rdfc-2022" and signature["proofPurpose"] == "assertionMethod"
    public_key = proof.public_multibase(keys.seed_from_hex(TEST_CREDENTIAL_KEY, "key").public_key())
    assert signature["verificationMethod"] == f"{BASE}/credentials/issuer/keys/{public_key}"


def test_the_achievement_is_the_unit_with_its_criteria_and_its_case_alignment(app, world):
    _text, credential = taken(app, world)
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == UNIT_TITLE and achievement["achievementType"] == "Competency"
    assert achievement["id"] == f"{BASE}/standards/us_case_mgmt/v1"
    narrative = achievement["criteria"]["narrative"]
    assert "Outcome 1" in narrative or "1.1" in narrative
    (alignment,) = achievement["alignment"]
    assert alignment["targetUrl"].startswith(f"{BASE}/ims/case/v1p1/CFDocuments/")
    assert alignment["targetName"] == UNIT_TITLE and alignment["targetType"] == "ext:CFDocument"
    # The alignment names the unit version's CFDocument as the CASE endpoint serves it.
    document = app.test_client().get(alignment["targetUrl"].removeprefix(BASE)).get_json()
    assert document["uri"] == alignment["targetUrl"] and document["title"] == UNIT_TITLE
    assert credential["credentialSubject"]["result"] == [{"type": ["Result"], "value": "Achieved"}]


def test_the_trainee_is_identified_by_salted_hashes_only(app, world):
    text, credential = taken(app, world)
    (by_name, *_rest) = credential["credentialSubject"]["identifier"]
    assert by_name["identityType"] == "name" and by_name["hashed"] is True
    assert by_name["identityHash"] == documents.identity_hash("Trainee", by_name["salt"])
    assert '"Trainee"' not in text


def test_every_download_hands_out_the_same_credential_issued_once_and_each_is_audited(app, world):
    first, _ = taken(app, world)
    second, _ = taken(app, world)
    assert first == second
    (issued,) = events(app, "credential.issue")
    assert issued.entity_type == "completion_record" and issued.entity_id == str(world.record)
    assert len(events(app, "credential.download")) == 2


@pytest.mark.parametrize("username", ["assessor", "coordinator", "admin", "qa"])
def test_nobody_but_the_trainee_takes_the_credential(app, world, username):
    client = client_of(app, username)
    page = client.get(f"/records/{world.record}").get_data(as_text=True)
    assert "Download as an Open Badge" not in page
    response = client.post(
        f"/records/{world.record}/credential", data={"csrf_token": csrf_token(client, "/verify/credential")}
    )
    assert response.status_code in (403, 404)
    assert events(app, "credential.issue") == []


def test_another_trainee_cannot_take_it(app, world):
    client = client_of(app, "trainee2")
    response = client.post(
        f"/records/{world.record}/credential", data={"csrf_token": csrf_token(client, "/verify/credential")}
    )
    assert response.status_code == 404


def test_the_download_needs_the_form_token(app, world):
    client = client_of(app, "trainee")
    assert "Download as an Open Badge" in client.get(f"/records/{world.record}").get_data(as_text=True)
    response = client.post(f"/records/{world.record}/credential", data={})
    assert response.status_code == 400
    assert events(app, "credential.issue") == []


def test_a_revoked_record_issues_no_credential(app, world):
    revoke(app, world)
    client = client_of(app, "trainee")
    assert "Download as an Open Badge" not in client.get(f"/records/{world.record}").get_data(as_text=True)
    response = client.post(
        f"/records/{world.record}/credential", data={"csrf_token": csrf_token(client, "/verify/credential")}
    )
    assert response.status_code == 302
    assert "revoked: it has no credential" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_issuer_profile_lists_its_key_and_the_key_is_served(app, world):
    client = app.test_client()
    profile = client.get("/credentials/issuer").get_json(force=True)
    assert profile["id"] == f"{BASE}/credentials/issuer" and profile["type"] == ["Profile"]
    (method,) = profile["assertionMethod"]
    key = client.get(method.removeprefix(BASE)).get_json(force=True)
    assert key["type"] == "Multikey" and key["controller"] == profile["id"] and key["id"] == method
    assert client.get("/credentials/issuer/keys/z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2").status_code == 404


def test_the_status_list_is_signed_and_revocation_sets_the_credentials_bit(app, world):
    _text, credential = taken(app, world)
    index = int(credential["credentialStatus"]["statusListIndex"])
    url = credential["credentialStatus"]["statusListCredential"]
    assert url == f"{BASE}/credentials/status/1"
    signing = keys.seed_from_hex(TEST_CREDENTIAL_KEY, "key").public_key()

    def bit() -> bool:
        response = app.test_client().get(url.removeprefix(BASE))
        assert response.headers["Cache-Control"] == "no-store"
        listed = response.get_json(force=True)
        assert proof.check(listed, lambda method: signing).valid
        bits = documents.decoded_list(listed["credentialSubject"]["encodedList"])
        assert len(bits) * 8 == documents.STATUS_LIST_BITS
        return documents.is_set(bits, index)

    assert bit() is False
    revoke(app, world)
    assert bit() is True


def test_the_check_says_genuine(app, world):
    text, _ = taken(app, world)
    response = present(app, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Genuine." in page and UNIT_TITLE in page


def test_an_uploaded_file_is_checked_too(app, world):
    text, _ = taken(app, world)
    response = present(app, upload=text.encode())
    assert response.status_code == 200 and "Genuine." in response.get_data(as_text=True)


def test_one_changed_character_is_tampering(app, world):
    text, _ = taken(app, world)
    changed = text.replace("Build and maintain", "Build and maintaim", 1)
    assert changed != text
    response = present(app, changed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Tampered with." in page and "Genuine" not in page


def test_a_revoked_credential_says_revoked(app, world):
    text, _ = taken(app, world)
    revoke(app, world)
    response = present(app, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Revoked." in page and "Genuine" not in page


def test_a_credential_signed_by_another_key_is_not_ours(app, world):
    _text, credential = taken(app, world)
    other = keys.seed_from_hex("d4" * 32, "key")
    forged = proof.sign(credential, other, credential["proof"][0]["verificationMethod"], "2026-12-01T00:00:00Z")
    response = present(app, json.dumps(forged))
    assert response.status_code == 422 and "Tampered with." in response.get_data(as_text=True)
    elsewhere = proof.sign(credential, other, "https://elsewhere.example/keys/1", "2026-12-01T00:00:00Z")
    response = present(app, json.dumps(elsewhere))
    assert response.status_code == 422 and "Not issued here." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("sent", "said"),
    [
        ("", "Paste a credential or choose its file."),
        ("{not json", "That is not JSON"),
        ("[1, 2]", "That is JSON but not a credential"),
        ('{"@context": []}', "It carries no signature (proof)."),
        ("x" * (256 * 1024 + 1), "larger than any credential (256 KB at most)"),
    ],
    ids=["empty", "not-json", "not-an-object", "no-proof", "oversized"],
)
def test_bad_input_is_refused_with_a_clear_message(app, world, sent, said):
    response = present(app, sent)
    assert response.status_code in (400, 422)
    assert said in response.get_data(as_text=True)


def test_an_oversized_upload_is_refused(app, world):
    response = present(app, upload=b" " * (256 * 1024 + 1))
    assert response.status_code == 400
    assert "larger than any credential" in response.get_data(as_text=True)


def test_the_check_needs_the_form_token(app, world):
    response = app.test_client().post("/verify/credential", data={"credential": "{}"})
    assert response.status_code == 400


def test_after_a_rotation_old_credentials_still_check_and_both_keys_are_published(make_app, world, tmp_path):
    app = make_app(CREDENTIAL_KEY=None, BASE_URL=BASE)
    app.instance_path = str(tmp_path / "instance")
    keys.make_instance_key(tmp_path / "instance")
    text, _ = taken(app, world)
    rotated = app.test_cli_runner().invoke(args=["credentials", "rotate-key"])
    assert rotated.exit_code == 0 and "still published" in rotated.output
    app.extensions.pop("credential_keys")  # as a restart would
    assert len(app.test_client().get("/credentials/issuer").get_json(force=True)["assertionMethod"]) == 2
    assert present(app, text).status_code == 200
    refused = make_app().test_cli_runner().invoke(args=["credentials", "rotate-key"])
    assert refused.exit_code == 1 and "the key comes from CREDENTIAL_KEY" in refused.output


@pytest.mark.parametrize("change", ["UPDATE issued_credential SET status_index = 0", "DELETE FROM issued_credential"])
def test_an_issued_credential_is_never_changed_or_deleted(app, world, change):
    taken(app, world)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with app.extensions["database"].engine.begin() as connection:
            connection.exec_driver_sql(change)


def test_the_audit_trail_is_intact_after_issuing_and_downloading(app, world):
    taken(app, world)
    taken(app, world)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit trail intact" in result.output


def test_an_upload_far_too_large_is_refused_before_it_is_read(app, world):
    client = app.test_client()
    token = csrf_token(client, "/verify/credential")
    # Built in memory: the test client would spool a large body to a file nobody closes.
    fields = {"csrf_token": token, "file": FileStorage(io.BytesIO(b"{" * (2 * 1024 * 1024)), "big.json")}
    boundary, body = encode_multipart(MultiDict(fields))
    response = client.post("/verify/credential", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "larger than this page accepts" in response.get_data(as_text=True)


def test_a_record_issued_twice_at_once_keeps_one_credential(app, world):
    _text, first = taken(app, world)
    with app.app_context(), app.extensions["database"].sessions.begin() as session:
        trainee = session.scalar(sa.select(User).where(User.username == "trainee"))
        record = session.get_one(CompletionRecord, world.record)
        # As a second request would that read no credential a moment before the first committed its own.
        issued = operations._issue(session, trainee, record)
        assert issued.credential_id == first["id"]
    assert len(events(app, "credential.issue")) == 1


def test_the_verify_page_takes_a_credential_too(app, world):
    text, _ = taken(app, world)
    client = app.test_client()
    page = client.get("/verify").get_data(as_text=True)
    assert 'action="/verify/credential"' in page and 'enctype="multipart/form-data"' in page
    token = csrf_token(client, "/verify")
    response = client.post("/verify/credential", data={"csrf_token": token, "credential": text})
    assert response.status_code == 200 and "Genuine." in response.get_data(as_text=True)
