"""The confirmation of a move previewed: which versions, and the fingerprint of what the preview showed."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired, Length


class MoveForm(FlaskForm):
    earlier = IntegerField(widget=HiddenField.widget)  # the cohort's move only
    to = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    fingerprint = HiddenField(validators=[InputRequired(), Length(max=64)])
