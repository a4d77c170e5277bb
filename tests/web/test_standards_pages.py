"""The unit standard pages, through Flask's test client."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assessor.domain.standards import StandardsError
from assessor.standards.operations import register_units

DATA = Path(__file__).resolve().parents[1] / "data"


def load(app) -> None:
    """Load the app's standards folder into its database, as `assessor init` or `standards load` does: the pages show
    what is loaded."""
    with app.extensions["database"].sessions.begin() as session:
        register_units(session, app.extensions["catalogue"])


@pytest.fixture
def loaded(app) -> None:
    load(app)


def test_home_asks_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in"


def test_catalogue_lists_both_units(client, loaded):
    page = client.get("/standards/").get_data(as_text=True)
    assert "Build and maintain effective and respectful relationships in case management" in page
    assert "Establish offender management practices" in page
    assert 'href="/standards/cscofm023/v1"' in page
    assert 'href="/standards/us_case_mgmt/v1"' in page


def test_nzqa_unit_page_shows_everything(client, loaded):
    response = client.get("/standards/us_case_mgmt/v1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in [
        "Outcome 1: Interact with clients, using a client-centred approach, to gather case information and develop constructive relationships.",
        "Establish an appropriate environment for client interaction in terms of privacy, safety, and comfort.",
        "professionalism, empathy.",
        "Health and Safety at Work Act 2015;",
        "Client, for the purpose of this unit standard, refers to the end user of a service.",
        "Achieved / Not achieved",
        "Public Sector Services &gt; Case Management",
        "whānau",
    ]:
        assert text in page, text


def test_deleted_unit_page_says_so_and_shows_nested_evidence(client, loaded):
    page = client.get("/standards/cscofm023/v1").get_data(as_text=True)
    assert "Deleted</span>" in page and "since 2021-01-24" in page and "no replacement" in page
    assert 'id="item-KE16.8"' in page
    assert "Evidence of Knowledge" in page
    assert "Competent / Not yet competent" in page


@pytest.mark.parametrize("url", ["/standards/nope/v1", "/standards/cscofm023/v9", "/standards/CSCOFM023/v1"])
def test_unknown_units_are_not_found(client, url):
    assert client.get(url).status_code == 404


def test_pages_use_only_the_apps_own_stylesheet_and_scripts(client):
    page = client.get("/standards/cscofm023/v1").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/assessor.css">' in page
    assert "http://" not in page.replace("http://www.ssc.govt.nz", "")
    assert "https://" not in page
    # Only the app's own small scripts, from files (the CSP allows no inline script), and the page works without.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/menu.js" defer>']
    with client.get("/static/assessor.css") as css:
        assert css.status_code == 200
        assert "@media print" in css.get_data(as_text=True)


def test_app_refuses_to_start_on_a_broken_standards_folder(make_app, tmp_path):
    shutil.copy(DATA / "valid_unit.yaml", tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("id: [\n")
    with pytest.raises(StandardsError) as caught:
        make_app(STANDARDS_DIR=str(tmp_path))
    assert f"{tmp_path / 'b.yaml'}:2: invalid YAML" in str(caught.value)


def test_two_files_with_the_same_unit_version_are_refused(make_app, tmp_path):
    shutil.copy(DATA / "valid_unit.yaml", tmp_path / "a.yaml")
    shutil.copy(DATA / "valid_unit.yaml", tmp_path / "b.yaml")
    with pytest.raises(StandardsError) as caught:
        make_app(STANDARDS_DIR=str(tmp_path))
    assert f"{tmp_path / 'b.yaml'}:1: version: example_safe_lifting@1 is also defined in {tmp_path / 'a.yaml'}" == str(
        caught.value
    )


def test_new_version_is_shown_beside_the_old(make_app, tmp_path):
    text = (DATA / "valid_unit.yaml").read_text()
    (tmp_path / "v1.yaml").write_text(text)
    (tmp_path / "v2.yaml").write_text(
        text.replace("version: 1", "version: 2").replace("Lift loads safely", "Lift loads safely and well")
    )
    app = make_app(STANDARDS_DIR=str(tmp_path))
    load(app)
    client = app.test_client()
    listing = client.get("/standards/").get_data(as_text=True)
    assert "Lift loads safely and well" in listing and "version 2" in listing
    old = client.get("/standards/example_safe_lifting/v1").get_data(as_text=True)
    assert "<h1>Lift loads safely</h1>" in old
    assert 'href="/standards/example_safe_lifting/v2"' in old
