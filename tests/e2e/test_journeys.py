"""The main journeys clicked as a person would, by labels and roles, with axe checks on every page visited."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.mailbox import link_in

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def signed_in_elsewhere(browser, server, username: str):
    """Another person at the same time, in a browser context of their own: (context, page), signed in."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo password 1")
    page.get_by_role("button", name="Sign in").click()
    return context, page


def choose(page, section_title: str, key: str, verdict: str) -> None:
    """Pick a choice for one criterion of one unit in the evidence checklist, opening its group as a person would."""
    section = page.get_by_role("region", name=section_title)
    closed = section.locator("details:not([open]) > summary")
    while closed.count():
        closed.first.click()
    section.get_by_role("group", name=re.compile(rf"^{re.escape(key)} ")).get_by_label(verdict, exact=True).check()


def test_assessor_records_maps_signs_off_and_prints(page, visit, server, tmp_path):
    sign_in(page, visit, "assessor")
    expect(page.get_by_role("heading", name="My trainees")).to_be_visible()
    page.get_by_role("link", name="Record evidence for Aroha Ngata").first.click()
    visit.check()
    page.get_by_label("Location").fill("Regional office, interview room 3")
    page.get_by_label("What was observed").fill(
        "Observed Aroha run a full client interview and follow up with probation."
    )
    attachment = tmp_path / "interview-notes.pdf"
    attachment.write_bytes(PDF)
    page.get_by_label("Attachments").set_input_files(str(attachment))
    nz = "Build and maintain effective and respectful relationships in case management"
    for key in ("1.4", "1.5", "1.6", "2.2"):
        choose(page, nz, key, "Satisfied")
    choose(page, "CSCOFM023 Establish offender management practices", "1.2", "Satisfied")
    page.get_by_role("button", name="Record evidence").click()
    expect(page.get_by_text("recorded.")).to_be_visible()
    visit.check()
    expect(page.get_by_role("link", name="interview-notes.pdf")).to_be_visible()

    page.get_by_role("link", name=nz).first.click()
    visit.check()
    expect(page.get_by_text("Nothing is missing")).to_be_visible()
    page.get_by_role("link", name="Sign off").click()
    visit.check()
    for label in ("valid", "sufficient", "authentic", "current"):
        page.get_by_label(re.compile(rf"The evidence is {label}")).check()
    page.get_by_label("Your password, to confirm that you are signing").fill("demo password 1")
    page.get_by_role("button", name="Sign off as Achieved").click()
    expect(page.get_by_text("Signed off.")).to_be_visible()
    visit.check()
    code = page.locator("dd code").inner_text()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    screenshot(page, "completion-record-print")
    page.emulate_media(media="screen")

    page.goto(f"{server.url}/verify/{code}")
    visit.check()
    expect(page.get_by_text("Genuine.")).to_be_visible()


def test_trainee_sees_progress_move_acknowledges_and_submits(page, visit, server, browser):
    sign_in(page, visit, "trainee")
    nz = "Build and maintain effective and respectful relationships in case management"
    bar = page.get_by_role("progressbar", name=re.compile(r"Progress of Aroha Ngata in Build"))
    before = int(bar.get_attribute("value"))

    # The assessor records an observation meanwhile, in another browser context.
    other, assessor = signed_in_elsewhere(browser, server, "assessor")
    assessor.get_by_role("link", name="Record evidence for Aroha Ngata").first.click()
    assessor.get_by_label("What was observed").fill("Aroha de-escalated an upset client calmly.")
    choose(assessor, nz, "1.5", "Satisfied")
    assessor.get_by_role("button", name="Record evidence").click()
    expect(assessor.get_by_text("recorded.")).to_be_visible()
    other.close()

    page.reload()
    after = int(
        page.get_by_role("progressbar", name=re.compile(r"Progress of Aroha Ngata in Build")).get_attribute("value")
    )
    assert after > before

    page.get_by_role("link", name=nz).first.click()
    visit.check()
    page.get_by_role("link", name=re.compile(r"Evidence #\d+")).last.click()
    visit.check()
    page.get_by_role("button", name="I confirm this is an accurate account").click()
    expect(page.get_by_text("You acknowledged this version")).to_be_visible()

    page.get_by_role("link", name="Submit evidence").click()
    visit.check()
    page.get_by_label("What was observed").fill("My reflection on the whānau hui.")
    choose(page, nz, "1.6", "Shows this")
    page.get_by_role("button", name="Submit evidence").click()
    expect(page.get_by_text("your assessor will review it")).to_be_visible()
    visit.check()


