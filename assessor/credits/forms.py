"""Recording a credit for a prerequisite the trainee achieved elsewhere, and withdrawing one."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from assessor.core.forms import TOO_LONG
from assessor.domain import limits


class CreditForm(FlaskForm):
    unit = SelectField("Prerequisite", validators=[InputRequired(message="Choose the prerequisite.")])
    awarded_on = DateField("Awarded on", validators=[InputRequired(message="Enter the date it was awarded.")])
    source = TextAreaField(
        "Where it was achieved, and what you saw of it",
        validators=[
            InputRequired(message="Say where it was achieved and what you saw of it."),
            Length(max=limits.REASON, message=TOO_LONG),
        ],
    )


class WithdrawCreditForm(FlaskForm):
    credit = IntegerField(validators=[InputRequired()])
    reason = TextAreaField(
        "Why it is withdrawn",
        validators=[
            InputRequired(message="Say why the credit is withdrawn."),
            Length(max=limits.REASON, message=TOO_LONG),
        ],
    )
