"""An administrator loads a unit file on the web: every problem with its line, a preview of what it adds, then one
confirmed load, audited, shown at once."""

from __future__ import annotations

import io
import re
from pathlib import Path

import sqlalchemy as sa

from assessor.models import AuditEvent, UnitVersion
from assessor.standards import views
from tests.web.conftest import csrf_token, sign_in

DATA = Path(__file__).resolve().parents[1] / "data"
UNIT = (DATA / "publisher_fields.yaml").read_bytes()


def upload(client, data: bytes, name: str = "unit.yaml"):
    form = {"csrf_token": csrf_token(client, "/standards/load"), "file": (io.BytesIO(data), name)}
    return client.post("/standards/load", data=form, content_type="multipart/form-data")


def confirm(client, page: str):
    digest = re.search(r'name="upload" type="hidden" value="([0-9a-f]{64})"', page)
    assert digest, "no confirmation on the preview"
    return client.post(
        "/standards/load/confirm", data={"csrf_token": csrf_token(client, "/standards/load"), "upload": digest[1]}
    )


def loaded(app) -> list[str]:
    with app.extensions["database"].engine.connect() as connection:
        rows = connection.execute(sa.select(UnitVersion.unit_id, UnitVersion.version).order_by(UnitVersion.id))
        return [f"{u}@{v}" for u, v in rows]


def test_check_preview_and_confirm_load_a_new_unit_once(app, client, world):
    sign_in(client, "admin")
    before = loaded(app)
    checked = upload(client, UNIT)
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "EXCLR002 Review client plans" in page and "none: a new unit" in page
    assert loaded(app) == before  # nothing yet
    done = confirm(client, page)
    assert done.status_code == 302 and done.headers["Location"].endswith("/standards/example_client_review/v1")
    assert loaded(app) == [*before, "example_client_review@1"]
    assert client.get("/standards/example_client_review/v1").status_code == 200
    with app.extensions["database"].sessions() as session:
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "unit_version.load")).all()[-1]
        assert event.actor_id is not None
    # the same confirmation again loads nothing more, and says the upload is gone
    again = confirm(client, page)
    assert again.status_code == 302 and loaded(app) == [*before, "example_client_review@1"]
    # the same file again: nothing to add
    same = upload(client, UNIT).get_data(as_text=True)
    assert "loaded already" in same and 'name="upload"' not in same


def test_a_new_version_shows_beside_the_old_and_a_changed_text_under_a_loaded_version_is_refused(app, client, world):
    sign_in(client, "admin")
    assert confirm(client, upload(client, UNIT).get_data(as_text=True)).status_code == 302
    changed = UNIT.replace(b"Gather the client's", b"Collect the client's")
    refused = upload(client, changed).get_data(as_text=True)
    assert "is loaded with a different text" in refused and 'name="upload"' not in refused
    version_two = upload(client, changed.replace(b"version: 1", b"version: 2")).get_data(as_text=True)
    assert "beside the loaded versions" in version_two and "version 1</a>" in version_two
    assert confirm(client, version_two).status_code == 302
    assert "example_client_review@2" in loaded(app)


def test_a_broken_or_oversized_file_lists_every_problem_with_its_line_and_loads_nothing(
    app, client, world, monkeypatch
):
    sign_in(client, "admin")
    before = loaded(app)
    broken = UNIT.replace(b"review_date: 2028-06-30", b"review_date: soon").replace(
        b"  - unit: EXCLR001", b"  - unit: EXCLR002"
    )
    response = upload(client, broken)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "2 problems" in page
    assert "Line 11, <code>review_date</code>: expected a date written YYYY-MM-DD" in page
    assert "<code>prerequisites[0].unit</code>: a unit cannot be its own prerequisite" in page
    monkeypatch.setattr(views, "MAX_FILE_BYTES", len(UNIT))  # the loader's 1 MB limit, small enough to send here
    too_big = upload(client, UNIT + b"#")
    assert too_big.status_code == 400 and f"is larger than {len(UNIT):,} bytes" in too_big.get_data(as_text=True)
    nothing = client.post("/standards/load", data={"csrf_token": csrf_token(client, "/standards/load")})
    assert nothing.status_code == 400 and "Choose a unit standard file." in nothing.get_data(as_text=True)
    assert loaded(app) == before


def test_only_an_administrator_loads(app, client, world):
    sign_in(client, "coordinator")
    assert client.get("/standards/load").status_code == 404
    assert "Load a unit standard" not in client.get("/standards/").get_data(as_text=True)