@pytest.mark.reads_only
def test_trainee2_opens_their_completion_record(page, visit):
    sign_in(page, visit, "trainee2")
    page.get_by_role(
        "link", name="Build and maintain effective and respectful relationships in case management"
    ).first.click()
    page.get_by_role("link", name=re.compile(r"Achieved, signed off")).click()
    visit.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Build and maintain")
    expect(page.get_by_text("Verification code")).to_be_visible()


def test_coordinator_imports_enrols_watches_the_heat_map_and_exports(page, visit, server, tmp_path):
    sign_in(page, visit, "coordinator")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["username", "name", "email", "cohort", "unit", "version", "start_date", "assessors"])
    sheet.append(
        ["hemi", "Hemi Walker", "hemi@example.org", "Evening intake", "us_case_mgmt", 1, "2026-10-01", "assessor"]
    )
    sheet.append(["mere", "Mere Tūhoe", None, "Evening intake", "us_case_mgmt", 1, "2026-10-01", "assessor"])
    path = tmp_path / "evening.xlsx"
    book.save(path)
    book.close()

    page.get_by_role("link", name="Cohorts").click()
    visit.check()
    page.get_by_role("link", name="Import trainees and enrolments").click()
    visit.check()
    page.get_by_label("Spreadsheet (.xlsx) or CSV (UTF-8)").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    # The worker checks the file; the job's page refreshes itself until the preview is there.
    expect(page.get_by_text("will create 2 trainees, 2 enrolments and 1 cohorts")).to_be_visible(timeout=30_000)
    visit.check()
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported: 2 new trainees")).to_be_visible(timeout=30_000)
    page.get_by_role("link", name="Back to cohorts").click()

    page.get_by_role("link", name="New account").click()
    visit.check()
    page.get_by_label("Role").select_option(label="Trainee")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Full name").fill("Ana Ngāti Porou")
    page.get_by_label("E-mail").fill("ana@example.org")
    page.get_by_role("button", name="Create account").click()
    expect(
        page.get_by_text("Trainee account ana created; an invitation to set a password is on its way")
    ).to_be_visible()

    page.get_by_role("link", name="Cohorts").click()
    page.get_by_role("link", name="Evening intake").click()
    visit.check()
    heat = page.locator("table.heatmap td.heat")
    expect(heat).to_have_count(4)  # two trainees × two outcomes, nothing satisfied yet
    expect(heat.filter(has_text=re.compile(r"^0%"))).to_have_count(4)
    page.get_by_role("link", name="Enrol a trainee").click()
    visit.check()
    page.get_by_label("Trainee").select_option(label="Ana Ngāti Porou (ana)")
    page.get_by_label("Unit").select_option(
        label="Build and maintain effective and respectful relationships in case management (version 1)"
    )
    page.get_by_role("group", name="Assessors").get_by_label("Sam Patel (assessor)").check()
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_text("Ana Ngāti Porou is enrolled")).to_be_visible()
    visit.check()
    page.get_by_role("link", name="Cohorts").click()
    page.get_by_role("link", name="Evening intake").click()
    expect(heat).to_have_count(6)  # the new trainee's row appeared
    expect(page.get_by_role("rowheader", name="Ana Ngāti Porou")).to_be_visible()
    screenshot(page, "heat-map")

    page.get_by_role("link", name="Export spreadsheets").click()
    visit.check()
    for title in ("progress summary", "criteria matrix", "evidence register", "completion register"):
        page.goto(f"{server.url}/exports")
        page.get_by_role("button", name=f"Export {title}").click()
        # The worker writes it; the job's page refreshes itself until the file is offered.
        download_link = page.get_by_role("link", name=re.compile(r"^Download "))
        expect(download_link).to_be_visible(timeout=30_000)
        with page.expect_download() as download:
            download_link.click()
        data = Path(download.value.path()).read_bytes()
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        first = workbook.worksheets[0]
        assert first.freeze_panes == "A2" and first.max_row >= 1
        workbook.close()


