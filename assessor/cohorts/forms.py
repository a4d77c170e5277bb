"""The forms of running cohorts: a cohort, a person, an enrolment, assessor assignment and withdrawal."""

from __future__ import annotations

import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import InputRequired, Length, Optional

from assessor.core import database as db
from assessor.core.access import actor, enrollable_trainees, me
from assessor.core.forms import TOO_LONG
from assessor.core.labels import choices
from assessor.domain import limits, policy
from assessor.domain.vocabulary import Role
from assessor.models import Cohort, Enrolment, UnitVersion, User


class CohortForm(FlaskForm):
    name = StringField("Cohort name", validators=[InputRequired(), Length(max=limits.NAME, message=TOO_LONG)])


class PersonForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=limits.USERNAME, message=TOO_LONG)])
    display_name = StringField("Full name", validators=[InputRequired(), Length(max=limits.NAME, message=TOO_LONG)])
    email = EmailField(
        "E-mail",
        validators=[Optional(), Length(max=limits.EMAIL, message=TOO_LONG)],
        description="The invitation to set a password goes here. Without one, you print a code to hand over.",
    )
    role = SelectField("Role")

    def with_choices(self) -> PersonForm:
        """Offer the roles the user may create."""
        self.role.choices = choices(r for r in Role if policy.may_create_account(actor(me()), r))
        return self


def _ticks(label: str) -> SelectMultipleField:
    """A choice of several, shown as checkboxes (no Ctrl-click)."""
    return SelectMultipleField(
        label, coerce=int, widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput()
    )


class EnrolForm(FlaskForm):
    trainee = SelectField("Trainee", coerce=int)
    unit_version = SelectField("Unit", coerce=int)
    assessors = _ticks("Assessors")
    start_date = DateField("Start date", validators=[InputRequired()])

    def with_choices(self, cohort: Cohort) -> EnrolForm:
        """Offer the trainees the user may enrol (the cohort's own first), every unit version and every active
        assessor."""
        session = db.session()
        trainees = session.scalars(enrollable_trainees(me()).order_by(User.display_name)).all()
        members = set(session.scalars(sa.select(Enrolment.trainee_id).where(Enrolment.cohort_id == cohort.id)))
        groups = {
            f"In {cohort.name}": [t for t in trainees if t.id in members],
            "Other trainees": [t for t in trainees if t.id not in members],
        }
        self.trainee.choices = {
            group: [SelectChoice(t.id, f"{t.display_name} ({t.username})") for t in people]
            for group, people in groups.items()
            if people
        }
        versions = session.scalars(sa.select(UnitVersion).order_by(UnitVersion.title, UnitVersion.version))
        self.unit_version.choices = [
            SelectChoice(v.id, f"{v.code + ' ' if v.code else ''}{v.title} (version {v.version})") for v in versions
        ]
        self.assessors.choices = assessor_choices()
        return self


class AssignForm(FlaskForm):
    assessors = _ticks("Assessors")


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Reason for withdrawing",
        validators=[
            InputRequired(message="Say why the trainee is withdrawn."),
            Length(max=limits.REASON, message=TOO_LONG),
        ],
    )


def enrolment_forms(enrolment: Enrolment) -> dict[str, FlaskForm]:
    """The assign and withdraw forms shown on an enrolment page to those who manage it."""
    assign = AssignForm(assessors=[a.id for a in enrolment.assessors])
    assign.assessors.choices = assessor_choices()
    return {"assign": assign, "withdraw": WithdrawForm()}


def assessor_choices() -> list[SelectChoice]:
    """Every active assessor, by name."""
    assessors = db.session().scalars(
        sa.select(User).where(User.role == Role.ASSESSOR, User.active.is_(True)).order_by(User.display_name)
    )
    return [SelectChoice(a.id, f"{a.display_name} ({a.username})") for a in assessors]
