"""The group observation form: the activity and its shared account, and the matrix of trainees × criteria in which
the assessor judges each trainee, cell by cell or all the ticked ones at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from assessor.core.forms import TOO_LONG
from assessor.domain import limits
from assessor.domain.vocabulary import Verdict
from assessor.evidence.forms import EvidenceForm
from assessor.observations.operations import Part
from assessor.observations.queries import Roster

VERDICTS = {Verdict.SATISFIED.value: "Satisfied", Verdict.NOT_YET.value: "Not yet"}


class GroupForm(EvidenceForm):
    activity = StringField(
        "Activity",
        validators=[
            InputRequired(message="Name the activity, for example: case conference role play."),
            Length(max=limits.NAME, message=TOO_LONG),
        ],
    )
    rate_as = RadioField(
        "Judge every ticked trainee on every ticked criterion or item as",
        choices=[SelectChoice(value, name) for value, name in VERDICTS.items()],
        default=Verdict.SATISFIED.value,
    )
    submission = HiddenField()  # a random token: the same form sent twice records one observation


@dataclass
class Matrix:
    """What the matrix says: the ticked trainees (by enrolment) and targets, each cell's own choice, and the comment
    to each trainee; kept as it was sent when the form is refused."""

    trainees: set[int] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    cells: dict[tuple[int, str], str] = field(default_factory=dict)
    comments: dict[int, str] = field(default_factory=dict)

    @classmethod
    def read(cls, roster: Roster, data: MultiDict[str, str]) -> Matrix:
        """From the submitted form (or the address, to start with some trainees and targets ticked): only what the
        roster offers is taken."""
        enrolments = {row.enrolment.id for row in roster.rows}
        keys = [key for key, _ in roster.targets]
        matrix = cls(
            {e for e in enrolments if str(e) in data.getlist("trainee")},
            {k for k in keys if k in data.getlist("target")},
        )
        for e in enrolments:
            matrix.comments[e] = data.get(f"c-{e}", "").strip()
            for k in keys:
                if (choice := data.get(f"v-{e}-{k}", "")) in VERDICTS:
                    matrix.cells[e, k] = choice
        return matrix

    def parts(self, roster: Roster, rate_as: str) -> list[Part]:
        """Each trainee's part: a cell's own choice, else the judgement for the ticked where both its trainee and its
        target are ticked."""
        parts = []
        for row in roster.rows:
            e = row.enrolment.id
            judgements = {}
            for key, _ in roster.targets:
                choice = self.cells.get((e, key)) or (rate_as if e in self.trainees and key in self.targets else "")
                if choice in VERDICTS:
                    judgements[key] = Verdict(choice)
            parts.append(Part(row.enrolment, judgements, self.comments.get(e, "")))
        return parts
