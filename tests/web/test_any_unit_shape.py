"""Any unit the documented format allows works on every page, form and export: generated units with components,
criteria, ranges, occasions and evidence items nested one to six deep, each taken through enrolment, evidence that
meets every rule, sign-off, every page of it and every export, every text shown and nothing failing."""

from __future__ import annotations

import datetime
import io
import itertools
import os
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assessor.cli.standards import unit_tree
from assessor.cohorts.operations import enrol
from assessor.domain.standards import Catalogue, parse_unit
from assessor.domain.vocabulary import Context, Method, Role, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, record_evidence
from assessor.logbook.operations import log_hours, verify_hours
from assessor.models import Enrolment, User
from assessor.records.operations import Declaration, sign_off
from assessor.standards.operations import register_units
from assessor.transfer import reports
from assessor.transfer.workbook import write_workbook
from tests.records.factories import TODAY, make_user
from tests.web.conftest import sign_in

# Letters, macrons and spaces: nothing a page escapes, so a text is found on the page as it is in the file.
WORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzāēīōūĀ", min_size=1, max_size=9), min_size=1, max_size=4
).map(" ".join)
units_made = itertools.count()


@st.composite
def unit_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid unit file: every text unique (a numbered marker, then words), evidence items nested 1 to 6 deep."""
    markers = itertools.count()

    def text(kind: str) -> str:
        return f"{kind}-{next(markers):03d} {draw(WORDS)}"

    differing = draw(st.booleans())  # whether some occasions must differ in a dimension, perhaps with a quota

    def occasions(into: dict[str, Any]) -> dict[str, Any]:
        if needed := draw(st.sampled_from([None, None, 1, 2, 3])):
            into["occasions"] = needed
        if differing and draw(st.booleans()):
            into["distinct"] = "place"
            if draw(st.booleans()):
                into["quota"] = [{"kind": "Marae", "at_least": 1}]
        return into

    def ranges() -> list[str]:
        return [text("Range") for _ in range(draw(st.integers(0, 2)))]

    def items(prefix: str, depth: int, top: bool) -> list[dict[str, Any]]:
        found = []
        for n in range(1, draw(st.integers(1, 2 if depth > 1 else 3)) + 1):
            item: dict[str, Any] = {"id": f"{prefix}{n}" if top else f"{prefix}.{n}", "text": text("Item")}
            if depth > 1 and (n == 1 or draw(st.booleans())):  # the first goes all the way down
                item["items"] = items(item["id"], depth - 1, top=False)
            else:
                occasions(item)
            found.append(item)
        return found

    conditions: list[dict[str, Any]] = []

    def criterion_text() -> str:
        """A criterion's text, perhaps with a Range of Conditions term marked **so** and its entry."""
        if not draw(st.booleans()):
            return text("Criterion")
        term = text("Term")
        condition: dict[str, Any] = {
            "term": term,
            "items": [text("Condition item") for _ in range(draw(st.integers(1, 3)))],
        }
        if draw(st.booleans()):
            condition["text"] = text("Condition")
        conditions.append(condition)
        return f"{text('Criterion')} **{term}** {draw(WORDS)}"

    components = []
    for c in range(1, draw(st.integers(1, 3)) + 1):
        criteria = [
            occasions({"number": f"{c}.{k}", "text": criterion_text(), "range": ranges()})
            for k in range(1, draw(st.integers(1, 3)) + 1)
        ]
        components.append({"number": str(c), "title": text("Component"), "range": ranges(), "criteria": criteria})
    groups = [
        {
            "id": f"E{letter}",
            "kind": draw(st.sampled_from(["performance", "knowledge"])),
            "title": text("Group"),
            "text": text("Group text"),
            "items": items(f"E{letter}X", draw(st.integers(1, 6)), top=True),
        }
        for letter in "ABC"[: draw(st.integers(0, 2))]
    ]
    document = {
        "id": f"generated_{next(units_made)}",
        "version": 1,
        "framework": draw(st.sampled_from(["NZQA", "training.gov.au", "other"])),
        "title": text("Title"),
        "results": {"achieved": "Achieved", "not_achieved": "Not achieved"},
        "usage": {"status": "current"},
        "component_label": draw(st.sampled_from(["Outcome", "Element"])),
        "components": components,
        "range": ranges(),
        "evidence_requirements": groups,
        "rules": {"occasions": draw(st.integers(1, 2))},
    }
    if conditions:
        document["range_of_conditions"] = conditions
    if differing:
        document["dimensions"] = [{"id": "place", "label": text("Dimension"), "kinds": ["Marae", "Kura"]}]
    if draw(st.booleans()):
        document["logbook"] = {"hours": draw(st.integers(1, 30)), "context": text("Logbook")}
    if draw(st.booleans()):
        document["purpose"] = f"{text('Purpose')}\n\n{text('Purpose')}"
        document["assessment_conditions"] = text("Conditions")
    return document


