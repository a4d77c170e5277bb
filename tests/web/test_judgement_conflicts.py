"""Two people judging the same evidence from the same version: a stale judgement is refused with the other person's
beside it, and nothing either saved is lost."""

from __future__ import annotations

import re

import sqlalchemy as sa

from assessor.domain.vocabulary import Verdict
from assessor.models import EvidenceMapping
from tests.web.conftest import WebWorld, csrf_token


def read_form(client, url: str) -> dict[str, str]:
    """The edit form's fields as the page holds them: version, the mappings' seen versions and their choices."""
    page = client.get(url).get_data(as_text=True)
    fields = {
        "csrf_token": csrf_token(client, url),
        "version": re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1),
        "observed_on": re.search(r'name="observed_on" required type="date" value="([^"]*)"', page).group(1),
        "method": "direct_observation",
        "context": "workplace",
        "narrative": "Interviewed a client about housing.",
        "location": re.search(r'name="location" type="text" value="([^"]*)"', page).group(1),
    }
    fields |= dict(re.findall(r'name="(s-[^"]+)" value="(\d+)"', page))
    fields |= {name: value for name, value in re.findall(r'name="(v-[^"]+)" value="([^"]*)" checked', page)}
    return fields


def stored(app, world: WebWorld) -> dict[str, tuple[Verdict | None, str]]:
    with app.extensions["database"].sessions() as session:
        rows = session.execute(
            sa.select(EvidenceMapping.target, EvidenceMapping.verdict, EvidenceMapping.comment).where(
                EvidenceMapping.evidence_id == world.open_evidence
            )
        )
        return {target: (verdict, comment) for target, verdict, comment in rows}


def test_a_stale_judgement_is_refused_beside_the_other_and_saved_only_when_sent_again(app, signed_in, world):
    url = f"/evidence/{world.open_evidence}/edit"
    tab_a, tab_b = signed_in("assessor"), signed_in("assessor")
    form_a, form_b = read_form(tab_a, url), read_form(tab_b, url)
    target = f"{world.open_enrolment}-1.1"
    first = tab_a.post(url, data={**form_a, f"v-{target}": "not_yet", f"c-{target}": "Missed the privacy check."})
    assert first.status_code == 302
    second = tab_b.post(url, data={**form_b, f"v-{target}": "satisfied", f"c-{target}": "All of it seen."})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "Meanwhile saved by Assessor: Not yet satisfied: “Missed the privacy check.”" in page
    assert 'value="All of it seen."' in page  # the second person's judgement is still in the form
    assert stored(app, world)["1.1"] == (Verdict.NOT_YET, "Missed the privacy check.")
    # Sent again from the page that showed both, it is saved, knowingly.
    again = {**read_form_from(page, form_b), f"v-{target}": "satisfied", f"c-{target}": "All of it seen."}
    assert tab_b.post(url, data=again).status_code == 302
    assert stored(app, world)["1.1"] == (Verdict.SATISFIED, "All of it seen.")


def test_a_save_that_would_undo_a_judgement_its_author_never_saw_is_refused(app, signed_in, world):
    url = f"/evidence/{world.open_evidence}/edit"
    tab_a, tab_b = signed_in("assessor"), signed_in("assessor")
    form_a, form_b = read_form(tab_a, url), read_form(tab_b, url)
    one, two = f"{world.open_enrolment}-1.1", f"{world.open_enrolment}-1.2"
    assert tab_a.post(url, data={**form_a, f"v-{one}": "not_yet", f"c-{one}": "Not yet."}).status_code == 302
    # The second tab still shows 1.1 as it was read and changes only 1.2: saving it would put 1.1 back unseen.
    refused = tab_b.post(url, data={**form_b, f"v-{two}": "satisfied"})
    assert refused.status_code == 409
    assert "Meanwhile saved by Assessor: Not yet satisfied: “Not yet.”" in refused.get_data(as_text=True)
    assert stored(app, world) == {"1.1": (Verdict.NOT_YET, "Not yet.")}


def test_a_judgement_added_meanwhile_is_not_removed_by_a_form_that_never_saw_it(app, signed_in, world):
    url = f"/evidence/{world.open_evidence}/edit"
    tab_a, tab_b = signed_in("assessor"), signed_in("assessor")
    form_a, form_b = read_form(tab_a, url), read_form(tab_b, url)
    two = f"{world.open_enrolment}-1.2"
    assert tab_a.post(url, data={**form_a, f"v-{two}": "satisfied"}).status_code == 302
    # The second tab shows 1.2 unmapped, as it was read: saving it as it stands would remove the first's judgement.
    refused = tab_b.post(url, data=form_b)
    assert refused.status_code == 409
    assert "Meanwhile saved by Assessor: Satisfied" in refused.get_data(as_text=True)
    assert stored(app, world)["1.2"] == (Verdict.SATISFIED, "")


def read_form_from(page: str, base: dict[str, str]) -> dict[str, str]:
    """The hidden versions a refused page carries, over the fields sent before."""
    return {
        **base,
        "version": re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1),
        **dict(re.findall(r'name="(s-[^"]+)" value="(\d+)"', page)),
    }
