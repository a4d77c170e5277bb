"""The forms of signing in, of setting and changing passwords, and of an administrator's changes to an account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from assessor.core.labels import choices
from assessor.domain import limits
from assessor.domain.vocabulary import Role


class SignInForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[InputRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password", validators=[InputRequired(), Length(max=1024)], render_kw={"autocomplete": "current-password"}
    )


def new_password_fields() -> tuple[PasswordField, PasswordField]:
    """A new password and the same again: a long passphrase is welcome."""
    return (
        PasswordField(
            "New password",
            validators=[InputRequired(), Length(max=limits.PASSWORD)],
            render_kw={"autocomplete": "new-password"},
            description="At least 12 characters, hard to guess: a passphrase of four or more words is best.",
        ),
        PasswordField(
            "New password again",
            validators=[InputRequired(), EqualTo("password", message="The two passwords differ.")],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class NewPasswordForm(FlaskForm):
    """Choosing a password from an invitation or a reset link."""

    password, again = new_password_fields()


class CodeForm(FlaskForm):
    """Choosing a first password with a printed code."""

    username = StringField(
        "Username",
        validators=[InputRequired(), Length(max=limits.USERNAME)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    code = StringField(
        "Code",
        validators=[InputRequired(), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"},
        description="As printed, such as 7KQM-3XR9-PD2F; capitals or small letters, hyphens or not.",
    )
    password, again = new_password_fields()


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        "Current password",
        validators=[InputRequired(), Length(max=limits.PASSWORD)],
        render_kw={"autocomplete": "current-password"},
    )
    password, again = new_password_fields()


class ForgotForm(FlaskForm):
    identity = StringField(
        "Username or e-mail address",
        validators=[InputRequired(), Length(max=limits.EMAIL)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )


class AccountForm(FlaskForm):
    """An administrator's changes to an account."""

    display_name = StringField("Full name", validators=[InputRequired(), Length(max=limits.NAME)])
    email = EmailField("E-mail", validators=[Optional(), Length(max=limits.EMAIL)])
    role = SelectField("Role", choices=choices(tuple(Role)))


class SecondStepForm(FlaskForm):
    """The code from the authenticator app, or a recovery code, after the password."""

    code = StringField(
        "Code",
        validators=[InputRequired(), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "characters"},
        description="The 6 digits your authenticator app shows now, or one of your recovery codes.",
    )


class AuthenticatorCodeForm(FlaskForm):
    code = StringField(
        "Code from the app",
        validators=[InputRequired(), Length(max=64)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
