"""A realistic demonstration data set, made through the same operations users use."""

from __future__ import annotations

import datetime
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts.operations import create_user
from assessor.cohorts.operations import create_cohort, enrol
from assessor.domain.standards import Catalogue, load_unit
from assessor.domain.vocabulary import Context, Method, PlanBasis, Role, Stage, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, acknowledge, record_evidence
from assessor.models import Cohort, Evidence, UnitVersion, User
from assessor.quality.operations import PlanInput, create_plan, propose_sample
from assessor.records.operations import Declaration, sign_off
from assessor.standards.operations import register_units
from assessor.standards.queries import loaded_version

EXAMPLES = Path(__file__).parent / "units"  # example units, in this project's own words, for the demo and the tests
NZ = "us_case_mgmt"
CSC = "cscofm023"

ACCOUNTS = [
    ("admin", "Alex Morgan", Role.ADMIN),
    ("coordinator", "Jo Williams", Role.COORDINATOR),
    ("assessor", "Sam Patel", Role.ASSESSOR),
    ("trainee", "Aroha Ngata", Role.TRAINEE),
    ("trainee2", "Tūī Parata", Role.TRAINEE),
    ("qa", "Rewi Tane", Role.QUALITY_ASSURER),
]

# CSCOFM023 was deleted on 2021-01-24: only enrolments that began before then may continue.
CSC_START = datetime.date(2020, 11, 2)