def test_an_imported_trainee_accepts_the_emailed_invitation_and_signs_in(page, visit, server, mailbox, tmp_path):
    sign_in(page, visit, "coordinator")
    path = tmp_path / "intake.csv"
    path.write_text(
        "username,name,email,cohort,unit,version,start_date,assessors\n"
        "tui,Tūī Hohaia,tui@example.org,Spring intake,us_case_mgmt,1,2026-10-01,assessor\n",
        encoding="utf-8",
    )
    visit("/import")
    page.get_by_label("Spreadsheet (.xlsx) or CSV (UTF-8)").set_input_files(str(path))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("will create 1 trainees")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported: 1 new trainees")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Sign out").click()

    # sent by the worker, over SMTP (its hourly chores, at minute 7, may send the demo's digests meanwhile)
    [invitation] = mailbox.wait_for(1, timeout=30, to="tui@example.org")
    visit(urlsplit(link_in(invitation)).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Tūī Hohaia")
    page.get_by_label("New password", exact=True).fill("tui")
    page.get_by_label("New password again").fill("tui")
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_text("Use at least 12 characters.")).to_be_visible()
    visit.check()
    page.get_by_label("New password", exact=True).fill("pōhutukawa blooms by the harbour")
    page.get_by_label("New password again").fill("pōhutukawa blooms by the harbour")
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_text("Your password is set, Tūī Hohaia. Sign in with it.")).to_be_visible()
    visit.check()
    page.get_by_label("Username").fill("tui")
    page.get_by_label("Password").fill("pōhutukawa blooms by the harbour")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/enrolments")
    expect(page.get_by_role("link", name="Build and maintain effective and respectful relationships")).to_be_visible()
    visit.check()


