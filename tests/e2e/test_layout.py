"""Small screens, the keyboard alone, visible focus, and a closed network."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_rules, axe_violations, screenshot, sign_in, signed_in

WIDTHS = (375, 768, 1280)
SCREENSHOT_WIDTHS = (375, 768)  # the phone and the tablet; a full-page screenshot is the sweep's dearest step
PAGES = {
    "assessor": [
        "/enrolments",
        "/enrolments/1",
        "/enrolments/1/matrix",
        "/trainees/4/evidence/new",
        "/evidence/1",
        "/standards/cscofm023/v1",
        "/evidence/1/edit",
        "/account",
        "/observations/group",
        "/observations/group/new?unit=2&cohort=1",
    ],
    "coordinator": ["/cohorts", "/cohorts/1", "/cohorts/1/enrol", "/people/new", "/exports", "/import", "/records/1"],
    "trainee": ["/enrolments", "/enrolments/1", "/my/evidence/new", "/verify"],
    "qa": ["/quality", "/quality/plans/1", "/quality/reviews/1", "/quality/plans/new", "/quality/report"],
    "admin": ["/admin/users", "/jobs", "/quality/countersigning", "/accounts/invitations", "/admin/outbox"],
}
# Every other page with no record of its own in its address, checked the same way without screenshots.
MORE_PAGES = {
    "anonymous": ["/sign-in", "/forgot-password", "/verify", "/verify/credential", "/welcome", "/standards/"],
    "assessor": [
        "/enrolments/1/sign-off",
        "/account/password",
        "/account/sessions",
        "/account/two-factor",
        "/trainees/5/evidence/new",  # Tūī's, with the example unit that asks which whānau
        "/enrolments/6",  # her example unit whose occasions must differ
    ],
    "coordinator": [
        "/enrolments/5",  # Tūī in release 1 of the example unit release 2 supersedes
        "/enrolments/5/move",
        "/cohorts/1/move",
        "/cohorts/1/move?from=3&to=4",
    ],
    "admin": [
        "/admin/users/2",
        "/standards/us_case_mgmt/v1",
        "/standards/example_support_plans/v1",  # Range of Conditions
        "/standards/example_support_plans/v2",  # its mapping table
        "/standards/example_whanau_hui/v1",
    ],
}


# Each page at each width: axe's WCAG 2.2 AA rules (target size among them), every violation counted, and, as
# `visit` does everywhere, axe's default rules, failing on the serious and critical ones; both sets in one run of axe.
@pytest.mark.reads_only
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("user", sorted(PAGES.keys() | MORE_PAGES.keys()))
def test_every_page_fits_small_screens_and_passes_the_wcag_2_2_aa_rules_at_every_width(page, visit, user, width):
    if user != "anonymous":
        signed_in(page, visit, user)
    rules = axe_rules(page)
    found = []
    page.set_viewport_size({"width": width, "height": 900})
    for path in PAGES.get(user, []) + MORE_PAGES.get(user, []):
        visit(path, check=False)
        violations = axe_violations(page, rules.both())
        visit.check([v for v in violations if v["id"] in rules.default])
        if path in PAGES.get(user, []) and width in SCREENSHOT_WIDTHS:
            screenshot(page, f"{user}-{path.strip('/').replace('/', '-') or 'home'}-{width}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            found.append(f"{path} at {width}px scrolls sideways by {overflow}px")
        for violation in violations:
            if violation["id"] in rules.wcag_22_aa:
                targets = [node["target"] for node in violation["nodes"]][:3]
                found.append(f"{path} at {width}px: {violation['id']} ({len(violation['nodes'])}) {targets}")
    assert found == []


def test_sign_in_and_record_evidence_with_the_keyboard_alone(page, visit):
    visit("/sign-in")
    page.keyboard.press("Tab")  # skip link
    focused = page.evaluate("document.activeElement.textContent")
    assert "Skip to content" in focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus must be visible"
    page.get_by_label("Username").focus()
    page.keyboard.type("assessor")
    page.keyboard.press("Tab")
    page.keyboard.type("demo password 1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/enrolments")

    page.get_by_role("link", name="Record evidence for Aroha Ngata").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/evidence/new")
    page.get_by_label("What was observed").focus()
    page.keyboard.type("Observed with the keyboard only.")
    # The first outline is open; go to an outstanding criterion's choices and pick "Satisfied" with an arrow key.
    outstanding = page.get_by_role("group", name=re.compile(r"^1\.4 Use questions")).first
    outstanding.get_by_label("Not mapped").focus()
    page.keyboard.press("ArrowRight")
    expect(outstanding.get_by_label("Satisfied", exact=True)).to_be_checked()
    # What is satisfied already is out of sight until one tick, by keyboard too, shows it.
    met = page.get_by_role("group", name=re.compile(r"^1\.1 Establish")).first
    expect(met).to_be_hidden()
    page.get_by_label(re.compile(r"^Show the \d+ already satisfied$")).focus()
    page.keyboard.press("Space")
    expect(met).to_be_visible()
    # Find a criterion by number, then Tab into its choices.
    page.get_by_label("Find a criterion or item").focus()
    page.keyboard.type("1.5")
    found = page.get_by_role("group", name=re.compile(r"^1\.5 ")).first
    expect(found).to_be_visible()
    expect(outstanding).to_be_hidden()
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('fieldset')?.querySelector('.ref')?.textContent") == "1.5":
            break
    page.keyboard.press("ArrowRight")
    expect(found.get_by_label("Satisfied", exact=True)).to_be_checked()
    page.get_by_role("button", name="Record evidence").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("recorded.")).to_be_visible()
    visit.check()


@pytest.mark.reads_only
def test_on_a_phone_the_menu_folds_behind_one_button_and_criteria_read_across_the_screen(page, visit):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, visit, "trainee")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Unit standards")).to_be_hidden()
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 740 / 10, header
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Unit standards")).to_be_visible()
    visit.check()
    page.get_by_role("link", name=re.compile(r"^Build and maintain")).click()
    text = page.locator("#target-1\\.1 .target-text").bounding_box()
    assert text is not None and text["width"] >= 300, text  # not squeezed between number and status
    evidence = page.locator("#target-1\\.1 .mapped-evidence").bounding_box()
    assert evidence is not None and evidence["y"] > text["y"] and evidence["width"] >= 300, evidence
    visit.check()
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Unit standards")).to_be_visible()
