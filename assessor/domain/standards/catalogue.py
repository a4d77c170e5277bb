"""The set of unit standard versions loaded from a folder of YAML files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assessor.domain.standards.units import Problem, StandardsError, Unit, load_unit


@dataclass(frozen=True)
class Catalogue:
    """Every loaded unit version, looked up by catalogue id or publisher's code."""

    units: tuple[Unit, ...] = ()

    def find(self, id_or_code: str, version: int | None = None) -> Unit | None:
        """The named version of a unit, or its latest version when none is named."""
        wanted = id_or_code.casefold()
        matches = [u for u in self.units if wanted in {u.id.casefold(), (u.code or "").casefold()}]
        if version is not None:
            matches = [u for u in matches if u.version == version]
        return max(matches, key=lambda u: u.version, default=None)

    def versions(self, unit_id: str) -> tuple[Unit, ...]:
        """Every version of one unit, oldest first."""
        return tuple(sorted((u for u in self.units if u.id == unit_id), key=lambda u: u.version))

    def latest(self) -> tuple[Unit, ...]:
        """The latest version of each unit, by title."""
        ids = {u.id for u in self.units}
        return tuple(sorted((self.versions(i)[-1] for i in ids), key=lambda u: u.title.casefold()))


def load_catalogue(folder: str | Path) -> Catalogue:
    """Load every *.yaml file in a folder, reporting the problems of all files together."""
    folder = Path(folder)
    problems: list[Problem] = []
    units: list[Unit] = []
    where: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            unit = load_unit(path)
        except StandardsError as exc:
            problems.extend(exc.problems)
            continue
        if unit.key in where:
            problems.append(Problem(str(path), 1, "version", f"{unit.key} is also defined in {where[unit.key]}"))
            continue
        where[unit.key] = str(path)
        units.append(unit)
    if problems:
        raise StandardsError(problems)
    return Catalogue(tuple(units))
