"""What is done to accounts: creating them, switching them on and off and ending their other sessions, each audited;
and the password re-entered to confirm a signature, counted toward the account's throttle."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts.sessions import (
    NOT_YOUR_PASSWORD,
    Refusal,
    account_wait,
    forgive_failures,
    record_failure,
    too_many,
)
from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require
from assessor.core.passwords import UNUSABLE, check_password, hash_password, password_problem
from assessor.domain import limits, policy
from assessor.domain.audit_states import user_state
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import Role
from assessor.models import User, utcnow


def create_user(
    session: so.Session,
    actor: User | None,
    username: str,
    display_name: str,
    role: Role,
    password: str | None,
    email: str | None = None,
) -> User:
    """Create an account with a hashed password (None: no password yet, so nobody signs in as it until one is set);
    coordinators may create trainees and assessors only."""
    require(
        policy.may_create_account(actor_of(actor) if actor else None, role),
        "Administrators create any account; coordinators create trainee and assessor accounts only.",
    )
    username = username.strip().lower()
    problems = {}
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        problems["username"] = "Use letters, digits, dots, hyphens or underscores."
    elif session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        problems["username"] = f"The username {username!r} is taken."
    if not display_name.strip():
        problems["display_name"] = "Enter the person's name."
    problems.update(
        limits.too_long(
            {
                "username": (username, limits.USERNAME),
                "display_name": (display_name.strip(), limits.NAME),
                "email": (email or "", limits.EMAIL),
            }
        )
    )
    if password is not None and (why := password_problem(password)) is not None:
        problems["password"] = why
    if problems:
        raise InvalidInput(problems)
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        email=email,
        password_hash=hash_password(password) if password is not None else UNUSABLE,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, None, state_of(user))
    return user


def set_active(session: so.Session, actor: User, user: User, active: bool) -> User:
    """Activate or deactivate an account; deactivating ends every session of it at its next request."""
    require(policy.may_manage_accounts(actor_of(actor)), "Only an administrator activates or deactivates accounts.")
    if user.id == actor.id and not active:
        raise InvalidInput({"user": "You cannot deactivate your own account."})
    if user.active == active:
        return user
    before = state_of(user)
    user.active = active
    if not active:
        user.end_sessions()
    session.flush()
    audit.record(
        session, actor, "user.activate" if active else "user.deactivate", "user", user.id, before, state_of(user)
    )
    return user


def end_other_sessions(session: so.Session, user: User) -> None:
    """End every session of the user but the current one: a new session token, which the caller hands to the current
    session (`sessions.keep_this_session`); audited."""
    user.end_sessions()
    session.flush()
    audit.record(session, user, "user.sessions_ended", "user", user.id)


def confirm_password(session: so.Session, user: User, password: str | None, address: str) -> Refusal | None:
    """None if the signed-in user re-entered their own password (to sign off), else why not. Throttled per account
    like sign-in, on the same count of failures; a wrong password is recorded in `session`, the request's transaction,
    and so is kept when the view returns its refusal."""
    wait = account_wait(session, user.username, utcnow())
    if wait:
        return Refusal(too_many(wait), throttled=True)
    if password is None or not check_password(user.password_hash, password):
        record_failure(session, user.username, address)
        return Refusal(NOT_YOUR_PASSWORD)
    forgive_failures(session, user.username, address)
    return None


def state_of(user: User) -> dict[str, object]:
    """What the audit trail keeps of an account."""
    return user_state(user.username, user.display_name, user.email, user.role, user.active)
