"""A second factor at sign-in: a time-based one-time password (TOTP, RFC 6238) from an authenticator app, set up by
scanning a QR code the server draws, with single-use recovery codes for a lost phone.

The TOTP secret is kept encrypted (Fernet) under a key derived from the app's secret key, which lives outside the
database: a copy of the database alone cannot make codes. A code works once: the last time step used is kept, and
a code of that step or an earlier one is refused. Recovery codes are kept as keyed hashes (`tokens.digest`). The roles
in MFA_REQUIRED_ROLES (administrators and coordinators, by default) must set one up before they can do anything else;
the others may.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
import sqlalchemy as sa
import sqlalchemy.orm as so
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from markupsafe import Markup

from assessor.accounts import tokens
from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require
from assessor.domain import policy
from assessor.domain.errors import InvalidInput
from assessor.models import RecoveryCode, User, utcnow

RECOVERY_CODES = 10
ISSUER = "Assessor"
WRONG_CODE = "That code is not right, or it has been used. Enter the code your authenticator app shows now."
STEP = 30  # seconds per TOTP code
DRIFT = 1  # steps either side of now accepted, for a phone's clock a little off


def required(user: User) -> bool:
    """Whether the user's role must have a second factor (MFA_REQUIRED_ROLES, a comma-separated list)."""
    roles = {r.strip() for r in str(current_app.config["MFA_REQUIRED_ROLES"]).split(",") if r.strip()}
    return user.role.value in roles


def new_secret() -> str:
    """A new TOTP secret (160 bits, base32), to show while it is being set up."""
    return pyotp.random_base32(32)


def qr_code(user: User, secret: str) -> Markup:
    """The QR code an authenticator app scans, as inline SVG drawn here (no outside service sees the secret)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=f"QR code to add {user.username} to an authenticator")
    return Markup(svg)  # noqa: S704 - segno's own SVG of a URI we made


def turn_on(session: so.Session, user: User, secret: str, code: str) -> list[str]:
    """Keep the secret once the user proves their app has it (a current code); the new recovery codes, shown once."""
    step = _matching_step(secret, code, None)
    if step is None:
        raise InvalidInput({"code": WRONG_CODE})
    user.totp_secret = _fernet().encrypt(secret.encode()).decode()
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user)
    session.flush()
    audit.record(session, user, "user.second_factor_on", "user", user.id)
    return codes


def new_recovery_codes(session: so.Session, user: User, code: str) -> list[str]:
    """Replace the user's recovery codes, on a current code from their app."""
    if not check(session, user, code, recovery=False):
        raise InvalidInput({"code": WRONG_CODE})
    codes = _new_recovery_codes(session, user)
    audit.record(session, user, "user.recovery_codes_renewed", "user", user.id)
    return codes


def turn_off(session: so.Session, actor: User | None, user: User) -> None:
    """Remove the second factor: the user themselves (where their role does not require one, after a code), an
    administrator for someone who lost both phone and recovery codes, or the command line. Audited."""
    if actor is not None and actor.id != user.id:
        require(policy.may_manage_accounts(actor_of(actor)), "Only an administrator removes someone's second factor.")
    user.totp_secret = None
    user.totp_last_step = None
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
    audit.record(session, actor, "user.second_factor_off", "user", user.id)


def check(session: so.Session, user: User, code: str | None, recovery: bool = True) -> bool:
    """Whether `code` is the user's current TOTP code (used now, so never again) or, if `recovery`, one of their
    unused recovery codes (used up now)."""
    if not code or user.totp_secret is None or len(code) > 64:
        return False
    step = _matching_step(_secret_of(user), code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        return True
    if not recovery:
        return False
    typed = "".join(ch for ch in code.upper() if ch.isalnum())
    found = session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.digest == tokens.digest(typed),
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return False
    found.used_at = utcnow()
    audit.record(session, user, "user.recovery_code_used", "user", user.id)
    return True


def recovery_codes_left(session: so.Session, user: User) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step, within DRIFT of now and after `last_step`, whose code is `code`; None if there is none."""
    digits = "".join(ch for ch in code if not ch.isspace())
    if not secret or not (digits.isdigit() and len(digits) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = current_step()
    for step in range(now - DRIFT, now + DRIFT + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(totp.at(step * STEP), digits):
            return step
    return None


def current_step() -> int:
    """The TOTP time step of now."""
    return int(time.time()) // STEP


def _new_recovery_codes(session: so.Session, user: User) -> list[str]:
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(tokens.CODE_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    session.add_all(RecoveryCode(user_id=user.id, digest=tokens.digest(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _secret_of(user: User) -> str:
    assert user.totp_secret is not None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # the secret key changed: the second factor must be set up again (an administrator removes it)
        return ""


def _fernet() -> Fernet:
    key = hmac.new(str(current_app.config["SECRET_KEY"]).encode(), b"assessor second factor", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))
