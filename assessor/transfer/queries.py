"""Checking an import file against what the database holds, with the same rules the operations apply."""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import replace

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core.access import actor as actor_of
from assessor.core.access import enrollable_trainees, visible_cohorts
from assessor.domain import policy
from assessor.domain.standards import Usage
from assessor.domain.vocabulary import Role
from assessor.models import Cohort, Enrolment, Job, UnitVersion, User
from assessor.standards.queries import usages
from assessor.transfer import imports


def check_file(session: so.Session, actor: User, data: bytes, filename: str) -> imports.Plan:
    """Read a file and check it against what the database holds, as far as the person importing may know it; cohorts
    run by others are problems too."""
    rows = imports.read_table(data, filename)
    plan = imports.check(rows, known_data(session, actor))
    mine = {_folded(name) for name in _usable_cohorts(session, actor)}
    others = {_folded(name) for name in session.scalars(sa.select(Cohort.name))} - mine
    foreign = []
    for row in rows:
        number = int(str(row["_row"]))
        if _folded(str(row.get("cohort") or "")) in others:
            cohort = row.get("cohort")
            foreign.append(imports.Problem(number, "cohort", f"The cohort {cohort!r} is run by another coordinator."))
    if foreign:
        plan = replace(plan, problems=tuple(sorted((*plan.problems, *foreign), key=lambda p: p.row)))
    return plan


def known_data(session: so.Session, actor: User) -> imports.Known:
    """What the database already holds, as the import checks need it."""
    # Only accounts the person importing may know of are described; others are only taken usernames.
    if policy.may_manage_accounts(actor_of(actor)):
        knowable = sa.select(User)
    else:
        knowable = sa.select(User).where(
            sa.or_(User.role == Role.ASSESSOR, User.id.in_(enrollable_trainees(actor).with_only_columns(User.id)))
        )
    users = {u.username: (u.role.value, u.display_name, u.email, u.active) for u in session.scalars(knowable)}
    hidden = frozenset(session.scalars(sa.select(User.username))) - set(users)
    units: dict[str, list[UnitVersion]] = {}
    for version in session.scalars(sa.select(UnitVersion).order_by(UnitVersion.version)):
        units.setdefault(version.unit_id, []).append(version)
    carry_over = policy.may_enrol_in_retired_unit(actor_of(actor))
    status = usages(session, (v for versions in units.values() for v in versions))
    known_units = []
    for unit_id, versions in units.items():
        by_number = {v.version: status[v.id] for v in versions}

        def accepts(version: int, start: datetime.date, by_number: dict[int, Usage] = by_number) -> bool:
            usage = by_number[version]
            return usage.accepts_enrolment_starting(start) and (usage.is_current or carry_over)

        known_units.append(imports.KnownUnit(unit_id, versions[-1].code, tuple(by_number), accepts))
    enrolments = frozenset(
        (row.username, row.unit_id, row.version)
        for row in session.execute(
            sa.select(User.username, UnitVersion.unit_id, UnitVersion.version)
            .join(Enrolment, Enrolment.trainee_id == User.id)
            .join(UnitVersion, UnitVersion.id == Enrolment.unit_version_id)
        )
    )
    return imports.Known(users, known_units, frozenset(_usable_cohorts(session, actor)), enrolments, hidden)


def _folded(name: str) -> str:
    """A cohort name as the import compares it: case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _usable_cohorts(session: so.Session, user: User) -> list[str]:
    return list(session.scalars(visible_cohorts(user).with_only_columns(Cohort.name)))


def recent_exports(session: so.Session, user: User, count: int = 10) -> list[Job]:
    """The user's latest exports, newest first."""
    query = sa.select(Job).where(Job.owner_id == user.id, Job.kind == "export").order_by(Job.id.desc()).limit(count)
    return list(session.scalars(query))
