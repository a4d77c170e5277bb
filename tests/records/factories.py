"""Factories that build records through the real operations, for tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts.operations import create_user
from assessor.cohorts.operations import create_cohort, enrol
from assessor.domain.standards import Catalogue
from assessor.domain.vocabulary import Context, Method, Role, Verdict
from assessor.evidence.operations import EvidenceInput, MappingInput, record_evidence
from assessor.models import Enrolment, Evidence, UnitVersion, User
from assessor.standards.operations import register_units
from assessor.standards.queries import targets_of

PASSWORD = "correct horse battery"
TODAY = datetime.date(2026, 11, 23)


def make_user(session: so.Session, username: str, role: Role, name: str | None = None) -> User:
    return create_user(session, None, username, name or username.title(), role, PASSWORD)


@dataclass
class World:
    """Accounts, both seed units and an enrolment of one trainee in each."""

    admin: User
    coordinator: User
    assessor: User
    other_assessor: User
    trainee: User
    trainee2: User
    nz: UnitVersion
    csc: UnitVersion
    nz_enrolment: Enrolment
    csc_enrolment: Enrolment


def build_world(session: so.Session, catalogue: Catalogue) -> World:
    register_units(session, catalogue)
    users = {
        name: make_user(session, name, role)
        for name, role in [
            ("admin", Role.ADMIN),
            ("coordinator", Role.COORDINATOR),
            ("assessor", Role.ASSESSOR),
            ("assessor2", Role.ASSESSOR),
            ("trainee", Role.TRAINEE),
            ("trainee2", Role.TRAINEE),
        ]
    }
    versions = {v.unit_id: v for v in session.scalars(sa.select(UnitVersion))}
    coordinator = users["coordinator"]
    cohort = create_cohort(session, coordinator, "Intake A", [coordinator])
    nz = enrol(
        session,
        coordinator,
        users["trainee"],
        versions["us_case_mgmt"],
        [users["assessor"]],
        datetime.date(2026, 8, 1),
        cohort,
    )
    csc = enrol(
        session,
        users["admin"],
        users["trainee"],
        versions["cscofm023"],
        [users["assessor"]],
        datetime.date(2020, 11, 2),
        cohort,
    )
    return World(
        users["admin"],
        coordinator,
        users["assessor"],
        users["assessor2"],
        users["trainee"],
        users["trainee2"],
        versions["us_case_mgmt"],
        versions["cscofm023"],
        nz,
        csc,
    )


def observation(
    narrative: str = "Observed the trainee interview a client.",
    context: Context = Context.WORKPLACE,
    observed_on: datetime.date = datetime.date(2026, 11, 2),
) -> EvidenceInput:
    return EvidenceInput(Method.DIRECT_OBSERVATION, context, observed_on, narrative, "Service centre")


def satisfy_all(
    session: so.Session, world: World, enrolment: Enrolment, context: Context = Context.WORKPLACE
) -> Evidence:
    """One observation judged satisfied against every criterion and item of an enrolment."""
    targets = targets_of(enrolment.unit_version)
    mappings = [MappingInput(enrolment.id, t, Verdict.SATISFIED, "") for t in targets]
    return record_evidence(
        session, world.assessor, enrolment.trainee, observation(context=context), mappings, today=TODAY
    )


def build_cohort(session: so.Session, world: World, size: int, name: str = "Generated cohort") -> list[Enrolment]:
    """`size` more trainees in a new cohort of the world's coordinator, each in the NZQA unit part-way, with
    evidence."""
    cohort = create_cohort(session, world.coordinator, name, [world.coordinator])
    enrolments = []
    for n in range(size):
        trainee = make_user(session, f"gen{name[:3].lower()}{n:04d}", Role.TRAINEE, f"Trainee Ngāti {n:04d}")
        enrolment = enrol(
            session, world.coordinator, trainee, world.nz, [world.assessor], datetime.date(2026, 8, 1), cohort
        )
        targets = ["1.1", "1.2", "1.3", "2.1"][: 1 + n % 4]
        mappings = [
            MappingInput(enrolment.id, t, Verdict.SATISFIED if i % 3 else Verdict.NOT_YET, f"Seen {t}")
            for i, t in enumerate(targets)
        ]
        record_evidence(
            session,
            world.assessor,
            trainee,
            observation(f"Observation {n}", observed_on=datetime.date(2026, 9, 1 + n % 28)),
            mappings,
            today=TODAY,
        )
        enrolments.append(enrolment)
    return enrolments
