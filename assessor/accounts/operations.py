"""What is done to accounts, each audited: creating them, changing their details, switching them on and off, ending
their other sessions, setting passwords (by invitation, reset or change); and the password re-entered to confirm a
signature or a change, counted toward the account's throttle."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.accounts import second_factor, tokens
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
from assessor.domain.text import looks_like_email
from assessor.domain.vocabulary import Role, TokenPurpose
from assessor.mail import sending
from assessor.models import AccountToken, MailMessage, User, UserSession, utcnow

NO_EMAIL = "This account has no e-mail address: print a code to hand over instead."
HAS_PASSWORD = "This account has a password already; its owner can use “Forgot your password?” on the sign-in page."
NOT_AN_EMAIL = "Enter an e-mail address, such as name@example.org."


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
    if email and not looks_like_email(email):
        problems["email"] = NOT_AN_EMAIL
    problems.update(
        limits.too_long(
            {
                "username": (username, limits.USERNAME),
                "display_name": (display_name.strip(), limits.NAME),
                "email": (email or "", limits.EMAIL),
            }
        )
    )
    if password is not None and (why := password_problem(password, (username, display_name, email))) is not None:
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


def end_one_session(session: so.Session, user: User, session_id: int, current_id: int | None) -> UserSession | None:
    """Sign out one other browser of the user's (None if it is not theirs, or is the one asking); audited."""
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.id == current_id:
        return None
    if row.ended_at is None:
        row.ended_at = utcnow()
        session.flush()
        audit.record(session, user, "user.session_ended", "user", user.id, None, {"session": row.id})
    return row


def confirm_password(
    session: so.Session,
    user: User,
    password: str | None,
    address: str,
    code: str | None = None,
    with_code: bool = True,
) -> Refusal | None:
    """None if the signed-in user re-entered their own password (to sign off), and, `with_code`, the code of their
    second factor if they have one, else why not. Throttled per account like sign-in, on the same count of failures;
    a wrong password or code is recorded in `session`, the request's transaction, and so is kept when the view returns
    its refusal."""
    wait = account_wait(session, user.username, utcnow())
    if wait:
        return Refusal(too_many(wait), throttled=True)
    if password is None or not check_password(user.password_hash, password):
        record_failure(session, user.username, address)
        return Refusal(NOT_YOUR_PASSWORD)
    if with_code and user.totp_secret is not None and not second_factor.check(session, user, code):
        record_failure(session, user.username, address)
        return Refusal(second_factor.WRONG_CODE, field="code")
    forgive_failures(session, user.username, address)
    return None


def update_account(
    session: so.Session, actor: User, user: User, display_name: str, email: str | None, role: Role
) -> User:
    """An administrator changes an account's name, e-mail address or role; a change of role ends its sessions, so
    that nobody keeps what the old role let them see."""
    require(policy.may_manage_accounts(actor_of(actor)), "Only an administrator changes accounts.")
    display_name = display_name.strip()
    problems = limits.too_long({"display_name": (display_name, limits.NAME), "email": (email or "", limits.EMAIL)})
    if not display_name:
        problems["display_name"] = "Enter the person's name."
    if email and not looks_like_email(email):
        problems["email"] = NOT_AN_EMAIL
    if user.id == actor.id and role != user.role:
        problems["role"] = "You cannot change your own role: ask another administrator."
    if problems:
        raise InvalidInput(problems)
    before = state_of(user)
    if role != user.role:
        user.end_sessions()
    user.display_name, user.email, user.role = display_name, email or None, role
    session.flush()
    if state_of(user) != before:
        audit.record(session, actor, "user.update", "user", user.id, before, state_of(user))
    return user


def set_password(session: so.Session, actor: User | None, user: User, password: str, how: str) -> None:
    """Give `user` a new password (refused if easy to guess): every session of theirs ends, and every link or code
    they still had stops working. `how` says which way, for the audit trail."""
    if (why := password_problem(password, personal(user))) is not None:
        raise InvalidInput({"password": why})
    user.password_hash = hash_password(password)
    user.end_sessions()
    tokens.void(session, user)
    session.flush()
    audit.record(session, actor, "user.password", "user", user.id, None, {"how": how})


