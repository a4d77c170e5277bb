"""The enrolment list: filtered, sorted and paged in the database, each page showing where it stands."""

from __future__ import annotations

import datetime
import re
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa

from assessor.accounts.operations import update_account
from assessor.cohorts.operations import enrol
from assessor.domain.vocabulary import Role
from assessor.models import Enrolment, UnitVersion, User
from assessor.progress import queries
from tests.records.factories import build_cohort, build_world, make_user
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


def link(page: str, name: str) -> str | None:
    """The address of the pager's link with this text (its first, if the pager is shown twice)."""
    found = re.search(rf'<a (?:rel="\w+" )?href="([^"]+)">{name}<span class="visually-hidden"> page', page)
    return found.group(1).replace("&amp;", "&").removeprefix("/enrolments?") if found else None


def walk(client, query: str) -> list[list[tuple[int, int, str]]]:
    """Every page of a list, following Next from the first."""
    pages = []
    while query is not None:
        found, page = rows(client, query)
        pages.append(found)
        query = link(page, "Next")
    return pages


def test_pages_cover_every_enrolment_once_and_say_where_they_are(listed):
    client, ids = listed
    seen = []
    query = ""
    for first, last in ((1, 4), (5, 8), (9, 11)):
        found, page = rows(client, query)
        seen += [i for i, _, _ in found]
        assert f"{first}–{last} of 11 enrolments" in page
        assert (link(page, "Previous") is not None) == (first > 1) and (link(page, "First") is not None) == (first > 1)
        assert (link(page, "Next") is not None) == (last < 11) and (link(page, "Last") is not None) == (last < 11)
        query = link(page, "Next")
    assert len(seen) == len(ids) == 11 and set(seen) == ids

    # The last page holds the last four; Previous from there steps back by a page, and First goes to the start.
    found, page = rows(client, "at=end")
    assert "8–11 of 11 enrolments" in page and [i for i, _, _ in found] == seen[7:]
    assert link(page, "Next") is None
    found, page = rows(client, link(page, "Previous"))
    assert "4–7 of 11 enrolments" in page and [i for i, _, _ in found] == seen[3:7]
    found, page = rows(client, link(page, "First"))
    assert "1–4 of 11 enrolments" in page and [i for i, _, _ in found] == seen[:4]


def test_a_page_link_is_not_shifted_by_an_enrolment_added_before_it(listed):
    client, _ = listed
    _, page = rows(client, "")
    following = link(page, "Next")
    expected, _ = rows(client, following)
    with client.application.extensions["database"].sessions.begin() as session:
        coordinator, assessor = (
            session.scalars(sa.select(User).where(User.username == name)).one() for name in ("coordinator", "assessor")
        )
        generated = session.scalars(sa.select(Enrolment).where(Enrolment.id == expected[0][0])).one()
        newcomer = make_user(session, "aaaa", Role.TRAINEE, "Aaron Aaa")
        enrol(
            session,
            coordinator,
            newcomer,
            generated.unit_version,
            [assessor],
            datetime.date(2026, 8, 1),
            generated.cohort,
        )
    assert "Aaron Aaa" in rows(client, "")[1]  # the newcomer sorts first, before the link's rows
    again, _ = rows(client, following)
    assert again == expected


# Tokens of the trainee sort's key (forward, place, name, id): one value short, the values' types swapped, a place
# below zero, no such direction, True for an id, not a list; and text that is no token at all.
FORGED = ["WzEsMSwiYSJd", "WzEsMSwyLCJhIl0", "WzEsLTEsImEiLDJd", "WzIsMSwiYSIsMl0", "WzEsMSwiYSIsdHJ1ZV0", "eyJhIjoxfQ"]


@pytest.mark.parametrize("at", [*FORGED, "nonsense!", "end" * 1000])
def test_a_page_link_this_site_did_not_make_is_refused_in_words(listed, at):
    client, _ = listed
    response = client.get(f"/enrolments?{urlencode({'at': at})}")
    assert response.status_code == 400
    assert "not one this site made" in response.get_data(as_text=True)


def test_a_list_longer_than_it_counts_says_so_and_still_pages(listed, monkeypatch):
    client, ids = listed
    in_order = {sort: [i for found in walk(client, f"sort={sort}") for i, _, _ in found] for sort in queries.SORTS}
    monkeypatch.setattr(queries, "COUNTED_TO", 5)  # a long list: the database walks it in its order
    _, page = rows(client, "")
    assert "more than 5 enrolments" in page and link(page, "Last") is None
    assert sorted(i for found in walk(client, "") for i, _, _ in found) == sorted(ids)
    for sort, expected in in_order.items():
        assert [i for found in walk(client, f"sort={sort}") for i, _, _ in found] == expected, sort


def test_the_next_page_keeps_the_filters_and_the_sort(listed):
    client, _ = listed
    _, page = rows(client, "sort=outstanding&status=active")
    following = link(page, "Next")
    assert "sort=outstanding" in following and "status=active" in following and "at=" in following


def test_sorting_orders_across_pages(listed):
    client, _ = listed
    by_outstanding = [o for found in walk(client, "sort=outstanding") for _, o, _ in found]
    assert len(by_outstanding) == 11 and by_outstanding == sorted(by_outstanding, reverse=True)
    by_date = [d for found in walk(client, "sort=last_evidence") for _, _, d in found]
    dated = [d for d in by_date if d != "None yet"]
    assert by_date[: len(by_date) - len(dated)] == ["None yet"] * (len(by_date) - len(dated)) and dated == sorted(dated)
    assert len(dated) == 9


def test_the_unit_sort_orders_by_title_then_trainee_and_follows_a_rename(listed):
    client, ids = listed
    sessions = client.application.extensions["database"].sessions

    def expected() -> list[int]:
        with sessions() as session:
            found = session.execute(
                sa.select(Enrolment.id, UnitVersion.title, User.search_name)
                .join(UnitVersion)
                .join(User, User.id == Enrolment.trainee_id)
                .where(Enrolment.id.in_(ids))
            ).all()
        return [i for i, *_ in sorted(found, key=lambda row: (row[1], row[2], row[0]))]

    def listed_ids() -> list[int]:
        return [i for found in walk(client, "sort=unit") for i, _, _ in found]

    before = listed_ids()
    assert before == expected() and len(before) == 11
    with sessions.begin() as session:
        admin = session.scalars(sa.select(User).where(User.username == "admin")).one()
        units = [session.get_one(Enrolment, i).unit_version_id for i in before]
        moved = before[units.count(units[0]) - 1]  # the first unit's last enrolment
        trainee = session.get_one(Enrolment, moved).trainee
        update_account(session, admin, trainee, "Aaron Aardvark", trainee.email, trainee.role)
    after = listed_ids()
    assert after == expected() and after.index(moved) == 0 < before.index(moved)


def test_filters_narrow_the_list_and_the_count(listed):
    client, _ = listed
    found, page = rows(client, "search=gengen0003")
    assert len(found) == 1 and "1 enrolment" in page and link(page, "Next") is None
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


@pytest.mark.parametrize("sort", ["trainee", "unit", "progress"])
def test_a_search_pages_through_its_matches_in_the_sorts_order(listed, sort):
    """Sorted by name, a search's matches are gathered and sorted rather than walked to along the sort's index; page
    after page they come in the same order as the whole list's, filtered."""
    client, _ = listed
    everything = [i for found in walk(client, f"sort={sort}") for i, _, _ in found]
    matched = [i for found in walk(client, f"sort={sort}&search=ngati") for i, _, _ in found]
    assert len(matched) == 9 and matched == [i for i in everything if i in set(matched)]
