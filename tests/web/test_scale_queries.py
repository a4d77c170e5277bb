"""Pages and exports make the same number of SQL statements for a cohort of 5 trainees as for 50."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

from tests.records.factories import build_cohort, build_world
from tests.web.conftest import csrf_token, sign_in


@contextlib.contextmanager
def counting(engine: sa.Engine):
    """Count the statements sent to the database inside the block."""
    count = [0]

    def before(*_args):
        count[0] += 1

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield count
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def statements_for(make_app, size: int, user: str, url_for_ids) -> int:
    app = make_app()
    with app.extensions["database"].sessions.begin() as session:
        world = build_world(session, app.extensions["catalogue"])
        enrolments = build_cohort(session, world, size)
        ids = {"cohort": enrolments[0].cohort_id, "enrolment": enrolments[0].id, "trainee": enrolments[0].trainee_id}
    client = app.test_client()
    sign_in(client, user if user != "generated" else f"gengen{0:04d}")
    url = url_for_ids(ids)
    # An export is asked for with a POST, and done at once, in this process, by the job it queues.
    asked = {"csrf_token": csrf_token(client, "/exports")} if url.startswith("/exports/") else None

    def visit():
        return client.post(url, data=asked) if asked else client.get(url)

    visit().close()  # warm caches (parsed units) so that both runs start alike
    with counting(app.extensions["database"].engine) as count:
        response = visit()
        response.get_data()
        response.close()
    assert response.status_code == (302 if asked else 200), url
    return count[0]


PAGES = {
    "assessor home": ("assessor", lambda ids: "/enrolments"),
    "coordinator list": ("coordinator", lambda ids: "/enrolments"),
    "cohort heat map": ("coordinator", lambda ids: f"/cohorts/{ids['cohort']}"),
    "enrolment page": ("assessor", lambda ids: f"/enrolments/{ids['enrolment']}"),
    "record-evidence form": ("assessor", lambda ids: f"/trainees/{ids['trainee']}/evidence/new"),
    "trainee page": ("generated", lambda ids: "/enrolments"),
    "progress export": ("coordinator", lambda ids: f"/exports/progress?cohort={ids['cohort']}"),
    "matrix export": ("coordinator", lambda ids: f"/exports/matrix?cohort={ids['cohort']}"),
    "evidence export": ("coordinator", lambda ids: f"/exports/evidence?cohort={ids['cohort']}"),
    "completion export": ("coordinator", lambda ids: f"/exports/completions?cohort={ids['cohort']}"),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_statement_count_does_not_grow_with_the_cohort(make_app, tmp_path_factory, page, database_url):
    user, url = PAGES[page]
    small = statements_for(make_app, 5, user, url)
    if database_url.startswith("sqlite"):
        big_url = f"sqlite:///{tmp_path_factory.mktemp('big')}/big.sqlite"
        from assessor.core import migrate
        from assessor.core.database import make_engine

        engine = make_engine(big_url)
        migrate.upgrade(engine)
        engine.dispose()
        big = statements_for(lambda: make_app(DATABASE_URL=big_url), 50, user, url)
    else:
        pytest.skip("the PostgreSQL database is shared within a test; the SQLite run covers this")
    assert small == big