def test_quality_assurer_confirms_a_sample_asks_for_an_action_and_the_loop_closes(page, visit, server, browser):
    sign_in(page, visit, "qa")
    expect(page.get_by_role("heading", name="Quality assurance")).to_be_visible()
    page.get_by_role("link", name=re.compile(r"^Internal quality assurance")).click()
    visit.check()
    page.get_by_role("button", name="Confirm the sample").click()
    expect(page.get_by_text("The sample is confirmed")).to_be_visible()
    visit.check()
    page.get_by_role("table").filter(has_text="Why").get_by_role("link").first.click()
    visit.check()
    trainee = page.get_by_role("heading", level=1).inner_text().split(":")[0]
    page.get_by_label("About").select_option(index=0)
    page.get_by_label("Decision").select_option(label="Assessor to act")
    page.get_by_label("Reason").fill("Add the client's own words to the record of the interview.")
    page.get_by_label("Due by").fill("2099-01-31")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("The decision is recorded.")).to_be_visible()
    visit.check()
    review = page.url

    other, assessor = signed_in_elsewhere(browser, server, "assessor")
    assessor.get_by_role("link", name=re.compile(rf"^{re.escape(trainee)}: ")).first.click()
    assessor.get_by_label("What you did").fill("Added the client's words to the interview notes.")
    assessor.get_by_role("button", name="Send to the quality assurer").click()
    expect(assessor.get_by_text("Sent to the quality assurer to confirm.")).to_be_visible()
    other.close()

    page.goto(review)
    visit.check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Confirmed.", exact=True)).to_be_visible()
    page.get_by_role("button", name="End the review").click()
    expect(page.get_by_text("The review is closed.")).to_be_visible()
    visit.check()

    visit("/quality/report?period_from=2026-01-01&period_to=2099-12-31")
    expect(page.get_by_text("Add the client's own words")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    screenshot(page, "quality-report-print")
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as a spreadsheet").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    decisions = list(book["Decisions"].iter_rows(values_only=True))
    assert decisions[1][4:6] == ("Assessor to act", "Add the client's own words to the record of the interview.")


class Counted:
    """A person's interactions with a page (clicks, typing a field, choosing files), and the pages loaded."""

    def __init__(self, page):
        self.page = page
        self.interactions = 0
        self.loads = 0
        page.on("framenavigated", lambda frame: self._loaded(frame))

    def _loaded(self, frame) -> None:
        if frame == self.page.main_frame:
            self.loads += 1

    def __call__(self, locator, action: str, *args):
        self.interactions += 1
        return getattr(locator, action)(*args)


def test_an_observation_on_a_tablet_takes_at_most_ten_interactions_and_two_page_loads(page, visit, tmp_path):
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, visit, "assessor")
    button = page.get_by_role("link", name="Record evidence for Aroha Ngata").first
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 768, "the main action sits past the right edge"
    photo = tmp_path / "whiteboard.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)

    act = Counted(page)
    act(button, "click")
    expect(page.get_by_label(re.compile(r"^Show the \d+ already satisfied$"))).not_to_be_checked()
    nz = page.get_by_role("region", name="Build and maintain effective and respectful relationships in case management")
    csc = page.get_by_role("region", name="CSCOFM023 Establish offender management practices")
    expect(nz.get_by_role("group", name=re.compile(r"^1\.1 "))).to_be_hidden()  # satisfied already: out of sight
    act(page.get_by_label("What was observed"), "fill", "Aroha ran the review meeting with the client and probation.")
    page.get_by_label("Location").press("Enter")  # Enter in a one-line field sends nothing
    expect(page).to_have_url(re.compile(r"/evidence/new$"))
    act(page.get_by_label("Or take a photo"), "set_input_files", str(photo))
    for section, key in ((nz, "1.4"), (nz, "1.5"), (nz, "1.6"), (csc, "1.1"), (csc, "1.2")):
        target = section.get_by_role("group", name=re.compile(rf"^{re.escape(key)} "))
        act(target.get_by_label("Satisfied", exact=True), "check")
    expect(nz.locator("summary").first).to_contain_text("(3 mapped)")
    act(page.get_by_role("button", name="Record evidence"), "click")
    expect(page.get_by_text("recorded.")).to_be_visible()
    visit.check()
    expect(page.get_by_role("link", name="whiteboard.jpg")).to_be_visible()
    assert act.interactions <= 10 and act.loads == 2, (act.interactions, act.loads)
    screenshot(page, "observation-recorded-768")

    # The next observation: the checklist narrows to a criterion found by words or by number.
    visit("/trainees/4/evidence/new")
    page.get_by_label("Find a criterion or item").fill("protocols")
    visible = page.locator("fieldset.checklist-target:visible legend")
    expect(visible.first).to_contain_text("protocols")
    assert all("protocols" in text.lower() for text in visible.all_inner_texts())
    page.get_by_label("Find a criterion or item").fill("1.4")
    expect(page.get_by_role("group", name=re.compile(r"^1\.4 ")).first).to_be_visible()
    visit.check()


def test_a_group_observation_on_a_tablet_rates_the_ticked_trainees_at_once(page, visit):
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, visit, "assessor")
    page.get_by_role("link", name="Record a group observation").click()
    page.get_by_role("link", name=re.compile("CSCOFM023")).click()
    page.get_by_label("Activity").fill("Case conference role play")
    page.get_by_label("What was observed").fill("The two trainees ran a case conference for a client leaving custody.")
    for name in ("Aroha Ngata", "Tūī Parata"):
        page.get_by_role("checkbox", name=name).check()
    for key in ("1.1", "1.2"):
        page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(key)} ")).check()
    page.get_by_label("1.2 for Tūī Parata, now Not started").select_option("not_yet")
    page.get_by_label("Comment to Tūī Parata").fill("Agree the plan's steps with the client before the conference.")
    screenshot(page, "group-observation-form-768")
    page.get_by_role("button", name="Record the group observation").click()
    expect(page.get_by_text("recorded for 2 trainees")).to_be_visible()
    visit.check()
    parts = page.get_by_role("table")
    expect(parts.get_by_role("row", name=re.compile("Aroha Ngata"))).to_contain_text("1.2 Satisfied")
    expect(parts.get_by_role("row", name=re.compile("Tūī Parata"))).to_contain_text("1.2 Not yet satisfied")
    screenshot(page, "group-observation-768")
