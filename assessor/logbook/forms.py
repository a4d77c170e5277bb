"""Logging a day's work, and verifying it."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from assessor.core.forms import TOO_LONG
from assessor.domain import limits


class LogForm(FlaskForm):
    worked_on = DateField("Day worked", validators=[InputRequired(message="Enter the day worked.")])
    hours = DecimalField(
        "Hours",
        places=2,
        validators=[
            InputRequired(message="Enter the hours worked, for example 7.5."),
            NumberRange(min=0.01, max=24, message="Log between a minute and 24 hours for one day."),
        ],
    )
    description = StringField(
        "What the work was",
        validators=[InputRequired(message="Say what the work was."), Length(max=limits.COMMENT, message=TOO_LONG)],
    )
    submission = HiddenField(validators=[InputRequired(), Length(min=32, max=32)])

    def fresh(self) -> LogForm:
        """A new submission token, so this form logs its hours once however often it is sent."""
        self.submission.data = secrets.token_hex(16)
        return self


class VerifyForm(FlaskForm):
    entry = IntegerField(validators=[InputRequired()])
