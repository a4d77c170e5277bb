"""What forms share: an operation's problems shown beside the fields they are about."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm

# WTForms' Length message, in the same words as the operations' (domain.limits.too_long).
TOO_LONG = "Use at most %(max)d characters."


def show_problems(form: FlaskForm, problems: Mapping[str, str], renames: Mapping[str, str] | None = None) -> None:
    """Put each problem an operation found next to its field (operation keys renamed where the form names the field
    otherwise); problems about no field of the form, or about a hidden one, go above it."""
    renames = renames or {}
    for name, message in problems.items():
        field = getattr(form, renames.get(name, name), None)
        if field is not None and hasattr(field, "errors") and getattr(field, "type", "") != "HiddenField":
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
