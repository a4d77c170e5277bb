"""The form that makes a personal access token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from assessor.core.forms import TOO_LONG
from assessor.core.labels import choices
from assessor.domain import limits
from assessor.domain.vocabulary import TokenScope


class TokenForm(FlaskForm):
    name = StringField(
        "Name",
        description="The system that will use it, so that you know it again: “Student management system”.",
        validators=[InputRequired(message="Name the token."), Length(max=limits.NAME, message=TOO_LONG)],
    )
    scope = SelectField("What it may do", choices=choices(TokenScope), default=TokenScope.READ.value)
    days = IntegerField(
        "Days until it expires",
        default=90,
        description=f"From 1 to {limits.TOKEN_DAYS}.",
        validators=[
            InputRequired(message="Say how many days it lives."),
            NumberRange(min=1, max=limits.TOKEN_DAYS, message="From %(min)s to %(max)s days."),
        ],
    )