def change_password(session: so.Session, user: User, current: str, new: str, address: str) -> Refusal | None:
    """The signed-in user changes their password, re-entering the current one (throttled like sign-in; their second
    factor was asked at sign-in); None when done. Every other session of theirs ends; the caller keeps this one
    (`sessions.keep_this_session`)."""
    refused = confirm_password(session, user, current, address, with_code=False)
    if refused is not None:
        return refused
    set_password(session, user, user, new, "changed by its owner")
    return None


def invite(session: so.Session, actor: User, user: User) -> MailMessage:
    """E-mail a new account a link to set its first password (any earlier invitation stops working)."""
    _may_invite(actor, user)
    if not user.email:
        raise InvalidInput({"user": NO_EMAIL})
    issued = tokens.issue(session, user, TokenPurpose.INVITATION, actor)
    message = sending.write(
        session,
        user,
        "invitation",
        link=sending.link("accounts.welcome", secret=issued.secret),
        expires=issued.token.expires_at,
        invited_by=actor.display_name,
    )
    assert message is not None  # the account has an e-mail address
    _audit_invitation(session, actor, user, issued.token)
    return message


def print_invitation(session: so.Session, actor: User, user: User) -> tokens.Issued:
    """A one-time code for a new account (a trainee without e-mail, say), to print and hand over; any earlier
    invitation stops working."""
    _may_invite(actor, user)
    issued = tokens.issue(session, user, TokenPurpose.INVITATION, actor, printed=True)
    _audit_invitation(session, actor, user, issued.token)
    return issued


def _may_invite(actor: User, user: User) -> None:
    require(
        policy.may_create_account(actor_of(actor), user.role),
        "Administrators invite anyone; coordinators invite trainees and assessors.",
    )
    if user.password_hash != UNUSABLE:
        raise InvalidInput({"user": HAS_PASSWORD})
    if not user.active:
        raise InvalidInput({"user": "This account is deactivated: reactivate it first."})


def _audit_invitation(session: so.Session, actor: User, user: User, token: AccountToken) -> None:
    how = "printed code" if token.printed else "e-mail"
    audit.record(
        session, actor, "user.invite", "user", user.id, None, {"how": how, "expires": token.expires_at.isoformat()}
    )


def ask_for_reset(session: so.Session, wanted: str) -> int:
    """Someone forgot their password: e-mail a reset link to each active account whose username or e-mail address
    is `wanted`; how many were sent, which the caller must never reveal."""
    wanted = wanted.strip()
    if not wanted or len(wanted) > limits.EMAIL:
        return 0
    found = session.scalars(
        sa.select(User).where(
            User.active,
            User.email.is_not(None),
            sa.or_(User.username == wanted.lower(), sa.func.lower(User.email) == wanted.lower()),
        )
    ).all()
    for user in found:
        issued = tokens.issue(session, user, TokenPurpose.RESET, None)
        sending.write(
            session,
            user,
            "reset",
            link=sending.link("accounts.reset", secret=issued.secret),
            expires=issued.token.expires_at,
        )
        audit.record(
            session, None, "user.reset_link", "user", user.id, None, {"expires": issued.token.expires_at.isoformat()}
        )
    return len(found)


def accept(session: so.Session, token: AccountToken, password: str) -> User:
    """Set the password a usable token (`tokens.usable`) was issued for; the token, and every other, dies."""
    how = {TokenPurpose.INVITATION: "invitation", TokenPurpose.RESET: "reset link"}[token.purpose]
    set_password(session, token.user, token.user, password, f"{how}{' (printed code)' if token.printed else ''}")
    return token.user


def personal(user: User) -> tuple[str | None, ...]:
    """What a password must not be built from."""
    return (user.username, user.display_name, user.email)


def state_of(user: User) -> dict[str, object]:
    """What the audit trail keeps of an account."""
    return user_state(user.username, user.display_name, user.email, user.role, user.active)
