"""The cohort list: paged by name, each page in the same number of statements however many cohorts there are."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from assessor.cohorts.operations import create_cohort
from assessor.core import migrate
from assessor.domain.vocabulary import Role
from assessor.models import User
from tests.records.factories import build_world, make_user
from tests.web.conftest import sign_in
from tests.web.test_scale_queries import counting


def with_cohorts(app, count: int) -> None:
    """The world, and `count` more cohorts, each run by a coordinator of its own and the world's."""
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        for n in range(count):
            own = make_user(session, f"coord{n:03d}", Role.COORDINATOR)
            create_cohort(session, world.admin, f"Intake {n:03d}", [own, world.coordinator])


def statements(app, url: str) -> tuple[int, str]:
    client = app.test_client()
    sign_in(client, "admin")
    client.get(url).close()
    with counting(app.extensions["database"].engine) as count:
        response = client.get(url)
        page = response.get_data(as_text=True)
    assert response.status_code == 200
    return count[0], page


def test_the_list_takes_the_same_statements_for_3_cohorts_as_for_40(make_app, tmp_path, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the PostgreSQL database is shared within a test; the SQLite run covers this")
    small, big = make_app(), make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'big.sqlite'}")
    migrate.upgrade(big.extensions["database"].engine)
    with_cohorts(small, 3)
    with_cohorts(big, 40)
    (few, few_page), (many, many_page) = statements(small, "/cohorts"), statements(big, "/cohorts")
    assert few == many
    assert (len(listed(few_page)), len(listed(many_page))) == (4, 41)
    assert "Coord039" in many_page and "Next cohorts" not in many_page


def listed(page: str) -> list[str]:
    """The cohorts a page of the list names."""
    return re.findall(r'<a href="/cohorts/\d+">([^<]+)</a>', page)


def test_cohorts_page_by_name(make_app):
    app = make_app(COHORTS_PER_PAGE=10)
    with_cohorts(app, 24)  # with the world's "Intake A": 25
    client = app.test_client()
    sign_in(client, "coordinator")  # runs them all
    seen: list[str] = []
    url = "/cohorts"
    for expected in (10, 10, 5):
        page = client.get(url).get_data(as_text=True)
        names = listed(page)
        assert len(names) == expected
        seen += names
        following = re.search(r'href="(/cohorts\?after=[^"]+)"', page)
        if expected < 10:
            assert following is None and "First cohorts" in page
        else:
            assert following is not None
            url = following.group(1).replace("&amp;", "&")
    assert seen == sorted(seen) and len(set(seen)) == 25
    beyond = client.get("/cohorts?after=zzz").get_data(as_text=True)
    assert "No more cohorts." in beyond
    with app.extensions["database"].read_sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 30
