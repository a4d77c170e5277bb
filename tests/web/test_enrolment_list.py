"""The enrolment list: filtered, sorted and paged in the database, each page showing where it stands."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.records.factories import build_cohort, build_world
from tests.web.conftest import sign_in

PER_PAGE = 4
ROW = re.compile(
    r'<a href="/enrolments/(\d+)">.*?data-label="Outstanding">(\d+) of \d+</td>\s*<td data-label="Last evidence">([^<]+)</td>',
    re.S,
)


@pytest.fixture
def listed(make_app):
    """A coordinator's two cohorts: two enrolments of the world's trainee and nine generated ones, four to a page."""
    app = make_app(ENROLMENTS_PER_PAGE=PER_PAGE)
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        generated = build_cohort(session, world, 9)
        ids = {world.nz_enrolment.id, world.csc_enrolment.id} | {e.id for e in generated}
    client = app.test_client()
    sign_in(client, "coordinator")
    return client, ids


def rows(client, query: str) -> tuple[list[tuple[int, int, str]], str]:
    """(enrolment id, outstanding, last evidence) of each listed row, and the page."""
    response = client.get(f"/enrolments?{query}")
    assert response.status_code == 200
    # The list itself, without the to-do list above it.
    page = re.sub(r'<section class="todo".*?</section>', "", response.get_data(as_text=True), flags=re.S)
    return [(int(i), int(o), last) for i, o, last in ROW.findall(page)], page


def test_pages_cover_every_enrolment_once_and_say_where_they_are(listed):
    client, ids = listed
    seen = []
    for number in (1, 2, 3):
        found, page = rows(client, f"page={number}")
        seen += [i for i, _, _ in found]
        assert f"Page {number} of 3" in page
        first = (number - 1) * PER_PAGE + 1
        assert f"{first}–{first + len(found) - 1} of 11 enrolments" in page
        assert ('rel="prev"' in page) == (number > 1) and ('rel="next"' in page) == (number < 3)
    assert len(seen) == len(ids) == 11 and set(seen) == ids

    last, page = rows(client, "page=99")
    assert "Page 3 of 3" in page and len(last) == 3
    first, page = rows(client, "page=nonsense")
    assert "Page 1 of 3" in page and len(first) == PER_PAGE


def test_the_next_page_keeps_the_filters_and_the_sort(listed):
    client, _ = listed
    _, page = rows(client, "sort=outstanding&status=active&page=1")
    link = re.search(r'<a rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "sort=outstanding" in link and "status=active" in link and "page=2" in link


def test_sorting_orders_across_pages(listed):
    client, _ = listed
    by_outstanding = [o for n in (1, 2, 3) for _, o, _ in rows(client, f"sort=outstanding&page={n}")[0]]
    assert len(by_outstanding) == 11 and by_outstanding == sorted(by_outstanding, reverse=True)
    by_date = [d for n in (1, 2, 3) for _, _, d in rows(client, f"sort=last_evidence&page={n}")[0]]
    dated = [d for d in by_date if d != "None yet"]
    assert by_date[: len(by_date) - len(dated)] == ["None yet"] * (len(by_date) - len(dated)) and dated == sorted(dated)
    assert len(dated) == 9


def test_filters_narrow_the_list_and_the_count(listed):
    client, _ = listed
    found, page = rows(client, "search=gengen0003")
    assert len(found) == 1 and "1 enrolment" in page and "Page 1 of" not in page
    found, _ = rows(client, "unit_id=cscofm023")
    assert len(found) == 1
    found, page = rows(client, "status=completed")
    assert found == [] and "No enrolments match." in page


@pytest.mark.parametrize(
    ("search", "count"),
    [("ngati 0003", 1), ("NGĀTI", 9), ("Ngāti", 9), ("ngāti 0004", 1), ("gengen0005", 1), ("ngati_", 0), ("%", 0)],
)
def test_search_ignores_case_and_diacritics_and_takes_wildcards_literally(listed, search, count):
    client, _ = listed
    found, page = rows(client, f"search={quote(search)}")
    said = re.search(r"(?:of )?(\d+) enrolments?\b", page)
    assert (int(said.group(1)) if said and found else 0) == count
