"""Units in the layouts publishers print, taken end to end as an administrator, a coordinator and an assessor use
them: loaded on the web, read, assessed, signed off and exported. The release pair is also moved between."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from markupsafe import escape

from assessor.cohorts.operations import enrol
from assessor.demo.sample import EXAMPLES
from assessor.domain.standards import load_unit
from assessor.domain.vocabulary import Context, EnrolmentStatus, Method, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, record_evidence
from assessor.logbook.operations import log_hours, verify_hours
from assessor.models import Enrolment, UnitVersion, User
from assessor.records.operations import Declaration, sign_off
from tests.records.factories import TODAY
from tests.web.conftest import WebWorld
from tests.web.test_any_unit_shape import workbook_text
from tests.web.test_standards_upload import confirm, upload

# Each file, and what a reader of that publisher's layout looks for on the unit page.
LAYOUTS = {
    "example_whanau_hui.yaml": [
        "Outcomes and evidence requirements",
        '<h2 id="guidance">Explanatory notes</h2>',
        "<dt>Publisher's version</dt><dd>3 <span",
        "Social Services &gt; Social Services Practice",
        "Example Workforce Development Council",
        "<dt>Whānau</dt>",
        "Needs 2 occasions, each with a different Whānau; at least 1 Māori.",
    ],
    "example_support_plans_1.yaml": [
        "Elements and performance criteria",
        "Release 1",
        '<a href="#range-1.1-plan"><strong>plan</strong></a>',
        "Knowledge Evidence",
        "how long records are kept",
    ],
    "example_support_plans_2.yaml": [
        "Release 2",
        "<dt>Supersedes</dt>",
        "Mapping from example_support_plans version 1",
        "how long records are kept and who may read them",
        "At least 40 hours of support work with people in their own homes, each verified by an assessor",
    ],
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_a_unit_in_its_publishers_layout_is_loaded_read_assessed_signed_off_and_exported(
    app, world: WebWorld, signed_in, name
):
    unit = load_unit(EXAMPLES / name)
    admin = signed_in("admin")
    if name == "example_support_plans_2.yaml":  # a release follows the one it supersedes
        assert confirm(
            admin, upload(admin, (EXAMPLES / "example_support_plans_1.yaml").read_bytes()).get_data(as_text=True)
        )
    preview = upload(admin, (EXAMPLES / name).read_bytes(), name).get_data(as_text=True)
    assert unit.name in preview
    assert confirm(admin, preview).status_code == 302
    page = admin.get(f"/standards/{unit.id}/v{unit.version}").get_data(as_text=True)
    assert [text for text in LAYOUTS[name] if text not in page] == []

    database = app.extensions["database"]
    with database.sessions.begin() as session:
        version = session.scalar(
            sa.select(UnitVersion).where(UnitVersion.unit_id == unit.id, UnitVersion.version == unit.version)
        )
        people = {u.username: u for u in session.scalars(sa.select(User))}
        cohort = session.get_one(Enrolment, world.open_enrolment).cohort
        enrolment = enrol(
            session,
            people["admin"],
            people["trainee"],
            version,
            [people["assessor"]],
            datetime.date(2026, 8, 1),
            cohort,
        )
        enrolment_id = enrolment.id
        targets = list(unit.targets())
        for n in range(max(unit.occasions_for(t) for t in unit.targets().values())):
            whanau = {"whanau": (f"Whānau {n + 1}", ("Māori",) if n == 0 else ())}  # for the NZQA unit's 2.1
            data = EvidenceInput(Method.DIRECT_OBSERVATION, Context.WORKPLACE, TODAY, f"Occasion {n + 1}.", "", whanau)
            mappings = [MappingInput(enrolment_id, key, Verdict.SATISFIED) for key in targets]
            record_evidence(session, people["assessor"], people["trainee"], data, mappings, today=TODAY)
        if unit.logbook:  # a day's work at a time, each verified
            enrolment = session.get_one(Enrolment, enrolment_id)
            for day in range(unit.logbook.hours // 8):
                worked = datetime.date(2026, 9, 1 + day)
                entry = log_hours(
                    session, people["trainee"], enrolment, worked, 480, "Support at home.", f"{day:032d}", TODAY
                )
                verify_hours(session, people["assessor"], enrolment, entry)
    assessor = signed_in("assessor")
    body = assessor.get(f"/enrolments/{enrolment_id}").get_data(as_text=True)
    assert "Nothing is missing" in body and "Not started" not in body
    form = assessor.get(f"/trainees/{world.trainee_id}/evidence/new").get_data(as_text=True)
    assert all(f'name="v-{enrolment_id}-{key}"' in form for key in targets)
    with database.sessions.begin() as session:
        record = sign_off(
            session,
            session.scalar(sa.select(User).where(User.username == "assessor")),
            session.get_one(Enrolment, enrolment_id),
            Declaration(True, True, True, True),
            TODAY,
        )
        record_id = record.id
    record_page = signed_in("trainee").get(f"/records/{record_id}").get_data(as_text=True)
    assert unit.title in record_page and all(str(escape(c.text)) in record_page for c in unit.criteria())
    with database.sessions() as session:
        assert session.get_one(Enrolment, enrolment_id).status == EnrolmentStatus.COMPLETED
        progress = workbook_text(session, "progress", enrolment_id)
        assert unit.title in progress
        matrix = workbook_text(session, "matrix", enrolment_id)
        assert all(key in matrix for key in targets) and "**" not in matrix
