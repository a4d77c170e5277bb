"""Conditional GET: a signed-in page the browser already holds answers 304 Not Modified, and never once anything it
shows has changed, for anyone else, or with a message waiting."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from assessor.core import revalidation
from assessor.models import User
from tests.records.factories import TODAY
from tests.web.conftest import csrf_token, post_evidence, sign_in

PAGES = {
    "trainee home": ("trainee", lambda w: "/enrolments"),
    "enrolment page, as trainee": ("trainee", lambda w: f"/enrolments/{w.open_enrolment}"),
    "assessor home": ("assessor", lambda w: "/enrolments"),
    "mapping matrix": ("assessor", lambda w: f"/enrolments/{w.open_enrolment}/matrix"),
    "cohort heat map": ("coordinator", lambda w: f"/cohorts/{w.cohort}"),
}


def fetch(client, path: str, tag: str | None = None):
    """GET `path`, sending `tag` as If-None-Match when given."""
    return client.get(path, headers={"If-None-Match": tag} if tag else {})


def tag_of(response) -> str:
    assert response.status_code == 200
    tag = response.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{64}"', tag), tag
    return tag


def record_evidence_over_http(client, world, target: str, verdict: str, narrative: str):
    fields = {f"v-{world.open_enrolment}-{target}": verdict}
    response = post_evidence(client, world, narrative, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


@pytest.mark.parametrize("page", PAGES)
def test_a_page_the_browser_holds_answers_304_without_a_body(signed_in, world, page):
    who, path_of = PAGES[page]
    client, path = signed_in(who), path_of(world)
    first = fetch(client, path)
    tag = tag_of(first)
    # Kept by this browser alone, which must ask each time; no shared cache may store it.
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = fetch(client, path, tag)
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == "private, no-cache"
    assert fetch(client, path, f'W/"{"0" * 64}", {tag}').status_code == 304  # among others the browser holds
    assert fetch(client, path, tag.removeprefix("W/")).status_code == 304  # a strong copy of it: the same tag


def test_what_the_assessor_records_and_judges_reaches_the_trainee_past_the_old_tag(signed_in, world):
    trainee, assessor = signed_in("trainee"), signed_in("assessor")
    home, page = "/enrolments", f"/enrolments/{world.open_enrolment}"
    home_tag, page_tag = tag_of(fetch(trainee, home)), tag_of(fetch(trainee, page))
    before = fetch(trainee, page).get_data(as_text=True)

    evidence = record_evidence_over_http(assessor, world, "1.4", "satisfied", "Ran the case conference.")
    fresh = fetch(trainee, page, page_tag)
    shown = fresh.get_data(as_text=True)
    assert f"Evidence #{evidence}</a>" in shown and f"Evidence #{evidence}</a>" not in before
    newer_page_tag = tag_of(fresh)
    assert newer_page_tag != page_tag
    listed = fetch(trainee, home, home_tag)
    assert listed.status_code == 200 and tag_of(listed) != home_tag

    # The assessor judges it again, not yet satisfied: the page the trainee holds is out of date once more.
    edit = f"/evidence/{evidence}/edit"
    form = assessor.get(edit).get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    seen = re.search(rf'name="s-{world.open_enrolment}-1.4" value="(\d+)"', form).group(1)
    judged = assessor.post(
        edit,
        data={
            "csrf_token": csrf_token(assessor, edit),
            "version": version,
            f"s-{world.open_enrolment}-1.4": seen,
            "observed_on": TODAY.isoformat(),
            "method": "direct_observation",
            "context": "workplace",
            "narrative": "Ran the case conference.",
            f"v-{world.open_enrolment}-1.4": "not_yet",
            f"c-{world.open_enrolment}-1.4": "Let the trainee chair it next time.",
        },
    )
    assert judged.status_code == 302, judged.get_data(as_text=True)
    after = fetch(trainee, page, newer_page_tag)
    assert after.status_code == 200 and "Let the trainee chair it next time." in after.get_data(as_text=True)
    assert fetch(trainee, page, tag_of(after)).status_code == 304  # and still until the next change


def test_no_one_else_and_no_other_sign_in_shares_a_tag(app, signed_in, world):
    trainee = signed_in("trainee")
    page = f"/enrolments/{world.open_enrolment}"
    home_tag, page_tag = tag_of(fetch(trainee, "/enrolments")), tag_of(fetch(trainee, page))

    other_trainee = fetch(signed_in("trainee2"), "/enrolments", home_tag)
    assert other_trainee.status_code == 200 and tag_of(other_trainee) != home_tag
    for who in ("assessor", "admin", "coordinator"):  # who see the same enrolment, and the same records
        theirs = fetch(signed_in(who), page, page_tag)
        assert theirs.status_code == 200 and tag_of(theirs) != page_tag, who
    second_browser = fetch(signed_in("trainee"), page, page_tag)  # the same person, signed in elsewhere
    assert second_browser.status_code == 200 and tag_of(second_browser) != page_tag

    # Signing out and in again in the same browser: a new sign-in, a new tag.
    token = csrf_token(trainee, page)
    assert trainee.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert fetch(trainee, page, page_tag).status_code == 302  # signed out: to the sign-in page, never a 304
    sign_in(trainee, "trainee")
    again = fetch(trainee, page, page_tag)
    assert again.status_code == 200 and tag_of(again) != page_tag


def test_a_waiting_message_is_shown_not_answered_304(signed_in, world):
    trainee = signed_in("trainee")
    tag = tag_of(fetch(trainee, "/enrolments"))
    # Turning the daily e-mail off changes nothing the home page shows, and leaves a message for the next page.
    off = trainee.post("/account/digest", data={"csrf_token": csrf_token(trainee, "/account"), "digest": "0"})
    assert off.status_code == 302
    shown = fetch(trainee, "/enrolments", tag)
    assert shown.status_code == 200 and "You will get no daily e-mail" in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers and shown.headers["Cache-Control"] == "no-store"  # nothing to keep
    assert fetch(trainee, "/enrolments", tag).status_code == 304  # the message shown once, the page unchanged


def test_the_query_string_is_part_of_the_tag(signed_in, world):
    assessor = signed_in("assessor")
    plain = tag_of(fetch(assessor, "/enrolments"))
    sorted_by_unit = fetch(assessor, "/enrolments?sort=unit", plain)
    assert sorted_by_unit.status_code == 200 and tag_of(sorted_by_unit) != plain
    assert tag_of(fetch(assessor, "/enrolments?sort=unit&page=2")) != tag_of(sorted_by_unit)


def test_a_tag_never_outlives_the_right_to_see_the_page(signed_in, world):
    assessor, coordinator = signed_in("assessor"), signed_in("coordinator")
    page = f"/enrolments/{world.open_enrolment}"
    tag = tag_of(fetch(assessor, page))
    # The coordinator gives the enrolment to another assessor: an audited change, so the held page is asked afresh.
    assign = coordinator.post(
        f"/enrolments/{world.open_enrolment}/assessors",
        data={"csrf_token": csrf_token(coordinator, page), "assessors": [str(_user_id(coordinator, "assessor2"))]},
    )
    assert assign.status_code == 302
    assert fetch(assessor, page, tag).status_code == 404
    # A tag of another page, or "any", is never taken for this one.
    trainee = signed_in("trainee")
    assert fetch(trainee, f"/enrolments/{world.other_enrolment}", tag).status_code == 404
    assert fetch(trainee, f"/enrolments/{world.other_enrolment}", "*").status_code == 404
    star = fetch(trainee, f"/enrolments/{world.open_enrolment}", "*")
    assert star.status_code == 200 and star.data


def test_a_kept_page_carries_a_csrf_token_that_is_still_good(monkeypatch, signed_in, world):
    trainee = signed_in("trainee")
    first = fetch(trainee, "/enrolments")
    tag = tag_of(first)
    token = re.search(r'name="csrf_token" value="([^"]+)"', first.get_data(as_text=True)).group(1)
    assert fetch(trainee, "/enrolments", tag).status_code == 304
    # The token in the page the browser shows after that 304 is still accepted.
    assert trainee.post("/account/digest", data={"csrf_token": token, "digest": "1"}).status_code == 302
    trainee.get("/account")  # shows the message it left

    # A slice of the token's lifetime later, the page is rendered afresh with a newer token.
    slice_seconds = trainee.application.config.get("WTF_CSRF_TIME_LIMIT", 3600) // revalidation.CSRF_SLICES
    later = time.time() + slice_seconds
    monkeypatch.setattr(revalidation, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))
    fresh = fetch(trainee, "/enrolments", tag)
    assert fresh.status_code == 200 and tag_of(fresh) != tag


def test_pages_that_show_what_is_not_audited_are_never_kept(signed_in, world):
    trainee = signed_in("trainee")
    for path in ("/account", "/account/sessions", f"/evidence/{world.open_evidence}"):
        response = trainee.get(path)
        assert response.status_code == 200, path
        assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store", path


def _user_id(client, username: str) -> int:
    with client.application.extensions["database"].sessions() as session:
        return session.scalars(sa.select(User.id).where(User.username == username)).one()


def test_every_worker_of_one_build_makes_the_same_tags_and_a_new_build_others(make_app):
    # Two workers are two apps made alike: their tags must agree, or each would refuse the other's.
    first, second = make_app(), make_app()
    assert first.extensions["revalidation"] == second.extensions["revalidation"]
    renamed = make_app(QUALITY_ASSURER_TITLE="Moderator")  # a setting that shows on pages
    assert renamed.extensions["revalidation"] != first.extensions["revalidation"]


def test_a_sign_in_that_ends_asks_the_browser_to_forget_the_pages_it_kept(app, signed_in, world):
    trainee = signed_in("trainee")
    out = trainee.post("/sign-out", data={"csrf_token": csrf_token(trainee, "/enrolments")})
    assert out.status_code == 302 and out.headers["Clear-Site-Data"] == '"cache"'

    idle = signed_in("trainee")
    with idle.session_transaction() as session:
        session["seen"] -= app.config["IDLE_TIMEOUT_MINUTES"] * 60 + 1
    ended = idle.get("/enrolments")
    assert ended.status_code == 302 and ended.headers["Clear-Site-Data"] == '"cache"'
    assert "Clear-Site-Data" not in signed_in("trainee").get("/enrolments").headers  # only when a sign-in ends
