"""The issuer's signing key: made once in the instance folder, read from the settings instead when they give one, and
rotated with the old public key still published."""

from __future__ import annotations

import pytest
from flask import Flask

from assessor.credentials import keys, proof


def app_in(instance, **config) -> Flask:
    app = Flask(__name__, instance_path=str(instance))
    app.config.update(config)
    return app


def test_the_key_is_made_once_readable_by_its_owner_only(tmp_path):
    assert keys.make_instance_key(tmp_path) is True
    made = (tmp_path / keys.KEY_FILE).read_text()
    assert keys.make_instance_key(tmp_path) is False
    assert (tmp_path / keys.KEY_FILE).read_text() == made
    assert (tmp_path / keys.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert keys.load(app_in(tmp_path)).current == keys.load(app_in(tmp_path)).current


def test_the_setting_wins_over_the_instance_folder(tmp_path):
    loaded = keys.load(app_in(tmp_path, CREDENTIAL_KEY="c3" * 32))
    assert loaded.current == proof.public_multibase(keys.seed_from_hex("c3" * 32, "k").public_key())
    assert not (tmp_path / keys.KEY_FILE).exists()


@pytest.mark.parametrize("bad", ["zz" * 32, "c3" * 16])
def test_a_bad_setting_is_refused_by_name(tmp_path, bad):
    with pytest.raises(ValueError, match="CREDENTIAL_KEY"):
        keys.load(app_in(tmp_path, CREDENTIAL_KEY=bad))


def test_rotation_keeps_the_old_public_key_published(tmp_path):
    keys.make_instance_key(tmp_path)
    before = keys.load(app_in(tmp_path))
    old, new = keys.rotate(tmp_path)
    after = keys.load(app_in(tmp_path))
    assert old == before.current and new == after.current and old != new
    assert after.published == (old, new)
    assert (
        after.public_key(old) is not None
        and after.public_key("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2") is None
    )
    assert list(tmp_path.glob(f"{keys.KEY_FILE}.retired-*"))  # the old seed is kept aside, not lost
    document = {
        "@context": [proof.VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": "https://a.example/i",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://a.example/s"},
    }
    signed = proof.sign(document, before.signing, f"https://a.example/keys/{old}", "2026-01-01T00:00:00Z")
    assert proof.check(signed, lambda method: after.public_key(method.rsplit("/", 1)[1])).valid


def test_retired_keys_from_the_setting(tmp_path):
    old = proof.public_multibase(keys.seed_from_hex("d4" * 32, "k").public_key())
    loaded = keys.load(app_in(tmp_path, CREDENTIAL_KEY="c3" * 32, CREDENTIAL_RETIRED_KEYS=old))
    assert loaded.published == (old, loaded.current)
