"""The evidence form: details, attachments, and a checklist of every open criterion and item to map and judge."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from flask import request
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from assessor.core.forms import TOO_LONG
from assessor.core.labels import choices, label
from assessor.domain import limits
from assessor.domain.standards import EvidenceItem, Unit
from assessor.domain.vocabulary import TRAINEE_METHODS, Context, Method, Status, Verdict
from assessor.evidence.attachments import ALLOWED_TYPES
from assessor.evidence.operations import EvidenceInput, MappingInput
from assessor.models import Enrolment, Evidence
from assessor.standards.queries import unit_of

Headings = tuple[str, ...]  # the texts of the headings an evidence item sits under, outermost first
MAPPED = "mapped"  # mapped without a judgement
CHOICES = {
    "": "Not mapped",
    Verdict.SATISFIED.value: "Satisfied",
    Verdict.NOT_YET.value: "Not yet",
    MAPPED: "Mapped, awaiting judgement",
}
TRAINEE_CHOICES = {"": "Not related", MAPPED: "Shows this"}


class EvidenceForm(FlaskForm):
    observed_on = DateField("Date observed", validators=[InputRequired(message="Enter the date it was observed.")])
    method = SelectField("Method", choices=choices(Method))
    context = SelectField("Context", choices=choices(Context))
    location = StringField("Location", validators=[Length(max=limits.NAME, message=TOO_LONG)])
    narrative = TextAreaField(
        "What was observed",
        validators=[
            InputRequired(message="Describe what was observed or provided."),
            Length(max=limits.NARRATIVE, message=TOO_LONG),
        ],
    )
    attachments = MultipleFileField("Attachments", render_kw={"accept": ALLOWED_TYPES})
    version = HiddenField()
    submission = HiddenField()  # a random token: the same form sent twice records the evidence once
    # What the occasion was with, read from the dimension fields the page shows (see `dimension_fields`).
    values: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType({})

    def fresh(self) -> EvidenceForm:
        """A new submission token, so this form records its evidence once however often it is sent."""
        self.submission.data = secrets.token_hex(16)
        return self

    def for_trainee(self) -> EvidenceForm:
        """A trainee submits work products, reports and prior learning; observations are the assessor's."""
        self.method.choices = choices(TRAINEE_METHODS)
        return self

    def evidence_input(self) -> EvidenceInput:
        """What the form says about the evidence itself."""
        return EvidenceInput(
            Method(self.method.data),
            Context(self.context.data),
            self.observed_on.data,
            self.narrative.data,
            self.location.data or "",
            dict(self.values),
        )


@dataclass
class ChecklistTarget:
    """One criterion or evidence item in the record-evidence checklist."""

    key: str
    text: str
    heading: str | None = None
    choice: str = ""
    comment: str = ""
    error: str = ""
    seen: int = 0  # the version of its mapping when the form was read, 0 for none
    meanwhile: str = ""  # what someone else saved for it since, when that stopped the save
    status: Status = Status.NOT_STARTED  # where it stands in the enrolment before this evidence

    @property
    def met(self) -> bool:
        """Satisfied already and not part of this evidence: the form may leave it out of sight."""
        return self.status == Status.SATISFIED and not self.choice and not self.error


@dataclass
class ChecklistSection:
    """The criteria and items of one enrolment, grouped as the unit groups them."""

    enrolment: Enrolment
    unit: Unit
    groups: list[tuple[str, list[ChecklistTarget]]] = field(default_factory=list)


def checklist(
    enrolments: list[Enrolment],
    evidence: Evidence | None,
    preselect: tuple[int | None, str] | None,
    statuses: dict[tuple[int, str], Status] | None = None,
) -> list[ChecklistSection]:
    """The checklist of the given enrolments, with each target's status, the evidence's current choices (or one
    target preselected)."""
    current = {(m.enrolment_id, m.target): m for m in (evidence.mappings if evidence else [])}
    sections = []
    for enrolment in enrolments:
        unit = unit_of(enrolment.unit_version)
        section = ChecklistSection(enrolment, unit)

        def target(
            key: str, text: str, heading: str | None = None, enrolment_id: int = enrolment.id
        ) -> ChecklistTarget:
            mapping = current.get((enrolment_id, key))
            choice = "" if mapping is None else (mapping.verdict.value if mapping.verdict else MAPPED)
            if preselect == (enrolment_id, key):
                choice = Verdict.SATISFIED.value
            return ChecklistTarget(
                key,
                text,
                heading,
                choice,
                mapping.comment if mapping else "",
                seen=mapping.version if mapping else 0,
                status=(statuses or {}).get((enrolment_id, key), Status.NOT_STARTED),
            )

        for component in unit.components:
            title = f"{unit.component_label} {component.number}: {component.title}"
            section.groups.append((title, [target(c.number, c.text) for c in component.criteria]))
        for group in unit.evidence_requirements:
            leaves = [target(item.id, item.text, " › ".join(path) or None) for item, path in _leaves(group.items)]
            section.groups.append((group.title, leaves))
        sections.append(section)
    return sections


