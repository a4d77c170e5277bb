"""The forms of quality assurance: a plan, an enrolment added to a sample, a decision, an action answered or
confirmed, a countersignature declined, the units that need countersigning, and a report's filter."""

from __future__ import annotations

import datetime

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from assessor.core.forms import TOO_LONG
from assessor.core.urls import record_id
from assessor.domain import limits, sampling
from assessor.domain.vocabulary import Outcome, PlanBasis, Stage
from assessor.quality.operations import DecisionInput, PlanInput

BASES = [
    SelectChoice(PlanBasis.ASSESSOR_RATE.value, "Internal quality assurance: a share of each assessor's learners"),
    SelectChoice(PlanBasis.VALIDATION.value, "Validation (ASQA): a sample sized by confidence level and error margin"),
    SelectChoice(PlanBasis.MODERATION.value, "Moderation (NZQA): a number of samples of each standard"),
]
STAGES = [
    SelectChoice(Stage.INTERIM.value, "Interim: judgements made in the period"),
    SelectChoice(Stage.SUMMATIVE.value, "Summative: units signed off in the period"),
]
OUTCOMES = [
    SelectChoice(Outcome.AGREE.value, "Agree with the judgement"),
    SelectChoice(Outcome.ACT.value, "Assessor to act"),
    SelectChoice(Outcome.DISAGREE.value, "Disagree with the judgement"),
]
WHOLE = "Give a whole number."
EVIDENCE = "evidence:"  # a decision about a piece of evidence: "evidence:<id>"; otherwise about a criterion or item


class PlanForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=limits.NAME, message=TOO_LONG)])
    basis = SelectField("Basis", choices=BASES)
    stage = SelectField("Stage", choices=STAGES)
    period_from = DateField("Period from", validators=[InputRequired()])
    period_to = DateField("Period to", validators=[InputRequired()])
    assessor_percent = IntegerField(
        "Share of each assessor's learners (%)",
        default=10,
        validators=[InputRequired(WHOLE), NumberRange(1, 100)],
        description="Assessors whose first judgement falls in the period are new: all their learners are sampled.",
    )
    unit_percent = IntegerField(
        "Share of the units assessed (%)", default=100, validators=[InputRequired(WHOLE), NumberRange(1, 100)]
    )
    confidence = SelectField(
        "Confidence level",
        coerce=int,
        default=95,
        choices=[SelectChoice(c, f"{c} %") for c in sampling.CONFIDENCE_LEVELS],
    )
    margin = IntegerField(
        "Error margin (percentage points)",
        default=15,
        validators=[InputRequired(WHOLE), NumberRange(1, 50)],
        description="ASQA's calculator suggests 15 where most outcomes are the same.",
    )
    per_standard = IntegerField(
        "Samples of each standard",
        default=sampling.MODERATION_SAMPLES,
        validators=[InputRequired(WHOLE), NumberRange(1, 50)],
        description="As the moderation plan asks (NZQA: eight; six, or four for achieved-only standards, in schools).",
    )
    seed = IntegerField(
        "Seed",
        validators=[Optional(), NumberRange(0, 2**31 - 1)],
        description="The same seed proposes the same sample. Leave empty for a random one (it is kept).",
    )

    def data_in(self) -> PlanInput:
        return PlanInput(
            self.name.data or "",
            PlanBasis(self.basis.data),
            Stage(self.stage.data),
            self.period_from.data or datetime.date.min,
            self.period_to.data or datetime.date.min,
            self.assessor_percent.data or 0,
            self.unit_percent.data or 0,
            self.confidence.data or 0,
            self.margin.data or 0,
            self.per_standard.data or 0,
            self.seed.data,
        )


class DecisionForm(FlaskForm):
    # Checked by the operation against the unit and the evidence mapped to the enrolment.
    about = SelectField(
        "About", description="A criterion or evidence item, or a piece of evidence.", validate_choice=False
    )
    outcome = SelectField("Decision", choices=OUTCOMES)
    reason = TextAreaField(
        "Reason", validators=[Length(max=limits.REASON, message=TOO_LONG)], description="Needed unless you agree."
    )
    due_on = DateField("Due by", validators=[Optional()], description="When the assessor is to act.")

    def data_in(self) -> DecisionInput:
        about = self.about.data or ""
        if not about.startswith(EVIDENCE):
            target, evidence_id = about, None
        else:
            target, evidence_id = "", _record_id_or_none(about.removeprefix(EVIDENCE))
        return DecisionInput(
            Outcome(self.outcome.data),
            target=target,
            evidence_id=evidence_id,
            reason=self.reason.data or "",
            due_on=self.due_on.data,
        )


def _record_id_or_none(value: str) -> int | None:
    try:
        return record_id(value)
    except ValueError:
        return None


class AnswerForm(FlaskForm):
    note = TextAreaField("What you did", validators=[InputRequired(), Length(max=limits.REASON, message=TOO_LONG)])


class ConfirmActionForm(FlaskForm):
    verdict = SelectField(
        "Action", choices=[SelectChoice("confirm", "Confirm it is done"), SelectChoice("back", "Send it back")]
    )
    reason = TextAreaField("What is still to be done", validators=[Length(max=limits.REASON, message=TOO_LONG)])


class CountersignForm(FlaskForm):
    password = PasswordField("Your password", validators=[InputRequired(), Length(max=limits.PASSWORD)])
    code = StringField("Code from your authenticator app", validators=[Optional(), Length(max=64)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Why you decline, for the assessor",
        validators=[InputRequired(), Length(max=limits.REASON, message=TOO_LONG)],
    )


class CountersigningForm(FlaskForm):
    every_unit = SelectField(
        "Countersigning",
        choices=[SelectChoice("some", "Only the units ticked below"), SelectChoice("all", "Every unit")],
        default="some",
    )
    units = SelectMultipleField(
        "Units", choices=[], widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput()
    )


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: it changes nothing

    period_from = DateField("From", validators=[InputRequired()])
    period_to = DateField("To", validators=[InputRequired()])
    unit = SelectField("Unit", choices=[], validate_choice=False)
    assessor = SelectField("Assessor", choices=[], validate_choice=False)
