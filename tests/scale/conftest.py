"""Fixtures for tests against a real server: a database migrated by `assessor init` and seeded, on SQLite or
PostgreSQL."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import pytest

from assessor.domain.vocabulary import Verdict
from assessor.evidence.operations import MappingInput, record_evidence
from tests.conftest import POSTGRES_URL
from tests.records.factories import build_world, observation
from tests.server import app_on

POOL_SIZE = 4  # few enough that concurrent edits of the same evidence collide


@dataclass(frozen=True)
class Seeded:
    """A seeded database and what writers need to know about it."""

    url: str
    instance: Path
    trainee_id: int
    mappings: dict[str, str]  # record-evidence form fields mapping new evidence into both of the trainee's enrolments
    pool: tuple[int, ...]  # evidence that every writer edits

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, on SQLite."""
        return Path(self.url.removeprefix("sqlite:///")) if self.url.startswith("sqlite:///") else None


@pytest.fixture
def seeded(request, tmp_path) -> Seeded:
    """A database made with `assessor init` (a SQLite file, or the run's PostgreSQL), holding the factories' world and a
    pool of open evidence."""
    url = request.getfixturevalue("database_url") if POSTGRES_URL else f"sqlite:///{tmp_path / 'assessor.sqlite'}"
    instance = tmp_path / "instance"
    app = app_on(url, instance)
    try:
        result = app.test_cli_runner().invoke(args=["init"])
        assert result.exit_code == 0, result.output
        with app.extensions["database"].sessions.begin() as session:
            w = build_world(session, app.extensions["catalogue"])
            pool = [
                record_evidence(
                    session,
                    w.assessor,
                    w.trainee,
                    observation(f"Seeded observation {n}.", observed_on=datetime.date.today()),
                    [MappingInput(w.csc_enrolment.id, "1.1", Verdict.SATISFIED)],
                ).id
                for n in range(POOL_SIZE)
            ]
            # Two criteria of many in each unit: the enrolments stay active, so recording never changes them.
            mappings = {
                f"v-{w.csc_enrolment.id}-1.1": "satisfied",
                f"v-{w.nz_enrolment.id}-1.1": "not_yet",
                f"c-{w.nz_enrolment.id}-1.1": "Try again.",
            }
            trainee_id = w.trainee.id
    finally:
        app.extensions["database"].dispose()
    return Seeded(url, instance, trainee_id, mappings, tuple(pool))
