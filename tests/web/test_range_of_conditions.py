"""Range of Conditions on the pages: each marked term in bold, linked to its list, shown with its criterion."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import sqlalchemy as sa

from assessor.cohorts.operations import enrol
from assessor.demo.sample import EXAMPLES
from assessor.domain.standards import Catalogue, load_unit
from assessor.models import User
from assessor.standards.operations import register_units

DATA = Path(__file__).resolve().parents[1] / "data"


def test_the_unit_and_enrolment_pages_link_each_term_to_its_list_under_the_criterion(app, world, signed_in):
    with app.extensions["database"].sessions.begin() as session:
        (version,) = register_units(session, Catalogue((load_unit(EXAMPLES / "example_support_plans_1.yaml"),)))
        admin, assessor, trainee = (
            session.scalar(sa.select(User).where(User.username == n)) for n in ("admin", "assessor", "trainee")
        )
        enrolment_id = enrol(session, admin, trainee, version, [assessor], datetime.date(2026, 8, 1)).id
    link = '<a href="#range-1.1-plan"><strong>plan</strong></a>'
    listed = re.compile(
        r'<div class="range" id="range-1.1-plan">\s*<p class="range-heading"><strong>plan</strong> must include one '
        r"or more of:</p>\s*<ul><li>a support plan</li><li>a care plan</li><li>a plan the person wrote themselves</li>"
    )
    for who in ("assessor", "trainee"):
        client = signed_in(who)
        for url in ("/standards/example_support_plans/v1", f"/enrolments/{enrolment_id}"):
            page = client.get(url).get_data(as_text=True)
            assert f"Read the person&#39;s {link} and confirm the support it asks for." in page, url
            assert listed.search(page), url
            assert 'id="range-1.3-risks"' in page and "risks to the person&#39;s rights" in page, url
            assert "**" not in page, url
    unit_page = signed_in("assessor").get("/standards/example_support_plans/v1").get_data(as_text=True)
    assert '<h2 id="range-of-conditions">Range of conditions</h2>' in unit_page
    form = signed_in("assessor").get(f"/trainees/{world.trainee_id}/evidence/new").get_data(as_text=True)
    assert "Read the person&#39;s plan and confirm the support it asks for." in form and "**" not in form
