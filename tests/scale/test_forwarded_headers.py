"""Under gunicorn, X-Forwarded-* headers are believed only when ASSESSOR_TRUSTED_PROXIES says a proxy stands in front:
gunicorn's own default trusts them from 127.0.0.1."""

from __future__ import annotations

import urllib.request

import pytest

from tests.scale.conftest import Seeded
from tests.server import running


def sign_in_page(url: str) -> dict[str, str]:
    request = urllib.request.Request(f"{url}/sign-in", headers={"X-Forwarded-Proto": "https"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(response.headers)


@pytest.mark.parametrize(("trusted", "secure"), [("0", False), ("1", True)])
def test_only_the_setting_decides_whether_a_forwarded_scheme_is_believed(seeded: Seeded, trusted, secure):
    with running(seeded.url, seeded.instance, workers=1, TRUSTED_PROXIES=trusted) as server:
        headers = sign_in_page(server.url)
    cookie = headers.get("Set-Cookie", "")
    assert ("Strict-Transport-Security" in headers) is secure
    assert ("Secure" in cookie) is secure


def test_the_verify_pages_are_never_cached(seeded: Seeded):
    with running(seeded.url, seeded.instance, workers=1) as server:
        for path in ("/verify", "/verify/no-such-code"):
            request = urllib.request.Request(f"{server.url}{path}")
            try:
                response = urllib.request.urlopen(request, timeout=10)
            except urllib.error.HTTPError as refused:  # an unknown code answers 404, with the same headers
                response = refused
            with response:
                assert response.headers["Cache-Control"] == "no-store", path