def texts_of(document: dict[str, Any]) -> Iterator[str]:
    """Every text of a generated unit (each begins with its marker); a criterion's text in the parts either side of
    its marked term, which pages set in bold."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("text", "title", "term", "label", "context") and isinstance(value, str):
                yield from (part.strip() for part in value.split("**") if part.strip())
            elif key in ("range", "items") and value and all(isinstance(v, str) for v in value):
                yield from value
            elif isinstance(value, list | dict):
                yield from texts_of(value)  # type: ignore[arg-type]
    elif isinstance(document, list):
        for value in document:
            yield from texts_of(value)


def workbook_text(session, kind: str, enrolment_id: int) -> str:
    """Every cell of one export of one enrolment, as written to a workbook and read back."""
    filters = reports.Filters(sa.select(Enrolment.id).where(Enrolment.id == enrolment_id))
    out = io.BytesIO()
    write_workbook(reports.sheets(session, kind, filters), out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    try:
        return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    finally:
        book.close()


@pytest.fixture
def people(app, world) -> dict[str, int]:
    with app.extensions["database"].sessions.begin() as session:
        trainees = session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == Role.TRAINEE))
        assessor, admin = (session.scalar(sa.select(User).where(User.username == n)) for n in ("assessor", "admin"))
        return {"assessor": assessor.id, "admin": admin.id, "trainees": trainees}


# Fewer on PostgreSQL: the shapes are the database's concern only as rows, which the SQLite run has stored the same.
@settings(
    max_examples=10 if os.environ.get("TEST_DATABASE_URL") else 25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(document=unit_documents())
def test_every_page_and_export_of_any_unit_shows_every_text(app, people, document):
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    unit = parse_unit(text, f"{document['id']}.yaml")
    expected = list(texts_of(document))
    every = [t for t in expected if not t.startswith(("Purpose", "Conditions"))]
    leaves = {i.id: i for i in unit.assessable_items()} | {c.number: c for c in unit.criteria()}
    database = app.extensions["database"]
    with database.sessions.begin() as session:
        (version,) = register_units(session, Catalogue((unit,)))
        assessor = session.get_one(User, people["assessor"])
        trainee = make_user(session, f"t{document['id'].removeprefix('generated_')}", Role.TRAINEE, "Tama Generated")
        admin = session.get_one(User, people["admin"])
        enrolment = enrol(session, admin, trainee, version, [assessor], datetime.date(2026, 8, 1))
        enrolment_id, trainee_id = enrolment.id, trainee.id
    assessor_client, trainee_client = app.test_client(), app.test_client()
    sign_in(assessor_client, "assessor")
    sign_in(trainee_client, trainee.username)

    unit_page = assessor_client.get(f"/standards/{unit.id}/v1").get_data(as_text=True)
    form = assessor_client.get(f"/trainees/{trainee_id}/evidence/new").get_data(as_text=True)
    shown = "\n".join(unit_tree(unit))
    for place, page in (("unit page", unit_page), ("standards show", shown)):
        assert [t for t in expected if t not in page] == [], place
    # The form offers every criterion and item evidence is mapped to, each under every heading above it.
    assert [t for t in every if t.startswith(("Criterion", "Item")) and t not in form] == []
    assert all(f'name="v-{enrolment_id}-{key}"' in form for key in leaves)

    # Evidence meeting every rule: as many occasions as the most any target needs, each judging every target.
    with database.sessions.begin() as session:
        enrolment = session.get_one(Enrolment, enrolment_id)
        assessor = session.get_one(User, people["assessor"])
        for n in range(max(unit.occasions_for(t) for t in leaves.values())):
            place = {"place": (f"Place {n + 1}", ("Marae",))}  # a different place each time, every one a marae
            data = EvidenceInput(Method.DIRECT_OBSERVATION, Context.WORKPLACE, TODAY, f"Occasion {n + 1}.", "", place)
            mappings = [MappingInput(enrolment_id, key, Verdict.SATISFIED) for key in leaves]
            record_evidence(session, assessor, enrolment.trainee, data, mappings, today=TODAY)
        if unit.logbook:  # a day's work at a time, each verified
            for day in range(0, unit.logbook.hours, 24):
                minutes = min(24, unit.logbook.hours - day) * 60
                worked = TODAY - datetime.timedelta(days=1 + day // 24)
                token = f"{enrolment_id:016d}{day:016d}"
                entry = log_hours(session, enrolment.trainee, enrolment, worked, minutes, "Work.", token, TODAY)
                verify_hours(session, assessor, enrolment, entry)
    for client in (assessor_client, trainee_client):
        page = client.get(f"/enrolments/{enrolment_id}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        shown_here = ("Component", "Criterion", "Item", "Group", "Term", "Condition")
        assert [t for t in every if t.startswith(shown_here) and t not in body] == []
        assert body.count("Not started") == 0 and "Nothing is missing" in body
    matrix = assessor_client.get(f"/enrolments/{enrolment_id}/matrix").get_data(as_text=True)
    assert all(f'<span class="ref">{key}</span>' in matrix for key in leaves)

    with database.sessions.begin() as session:
        record = sign_off(
            session,
            session.get_one(User, people["assessor"]),
            session.get_one(Enrolment, enrolment_id),
            Declaration(True, True, True, True),
            TODAY,
        )
        record_id = record.id
    for client in (assessor_client, trainee_client):
        assert client.get(f"/records/{record_id}").status_code == 200
        assert client.get(f"/enrolments/{enrolment_id}").status_code == 200
    with database.sessions() as session:
        for kind in ("progress", "evidence", "completions"):
            cells = workbook_text(session, kind, enrolment_id)
            assert unit.title in cells or unit.id in cells, kind
        matrix_cells = workbook_text(session, "matrix", enrolment_id)
        assert all(key in matrix_cells for key in leaves)
