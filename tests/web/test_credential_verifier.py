"""An independent verifier from another ecosystem (Digital Bazaar's JavaScript VC libraries, tests/verifier) checks the
credentials the app issues, with what the app serves: genuine ones verify, one changed character fails, and a revoked
one reports revoked through the status list."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.web.test_credentials import BASE, TEST_CREDENTIAL_KEY, revoke, taken

VERIFIER = Path(__file__).parent.parent / "verifier"
NODE = shutil.which("node")


def _why_not() -> str | None:
    if NODE is None:
        return "node is not installed: the independent JavaScript verifier cannot run"
    if not (VERIFIER / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        return "the verifier's packages are not installed: run `npm ci --prefix tests/verifier` (scripts/test does)"
    return None


if (reason := _why_not()) is not None:
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"under CI the credential verifier must run, but {reason}")
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture
def app(make_app):
    return make_app(CREDENTIAL_KEY=TEST_CREDENTIAL_KEY, BASE_URL=BASE)


def served(app, url: str) -> dict:
    response = app.test_client().get(url.removeprefix(BASE))
    assert response.status_code == 200, url
    return response.get_json(force=True)


def verify(app, credential_text: str, tmp_path: Path) -> tuple[int, dict]:
    """Run the JavaScript verifier on a credential, with the documents the app serves at the addresses it names."""
    credential = json.loads(credential_text)
    method = credential["proof"][0]["verificationMethod"]
    status = credential["credentialStatus"]["statusListCredential"]
    issuer = credential["issuer"]["id"]
    documents = {url: served(app, url) for url in (method, status, issuer)}
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"credential": credential, "documents": documents}), encoding="utf-8")
    done = subprocess.run(
        [NODE, str(VERIFIER / "verify.mjs"), str(bundle)], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def test_the_credential_verifies(app, world, tmp_path):
    text, _ = taken(app, world)
    code, said = verify(app, text, tmp_path)
    assert (code, said) == (0, {"verified": True, "revoked": False, "errors": []})


def test_one_changed_character_fails(app, world, tmp_path):
    text, _ = taken(app, world)
    changed = text.replace('"Achieved"', '"Achievee"', 1)
    assert changed != text
    code, said = verify(app, changed, tmp_path)
    assert code == 1 and said["verified"] is False and said["revoked"] is None


def test_a_revoked_credential_reports_revoked(app, world, tmp_path):
    text, _ = taken(app, world)
    revoke(app, world)
    code, said = verify(app, text, tmp_path)
    assert code == 1 and said == {"verified": False, "revoked": True, "errors": ["revoked"]}
