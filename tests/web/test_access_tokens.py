"""The access tokens page: a token made (its secret shown once), listed with its last use, revoked by its owner
alone, its forms behind CSRF tokens, every change audited."""

from __future__ import annotations

import datetime
import re

import sqlalchemy as sa

from assessor.models import ApiToken, AuditEvent, utcnow
from tests.web.conftest import csrf_token

SECRET = re.compile(r'<code id="new-token">(asr_[A-Za-z0-9_-]+)</code>')


def make(client, name: str = "Student management system", scope: str = "read", days: str = "30"):
    token = csrf_token(client, "/account/tokens")
    return client.post("/account/tokens", data={"csrf_token": token, "name": name, "scope": scope, "days": days})


def test_a_token_is_made_and_its_secret_shown_once(app, world, signed_in):
    client = signed_in("assessor")
    made = make(client)
    assert made.status_code == 201
    assert made.headers["Cache-Control"] == "no-store" and made.headers["Referrer-Policy"] == "no-referrer"
    secret = SECRET.search(made.get_data(as_text=True)).group(1)
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing and secret[:12] in listing and "Never" in listing
    used = app.test_client().get("/api/v1/token", headers={"Authorization": f"Bearer {secret}"})
    assert used.status_code == 200 and used.get_json()["scope"] == "read"
    assert "Never" not in client.get("/account/tokens").get_data(as_text=True)  # its last use, shown
    with app.extensions["database"].read_sessions() as session:
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("user.token%"))).all()
    assert actions == ["user.token_created"]


def test_a_token_needs_a_name_and_a_bounded_life(world, signed_in):
    client = signed_in("assessor")
    assert make(client, name="").status_code == 400
    assert make(client, days="0").status_code == 400
    refused = make(client, days="367")
    assert refused.status_code == 400 and "From 1 to 366 days." in refused.get_data(as_text=True)
    assert make(client, scope="admin").status_code == 400
    assert "You have no tokens." in client.get("/account/tokens").get_data(as_text=True)


def test_the_owner_revokes_a_token_and_it_stops_working(app, world, signed_in):
    client = signed_in("trainee")
    secret = SECRET.search(make(client).get_data(as_text=True)).group(1)
    with app.extensions["database"].read_sessions() as session:
        token_id = session.scalars(sa.select(ApiToken.id)).one()
    revoked = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")}
    )
    assert revoked.status_code == 302
    assert "Revoked" in client.get("/account/tokens").get_data(as_text=True)
    response = app.test_client().get("/api/v1/token", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_an_expired_token_is_listed_as_expired(app, world, signed_in):
    client = signed_in("trainee")
    make(client)
    with app.extensions["database"].sessions.begin() as session:
        session.execute(sa.update(ApiToken).values(expires_at=utcnow() - datetime.timedelta(minutes=1)))
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "Expired" in listing and "Revoke<" not in listing


def test_another_user_cannot_revoke_yours_nor_see_it(app, world, signed_in):
    owner = signed_in("trainee")
    secret = SECRET.search(make(owner, name="Mine alone").get_data(as_text=True)).group(1)
    with app.extensions["database"].read_sessions() as session:
        token_id = session.scalars(sa.select(ApiToken.id)).one()
    for username in ("trainee2", "admin"):
        other = signed_in(username)
        assert "Mine alone" not in other.get("/account/tokens").get_data(as_text=True)
        answer = other.post(
            f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(other, "/account/tokens")}
        )
        assert answer.status_code == 404
    assert app.test_client().get("/api/v1/token", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


def test_the_forms_need_their_csrf_token(app, world, signed_in):
    client = signed_in("trainee")
    assert client.post("/account/tokens", data={"name": "x", "scope": "read", "days": "30"}).status_code == 400
    make(client)
    with app.extensions["database"].read_sessions() as session:
        token_id = session.scalars(sa.select(ApiToken.id)).one()
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 400
    with app.extensions["database"].read_sessions() as session:
        assert session.get_one(ApiToken, token_id).revoked_at is None
        assert session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
