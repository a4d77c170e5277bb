"""Reads behind group observations: which groups an assessor can observe, and the group's matrix of trainees ×
criteria with where each stands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.domain.progress import Tally
from assessor.domain.standards import Unit
from assessor.domain.vocabulary import OPEN, Status
from assessor.models import Cohort, Enrolment, EnrolmentProgress, UnitVersion, User, enrolment_assessor
from assessor.standards.queries import targets_of, unit_of


@dataclass(frozen=True)
class GroupChoice:
    """Trainees an assessor can observe together: their open enrolments in one unit version, within one cohort (or
    none)."""

    unit_version: UnitVersion
    cohort: Cohort | None
    trainees: int


@dataclass(frozen=True)
class Row:
    """One trainee of the group, with where each of their targets stands."""

    enrolment: Enrolment
    statuses: dict[str, Status]


@dataclass(frozen=True)
class Roster:
    """The group's matrix: trainees × the unit's criteria and items."""

    unit: Unit
    targets: list[tuple[str, str]]  # (number or id, text), in unit order
    rows: list[Row]


def _assessed_open(assessor: User) -> sa.Select[Enrolment]:
    assessed = sa.select(enrolment_assessor.c.enrolment_id).where(enrolment_assessor.c.user_id == assessor.id)
    return sa.select(Enrolment).where(Enrolment.id.in_(assessed), Enrolment.status.in_(OPEN))


def group_choices(session: so.Session, assessor: User) -> list[GroupChoice]:
    """Each unit version and cohort in which the assessor has open enrolments to observe, by unit title and cohort."""
    counted = (
        _assessed_open(assessor)
        .with_only_columns(Enrolment.unit_version_id, Enrolment.cohort_id, sa.func.count())
        .group_by(Enrolment.unit_version_id, Enrolment.cohort_id)
    )
    rows = session.execute(counted).all()
    versions = session.scalars(sa.select(UnitVersion).where(UnitVersion.id.in_({r[0] for r in rows})))
    cohorts = session.scalars(sa.select(Cohort).where(Cohort.id.in_({r[1] for r in rows})))
    by_id, cohort_by_id = {v.id: v for v in versions}, {c.id: c for c in cohorts}
    choices = [GroupChoice(by_id[v], cohort_by_id.get(c) if c else None, n) for v, c, n in rows]
    return sorted(choices, key=_choice_order)


def _choice_order(choice: GroupChoice) -> tuple[str, int, str]:
    return choice.unit_version.title, choice.unit_version.version, choice.cohort.name if choice.cohort else ""


def roster(session: so.Session, assessor: User, unit_version: UnitVersion, cohort: Cohort | None) -> Roster:
    """The assessor's trainees with open enrolments in the unit version (in the cohort, where one is given), by name,
    each target's status read from their tally."""
    query = (
        _assessed_open(assessor)
        .where(Enrolment.unit_version_id == unit_version.id)
        .join(User, User.id == Enrolment.trainee_id)
        .order_by(User.display_name, Enrolment.id)
        .options(so.joinedload(Enrolment.trainee))
    )
    query = query.where(Enrolment.cohort_id == cohort.id if cohort else Enrolment.cohort_id.is_(None))
    enrolments = list(session.scalars(query))
    tallies: dict[int, dict[str, Any]] = dict(
        session.execute(
            sa.select(EnrolmentProgress.enrolment_id, EnrolmentProgress.tally).where(
                EnrolmentProgress.enrolment_id.in_([e.id for e in enrolments])
            )
        ).all()
    )
    unit = unit_of(unit_version)
    keys = list(targets_of(unit_version))
    rows = []
    for enrolment in enrolments:
        tally = tallies.get(enrolment.id)
        statuses = Tally.from_json(tally).statuses() if tally else [Status.NOT_STARTED] * len(keys)
        rows.append(Row(enrolment, dict(zip(keys, statuses, strict=True))))
    texts = {c.number: c.text for c in unit.criteria()} | {i.id: i.text for i in unit.assessable_items()}
    return Roster(unit, [(key, texts[key]) for key in keys], rows)
