"""The form an administrator changes a unit version's status with."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from assessor.core.forms import TOO_LONG
from assessor.domain import limits
from assessor.domain.standards import Usage

STATUSES = [
    SelectChoice("current", "Current"),
    SelectChoice("superseded", "Superseded"),
    SelectChoice("deleted", "Deleted (no replacement)"),
]


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUSES)
    since = DateField("Since", validators=[Optional()])
    replaced_by = StringField("Replaced by", validators=[Length(max=limits.NAME, message=TOO_LONG)])

    def usage(self) -> Usage:
        return Usage(self.status.data or "", self.since.data, (self.replaced_by.data or "").strip() or None)
