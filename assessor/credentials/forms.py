"""The forms of taking a credential and of presenting one to be checked."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField


class TakeCredentialForm(FlaskForm):
    """Nothing but the CSRF token: the button that issues (the first time) and downloads the credential."""


class PresentCredentialForm(FlaskForm):
    credential = TextAreaField("Paste the credential (its JSON, whole)", render_kw={"spellcheck": "false", "rows": 8})
    file = FileField("Or choose its file", render_kw={"accept": ".json,application/json,application/ld+json"})