def create_demo(session: so.Session, password: str, today: datetime.date | None = None) -> dict[str, User]:
    """Accounts for every role, a cohort, both trainees enrolled in both units part-way, one unit signed off."""
    today = today or datetime.date.today()
    users = {
        username: create_user(session, None, username, name, role, password, f"{username}@example.org")
        for username, name, role in ACCOUNTS
    }
    admin, coordinator, assessor = users["admin"], users["coordinator"], users["assessor"]
    versions = {v.unit_id: v for v in session.scalars(sa.select(UnitVersion).order_by(UnitVersion.version))}
    cohort = create_cohort(session, admin, "Case management 2026 intake", [coordinator])

    def day(days_ago: int) -> datetime.date:
        return today - datetime.timedelta(days=days_ago)

    enrolments = {}
    for name in ("trainee", "trainee2"):
        trainee = users[name]
        enrolments[name, NZ] = enrol(session, coordinator, trainee, versions[NZ], [assessor], day(110), cohort)
        # CSCOFM023 is deleted: only an administrator records an enrolment begun before then (a carry-over).
        enrolments[name, CSC] = enrol(session, admin, trainee, versions[CSC], [assessor], CSC_START, cohort)

    def observe(
        trainee: str,
        days_ago: int,
        method: Method,
        location: str,
        narrative: str,
        targets: list[tuple[str, str, Verdict | None, str]],
    ) -> Evidence:
        mappings = [
            MappingInput(enrolments[trainee, unit].id, target, verdict, comment)
            for unit, target, verdict, comment in targets
        ]
        data = EvidenceInput(method, Context.WORKPLACE, day(days_ago), narrative, location)
        return record_evidence(session, assessor, users[trainee], data, mappings, today=today)

    ok, not_yet = Verdict.SATISFIED, Verdict.NOT_YET
    first = observe(
        "trainee",
        60,
        Method.DIRECT_OBSERVATION,
        "Service centre, interview room 2",
        "Observed Aroha's first interview with a new client. She checked the room was private, offered water and "
        "explained how the information would be used before starting. She used open questions and summarised back.",
        [
            (NZ, "1.1", ok, "Privacy, safety and comfort all addressed before the interview began."),
            (NZ, "1.2", ok, "Respectful throughout; followed the interview procedure."),
            (NZ, "1.3", ok, "Open questions and reflective listening drew the client in."),
            (NZ, "1.4", not_yet, "Missed asking about current income support; the plan was based on incomplete facts."),
        ],
    )
    acknowledge(session, users["trainee"], first)
    observe(
        "trainee",
        21,
        Method.DIRECT_OBSERVATION,
        "Regional office, case conference",
        "Aroha presented a client's situation at the weekly case conference with probation and a housing provider, "
        "followed the agreed meeting protocol and negotiated a joint plan.",
        [
            (NZ, "2.1", ok, "Followed the conference protocol and each agency's reporting expectations."),
            (CSC, "1.3", ok, "Consulted the key people and explored options for resolving the housing issue."),
            (CSC, "PE6", ok, "Negotiated a mutually agreed outcome with staff from two agencies."),
        ],
    )
    observe(
        "trainee2",
        80,
        Method.DIRECT_OBSERVATION,
        "Service centre, interview room 1",
        "Observed Tūī interview a distressed client. Tūī set up a private, safe space, acknowledged the client's anger "
        "calmly, kept the interview moving and used questions to establish the facts needed for a decision.",
        [(NZ, n, ok, "") for n in ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6")],
    )
    observe(
        "trainee2",
        45,
        Method.THIRD_PARTY_REPORT,
        "Community probation office",
        "Report from the probation officer: Tūī followed the court and probation protocols when sharing case "
        "information and worked with probation to agree the client's reporting arrangements.",
        [(NZ, "2.1", ok, "Confirmed by the probation officer's report."), (NZ, "2.2", ok, "Influenced a joint plan.")],
    )
    observe(
        "trainee2",
        30,
        Method.WORK_PRODUCT,
        "Regional office",
        "Tūī's draft case management procedure for the reintegration programme, with roles, responsibilities and an "
        "appeals process agreed with the team leaders.",
        [
            (CSC, "1.7", ok, "Roles and accountabilities clearly defined."),
            (CSC, "1.8", not_yet, "The appeal process is described but not yet agreed with the team leaders."),
            (CSC, "PE5", ok, "Plan documented to the organisation's template."),
        ],
    )
    nz2 = enrolments["trainee2", NZ]
    sign_off(session, assessor, nz2, Declaration(True, True, True, True), day(14))
    # The quality assurer's plan for the year, its sample proposed and waiting to be adjusted and confirmed.
    plan = PlanInput(
        f"Internal quality assurance {today.year}",
        PlanBasis.ASSESSOR_RATE,
        Stage.INTERIM,
        today.replace(month=1, day=1),
        today,
        assessor_percent=50,
        seed=today.year,
    )
    propose_sample(session, users["qa"], create_plan(session, users["qa"], plan))
    _examples(session, users, cohort, day(40), today)
    return users


def _examples(
    session: so.Session, users: dict[str, User], cohort: Cohort, started: datetime.date, today: datetime.date
) -> None:
    """The example units (not published ones: see their files) loaded; Tūī part-way through release 1 of the one a
    release 2 supersedes, so a coordinator can see what moving her to release 2 carries, and enrolled in the one whose
    meetings must be with different whānau, so the evidence form asks which."""
    register_units(session, Catalogue(tuple(load_unit(f) for f in sorted(EXAMPLES.glob("*.yaml")))))
    release_1, hui = (
        loaded_version(session, *key) for key in (("example_support_plans", 1), ("example_whanau_hui", 1))
    )
    assert release_1 is not None and hui is not None, "the example units are in the package"
    trainee, assessor = users["trainee2"], users["assessor"]
    enrolment = enrol(session, users["admin"], trainee, release_1, [assessor], started, cohort)
    enrol(session, users["admin"], trainee, hui, [assessor], started, cohort)
    judged = [
        ("1.1", Verdict.SATISFIED),
        ("1.3", Verdict.SATISFIED),
        ("2.2", Verdict.NOT_YET),
        ("PE1", Verdict.SATISFIED),
    ]
    data = EvidenceInput(
        Method.DIRECT_OBSERVATION,
        Context.WORKPLACE,
        today - datetime.timedelta(days=10),
        "Observed Tūī support Mr Hēnare at home with his plan's morning routine; she checked his risks first and "
        "asked how he wanted things done.",
        "Client's home",
    )
    mappings = [MappingInput(enrolment.id, target, verdict, "") for target, verdict in judged]
    record_evidence(session, assessor, trainee, data, mappings, today=today)