def _leaves(items: Iterable[EvidenceItem], path: tuple[str, ...] = ()) -> Iterator[tuple[EvidenceItem, Headings]]:
    """Each item evidence is mapped to, at any depth, with the texts of the headings it sits under."""
    for item in items:
        if item.items:
            yield from _leaves(item.items, (*path, item.text))
        else:
            yield item, path


@dataclass
class DimensionField:
    """What the occasion was with, asked once for every unit of the checklist whose criteria count occasions that
    differ in it (the person supported, the workplace)."""

    id: str
    label: str
    kinds: tuple[str, ...] = ()
    counts_for: list[str] = field(default_factory=list)  # "1.1 of EXSUP010": where a value is required
    value: str = ""
    chosen: tuple[str, ...] = ()


def dimension_fields(sections: list[ChecklistSection], evidence: Evidence | None) -> list[DimensionField]:
    """One field for each dimension of the checklist's units, with what the evidence says of it already."""
    found: dict[str, DimensionField] = {}
    for section in sections:
        for d in section.unit.dimensions:
            f = found.setdefault(d.id, DimensionField(d.id, d.label))
            f.kinds = tuple(dict.fromkeys((*f.kinds, *d.kinds)))
        for key, requirement in section.unit.targets().items():
            if requirement.distinct:
                found[requirement.distinct].counts_for.append(f"{key} of {section.unit.display_code}")
    stored = (evidence.dimensions if evidence else None) or {}
    for f in found.values():
        if f.id in stored:
            f.value, f.chosen = stored[f.id]["value"], tuple(stored[f.id].get("kinds") or ())
    return list(found.values())


def read_dimensions(fields: list[DimensionField]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Take the submitted values into the fields, so a refused form keeps them; return them as the operation takes
    them."""
    for f in fields:
        f.value = request.form.get(f"value-{f.id}", "").strip()[: limits.NAME * 2]
        f.chosen = tuple(k for k in request.form.getlist(f"kinds-{f.id}") if k in f.kinds)
    return {f.id: (f.value, f.chosen) for f in fields if f.value}


def read_checklist(sections: list[ChecklistSection], allowed: dict[str, str]) -> None:
    """Take the submitted choices and comments into the checklist, so a refused form keeps them."""
    for section in sections:
        for _, targets in section.groups:
            for t in targets:
                name = f"{section.enrolment.id}-{t.key}"
                choice = request.form.get(f"v-{name}", "")
                t.choice = choice if choice in allowed else ""
                t.comment = request.form.get(f"c-{name}", "").strip()
                seen = request.form.get(f"s-{name}", "")
                t.seen = int(seen) if seen.isdigit() and len(seen) < 10 else 0


def show_target_problems(sections: list[ChecklistSection], problems: dict[str, str]) -> dict[str, str]:
    """Put each problem about one criterion or item ("enrolment:target") next to it; return the others."""
    targets = {f"{s.enrolment.id}:{t.key}": t for s in sections for _, group in s.groups for t in group}
    for key, message in problems.items():
        if key in targets:
            targets[key].error = message
    return {key: message for key, message in problems.items() if key not in targets}


def seen_versions(sections: list[ChecklistSection]) -> dict[tuple[int, str], int]:
    """The version of each mapping as the form was read."""
    return {(s.enrolment.id, t.key): t.seen for s in sections for _, group in s.groups for t in group}


def show_meanwhile(sections: list[ChecklistSection], evidence: Evidence, changed: tuple[tuple[int, str], ...]) -> None:
    """Beside each judgement someone else saved since the form was read, what they saved; and take their versions as
    seen, so that saving again keeps what this form says, knowingly."""
    stored = {(m.enrolment_id, m.target): m for m in evidence.mappings}
    for section in sections:
        for _, group in section.groups:
            for t in group:
                mapping = stored.get((section.enrolment.id, t.key))
                t.seen = mapping.version if mapping else 0
                if (section.enrolment.id, t.key) not in changed:
                    continue
                if mapping is None:
                    t.meanwhile = "Meanwhile someone else removed this mapping."
                    continue
                by = f" by {mapping.judged_by.display_name}" if mapping.judged_by else ""
                comment = f": “{mapping.comment}”" if mapping.comment else ""
                t.meanwhile = f"Meanwhile saved{by}: {label(mapping.verdict)}{comment}"


def mapping_inputs(sections: list[ChecklistSection]) -> list[MappingInput]:
    """The mappings and judgements the checklist asks for."""
    mappings = []
    for section in sections:
        for _, targets in section.groups:
            for t in targets:
                if t.choice:
                    verdict = Verdict(t.choice) if t.choice in (Verdict.SATISFIED, Verdict.NOT_YET) else None
                    mappings.append(MappingInput(section.enrolment.id, t.key, verdict, t.comment))
    return mappings
