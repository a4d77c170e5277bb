"""The forms of signing off and revoking."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from assessor.core.forms import TOO_LONG
from assessor.domain import limits
from assessor.records.operations import Declaration


class SignOffForm(FlaskForm):
    signed_on = DateField("Date of sign-off", validators=[InputRequired()])
    valid = BooleanField("The evidence is valid: it shows the criteria and items it is mapped to")
    sufficient = BooleanField("The evidence is sufficient: it covers every criterion and item, on enough occasions")
    authentic = BooleanField("The evidence is authentic: it is the trainee's own work and performance")
    current = BooleanField("The evidence is current: it shows what the trainee can do now")
    password = PasswordField(
        "Your password, to confirm that you are signing",
        validators=[InputRequired(), Length(max=limits.PASSWORD, message=TOO_LONG)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        "Code from your authenticator app",
        validators=[Optional(), Length(max=64, message=TOO_LONG)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )

    def declaration(self) -> Declaration:
        """The declaration as ticked."""
        return Declaration(self.valid.data, self.sufficient.data, self.authentic.data, self.current.data)


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        "Reason for revoking",
        validators=[
            InputRequired(message="Say why the record is revoked."),
            Length(max=limits.REASON, message=TOO_LONG),
        ],
    )
