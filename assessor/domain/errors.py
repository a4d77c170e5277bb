"""Why an operation was refused: the errors operations raise and one handler turns into pages and API answers."""

from __future__ import annotations

from collections.abc import Sequence

from assessor.domain.completion import Obstacle


class OperationError(Exception):
    """An operation was refused; nothing was changed."""


class NotAllowed(OperationError):
    """The actor may not do this to this record."""


class NotFound(OperationError):
    """The record does not exist, or the actor may not know that it does."""


class InvalidInput(OperationError):
    """The input breaks a rule; `problems` maps field names to what is wrong."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__(" ".join(problems.values()))


class ChangedMeanwhile(OperationError):
    """The record was changed by someone else since it was read; `targets` names the judgements, (enrolment id,
    criterion or item), that were."""

    def __init__(self, what: str, targets: tuple[tuple[int, str], ...] = ()):
        self.what = what
        self.targets = targets
        super().__init__(f"This {what} was changed by someone else meanwhile. Reload it and make your change again.")


class Locked(OperationError):
    """The enrolment is signed off or withdrawn: nothing changes except by revocation."""


class Erased(OperationError):
    """The content asked for was erased under retention: what it was, and why it went, stay on record."""


class NotReady(OperationError):
    """Sign-off refused: `obstacles` says every reason."""

    def __init__(self, found: Sequence[Obstacle]):
        self.obstacles = tuple(found)
        super().__init__(f"not ready for sign-off: {len(found)} reasons")


class StandardChanged(OperationError):
    """A unit file's text changed under a version that is already loaded."""
