"""What is done to accounts: creating them and switching them on and off, each audited."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.core import audit
from assessor.core.access import actor as actor_of
from assessor.core.access import require
from assessor.core.passwords import hash_password, password_problem
from assessor.domain import policy
from assessor.domain.audit_states import user_state
from assessor.domain.errors import InvalidInput
from assessor.domain.vocabulary import Role
from assessor.models import User


def create_user(
    session: so.Session,
    actor: User | None,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    email: str | None = None,
) -> User:
    """Create an account with a hashed password; coordinators may create trainees and assessors only."""
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
    if (why := password_problem(password)) is not None:
        problems["password"] = why
    if problems:
        raise InvalidInput(problems)
    user = User(
        username=username,
        display_name=display_name.strip(),
        role=role,
        email=email,
        password_hash=hash_password(password),
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


def state_of(user: User) -> dict[str, object]:
    """What the audit trail keeps of an account."""
    return user_state(user.username, user.display_name, user.email, user.role, user.active)
