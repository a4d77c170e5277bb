"""Signing in and out, and the administration of accounts."""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from assessor.accounts import second_factor
from assessor.accounts.forms import (
    AccountForm,
    AuthenticatorCodeForm,
    ChangePasswordForm,
    CodeForm,
    ForgotForm,
    NewPasswordForm,
    SecondStepForm,
    SignInForm,
)
from assessor.accounts.operations import (
    accept,
    ask_for_reset,
    change_password,
    end_one_session,
    end_other_sessions,
    invite,
    print_invitation,
    set_active,
    update_account,
)
from assessor.accounts.queries import account_page, signed_in_sessions, waiting_accounts
from assessor.accounts.sessions import (
    SESSION_ROW,
    Refusal,
    account_wait,
    await_second_step,
    check_sign_in,
    forgive_failures,
    keep_this_session,
    pending_second_step,
    record_failure,
    safe_next,
    session_limits,
    sign_in_wait,
    start_session,
    too_many,
)
from assessor.accounts.tokens import Issued, typed_code, usable
from assessor.core import database as db
from assessor.core.access import PUBLIC, SIGNED_IN, Permissions, allow, me
from assessor.core.forms import show_problems
from assessor.core.revalidation import FORGET_KEPT_PAGES
from assessor.domain import limits
from assessor.domain.errors import InvalidInput, NotFound
from assessor.domain.vocabulary import RUNS_COHORTS, Role, TokenPurpose
from assessor.mail import sending
from assessor.models import User, utcnow

bp = Blueprint("accounts", __name__, template_folder="templates")
USERS_PER_PAGE = 100


@bp.get("/sign-in")
@allow(PUBLIC)
def sign_in() -> Any:
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    return render_template("accounts/sign_in.html", form=SignInForm(), next=safe_next(request.args.get("next")))


@bp.post("/sign-in")
@allow(PUBLIC)
def sign_in_post() -> Any:
    """Check the password, with throttling that holds across server processes, and go on to `next` if it is a page of
    this site."""
    form = SignInForm()
    next_page = safe_next(request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("accounts/sign_in.html", form=form, next=next_page), 400
    outcome = check_sign_in(form.username.data.strip().lower(), form.password.data, request.remote_addr or "unknown")
    if isinstance(outcome, Refusal):
        form.form_errors.append(outcome.message)
        return render_template("accounts/sign_in.html", form=form, next=next_page), 429 if outcome.throttled else 401
    if outcome.totp_secret is not None:
        await_second_step(outcome, next_page)
        return redirect(url_for("accounts.second_step"))
    start_session(outcome)
    return redirect(next_page or url_for("index"))


@bp.route("/sign-in/code", methods=["GET", "POST"])
@allow(PUBLIC)
def second_step() -> Any:
    """After the right password, the code from the authenticator app or a recovery code; wrong codes count toward
    the account's sign-in throttle."""
    session_db = db.session()
    user, next_page = pending_second_step(session_db)
    if user is None:
        flash("Sign in again: the page for your code waited too long.", "info")
        return redirect(url_for("accounts.sign_in"))
    form = SecondStepForm()
    if request.method == "GET":
        return render_template("accounts/second_step.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/second_step.html", form=form), 400
    address = request.remote_addr or "unknown"
    wait = account_wait(session_db, user.username, utcnow())
    if wait:
        form.form_errors.append(too_many(wait))
        return render_template("accounts/second_step.html", form=form), 429
    if not second_factor.check(session_db, user, form.code.data):
        record_failure(session_db, user.username, address)  # kept: the request commits with the refusal
        form.code.errors = [second_factor.WRONG_CODE]
        return render_template("accounts/second_step.html", form=form), 400
    forgive_failures(session_db, user.username, address)
    start_session(user)
    return redirect(next_page or url_for("index"))


@bp.post("/sign-out")
@allow(SIGNED_IN)
def sign_out() -> Response:
    """End every session of the user, everywhere."""
    me().end_sessions()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    response = redirect(url_for("accounts.sign_in"))
    response.headers.update(FORGET_KEPT_PAGES)
    return response


@bp.get("/account")
@allow(SIGNED_IN)
def account() -> str:
    """The signed-in user's own account: when this session began and ends, and signing out other sessions."""
    return render_template("accounts/account.html", limits=session_limits())


@bp.get("/account/sessions")
@allow(SIGNED_IN)
def sessions_page() -> str:
    """Where the user is signed in: each browser, when it began and was last active, from which address."""
    limits_now = session_limits()
    found = signed_in_sessions(
        db.session(),
        me(),
        session.get(SESSION_ROW),
        datetime.timedelta(minutes=limits_now.idle_minutes),
        datetime.timedelta(hours=limits_now.absolute_hours),
    )
    return render_template("accounts/sessions.html", sessions=found)


@bp.post("/account/sessions/<int:session_id>/end", endpoint="end_session")
@allow(SIGNED_IN)
def end_session_post(session_id: int) -> Response:
    """Sign out one other browser of the user's."""
    ended = end_one_session(db.session(), me(), session_id, session.get(SESSION_ROW))
    if ended is None:
        raise NotFound("session")
    flash("That browser is signed out.", "success")
    return redirect(url_for("accounts.sessions_page"))


@bp.post("/account/sign-out-others", endpoint="sign_out_others")
@allow(SIGNED_IN)
def sign_out_others_post() -> Response:
    """End every other session of the user, on every other device; this one stays signed in."""
    user = me()
    end_other_sessions(db.session(), user)
    keep_this_session(user)
    flash("Your other sessions are signed out. This one stays signed in.", "success")
    return redirect(url_for("accounts.sessions_page"))


@bp.get("/admin/users")
@allow(Role.ADMIN)
def users() -> str:
    """The accounts by username, a page at a time, found by name or username (case and diacritics ignored), with
    their role and whether they are active."""
    search = request.args.get("search", "")[: limits.NAME]
    after = request.args.get("after", "")[: limits.USERNAME] or None
    found = account_page(db.session(), search, after, USERS_PER_PAGE + 1)
    more = found[USERS_PER_PAGE - 1].username if len(found) > USERS_PER_PAGE else None
    return render_template("accounts/users.html", users=found[:USERS_PER_PAGE], search=search, more=more, paged=after)


@bp.post("/admin/users/<int:user_id>/active", endpoint="set_active")
@allow(Role.ADMIN)
def set_active_post(user_id: int) -> Response:
    """Deactivate or reactivate an account."""
    session_db = db.session()
    user = session_db.get(User, user_id)
    if user is None:
        raise NotFound("account")
    active = request.form.get("active") == "1"
    try:
        set_active(session_db, me(), user, active)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return redirect(url_for("accounts.users"))
    flash(f"{user.username} is {'active' if active else 'deactivated and signed out everywhere'}.", "success")
    return redirect(url_for("accounts.users"))


# --- passwords: forgotten, set from an invitation or a code, changed -------------------------------------------------

WRONG_CODE = "That username and code do not match an invitation that is still open."
RESET_ASKED = (
    "If an account has that username or e-mail address, a link to set a new password is on its way to the e-mail "
    "address of that account. It works for one hour. If nothing arrives, ask your training coordinator."
)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}  # pages whose address is a secret


@bp.get("/forgot-password")
@allow(PUBLIC)
def forgot_password() -> str:
    """Ask for a link to set a new password."""
    return render_template("accounts/forgot.html", form=ForgotForm(), sent=None)


@bp.post("/forgot-password")
@allow(PUBLIC)
def forgot_password_post() -> Any:
    """Send a reset link to the account, if there is one; the answer is the same whether there is or not. Requests
    are counted like failed sign-ins, under a key of their own, and throttled the same way."""
    form = ForgotForm()
    if not form.validate_on_submit():
        return render_template("accounts/forgot.html", form=form, sent=None), 400
    wanted = form.identity.data.strip()
    key, address = f"reset:{wanted.lower()}", request.remote_addr or "unknown"
    with db.database().read_sessions() as reader:
        wait = sign_in_wait(reader, key, address, utcnow())
    if wait:
        form.form_errors.append(too_many(wait))
        return render_template("accounts/forgot.html", form=form, sent=None), 429
    session_db = db.session()
    ask_for_reset(session_db, wanted)
    record_failure(session_db, key, address)
    return render_template("accounts/forgot.html", form=ForgotForm(formdata=None), sent=RESET_ASKED)


@bp.route("/reset/<secret>", methods=["GET", "POST"])
@allow(PUBLIC)
def reset(secret: str) -> Any:
    """Set a new password from a reset link."""
    return _set_password_page(secret, TokenPurpose.RESET)


@bp.route("/welcome/<secret>", methods=["GET", "POST"])
@allow(PUBLIC)
def welcome(secret: str) -> Any:
    """Set a first password from an invitation."""
    return _set_password_page(secret, TokenPurpose.INVITATION)


def _set_password_page(secret: str, purpose: TokenPurpose) -> Any:
    token = usable(db.session(), secret, purpose)
    if token is None:
        return render_template("accounts/dead_link.html", purpose=purpose), 410, NO_STORE
    form = NewPasswordForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                user = accept(db.session(), token, form.password.data)
            except InvalidInput as exc:
                db.keep_nothing()
                show_problems(form, exc.problems)
            else:
                return _password_set(user)
        return render_template("accounts/new_password.html", form=form, token=token), 400, NO_STORE
    return render_template("accounts/new_password.html", form=form, token=token), 200, NO_STORE


@bp.route("/welcome", methods=["GET", "POST"])
@allow(PUBLIC)
def welcome_code() -> Any:
    """Set a first password with a printed code; wrong codes count toward the account's sign-in throttle."""
    form = CodeForm()
    if request.method == "GET":
        return render_template("accounts/code_form.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/code_form.html", form=form), 400
    username, address = form.username.data.strip().lower(), request.remote_addr or "unknown"
    with db.database().read_sessions() as reader:
        wait = sign_in_wait(reader, username, address, utcnow())
    if wait:
        form.form_errors.append(too_many(wait))
        return render_template("accounts/code_form.html", form=form), 429
    session_db = db.session()
    token = usable(session_db, typed_code(form.code.data), TokenPurpose.INVITATION)
    if token is None or not token.printed or token.user.username != username:
        record_failure(session_db, username, address)  # kept: the request's transaction commits with the refusal
        form.form_errors.append(WRONG_CODE)
        return render_template("accounts/code_form.html", form=form), 400
    try:
        user = accept(session_db, token, form.password.data)
    except InvalidInput as exc:
        db.keep_nothing()
        show_problems(form, exc.problems)
        return render_template("accounts/code_form.html", form=form), 400
    return _password_set(user)


def _password_set(user: User) -> Response:
    flash(f"Your password is set, {user.display_name}. Sign in with it.", "success")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(SIGNED_IN)
def change_password_page() -> Any:
    """Change one's own password, re-entering the current one; other sessions end, this one stays."""
    form = ChangePasswordForm()
    if request.method == "GET":
        return render_template("accounts/change_password.html", form=form)
    if form.validate_on_submit():
        user = me()
        try:
            refused = change_password(
                db.session(), user, form.current.data, form.password.data, request.remote_addr or "unknown"
            )
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems)
        else:
            if refused is None:
                keep_this_session(user)
                flash("Your password is changed. Your other sessions are signed out.", "success")
                return redirect(url_for("accounts.account"))
            form.current.errors = [refused.message]
            status = 429 if refused.throttled else 400
            return render_template("accounts/change_password.html", form=form), status
    return render_template("accounts/change_password.html", form=form), 400


# --- accounts without a password yet: invitations and printed codes ---------------------------------------------------

INVITATIONS_PER_PAGE = 100


@bp.get("/accounts/invitations")
@allow(*RUNS_COHORTS)
def invitations() -> str:
    """The accounts the user may invite that nobody has signed in to yet, with their latest invitation."""
    after = request.args.get("after", "")[: limits.USERNAME] or None
    found = waiting_accounts(db.session(), me(), after, INVITATIONS_PER_PAGE + 1)
    more = found[INVITATIONS_PER_PAGE - 1].user.username if len(found) > INVITATIONS_PER_PAGE else None
    return render_template("accounts/invitations.html", waiting=found[:INVITATIONS_PER_PAGE], more=more)


@bp.post("/accounts/<int:user_id>/invite", endpoint="invite")
@allow(*RUNS_COHORTS)
def invite_post(user_id: int) -> Response:
    """E-mail the account a new invitation (the old one stops working)."""
    user = _account(user_id)
    try:
        invite(db.session(), me(), user)
    except InvalidInput as exc:
        db.keep_nothing()
        flash(str(exc), "error")
    else:
        flash(f"An invitation is on its way to {user.display_name} at {user.email}.", "success")
    return redirect(url_for("accounts.invitations"))


@bp.post("/accounts/<int:user_id>/code", endpoint="print_code")
@allow(*RUNS_COHORTS)
def print_code_post(user_id: int) -> Any:
    """A one-time code for the account, on a page to print and hand over (the old invitation stops working). The
    code is shown this once: it is kept only as a hash."""
    user = _account(user_id)
    try:
        issued = print_invitation(db.session(), me(), user)
    except InvalidInput as exc:
        db.keep_nothing()
        flash(str(exc), "error")
        return redirect(url_for("accounts.invitations"))
    return code_slip(user, issued)


def code_slip(user: User, issued: Issued) -> tuple[str, int, dict[str, str]]:
    """The page to print for a person to set their first password with a code."""
    address = sending.link("accounts.welcome_code")
    return render_template("accounts/code_slip.html", user=user, issued=issued, address=address), 200, NO_STORE


def _account(user_id: int) -> User:
    """An account the user may invite; as not found to anyone else."""
    user = db.session().get(User, user_id)
    if user is None or not Permissions(me()).invite(user):
        raise NotFound("account")
    return user


# --- administrators: editing accounts, and the outbox ----------------------------------------------------------------


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_user(user_id: int) -> Any:
    """Change an account's name, e-mail address or role."""
    session_db = db.session()
    user = session_db.get(User, user_id)
    if user is None:
        raise NotFound("account")
    form = AccountForm(obj=user)
    if request.method == "GET":
        form.role.data = user.role.value
        return render_template("accounts/edit_user.html", form=form, user=user)
    if form.validate_on_submit():
        try:
            update_account(session_db, me(), user, form.display_name.data, form.email.data, Role(form.role.data))
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems)
        else:
            flash(f"{user.username} is saved.", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/edit_user.html", form=form, user=user), 400


# --- the second factor -----------------------------------------------------------------------------------------------

SETUP = "second_factor_setup"  # the session's secret while it is being set up, until a code proves the app has it


@bp.get("/account/two-factor")
@allow(SIGNED_IN)
def two_factor() -> Any:
    """Set up the second factor (a QR code to scan), or see it and its recovery codes left, renew or remove it."""
    if me().totp_secret is None:
        session.setdefault(SETUP, second_factor.new_secret())
    return _two_factor_page(AuthenticatorCodeForm(), 200)


@bp.post("/account/two-factor")
@allow(SIGNED_IN)
def two_factor_post() -> Any:
    """Turn the second factor on with a code from the app; show the recovery codes once."""
    form = AuthenticatorCodeForm()
    secret = session.get(SETUP)
    if me().totp_secret is not None or secret is None:
        return redirect(url_for("accounts.two_factor"))
    if form.validate_on_submit():
        try:
            codes = second_factor.turn_on(db.session(), me(), secret, form.code.data)
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems)
        else:
            session.pop(SETUP, None)
            return render_template("accounts/recovery_codes.html", codes=codes, new=True), 200, NO_STORE
    return _two_factor_page(form, 400)


@bp.post("/account/two-factor/recovery-codes", endpoint="renew_recovery_codes")
@allow(SIGNED_IN)
def renew_recovery_codes_post() -> Any:
    """New recovery codes (the old ones stop working), on a code from the app."""
    form = AuthenticatorCodeForm()
    if me().totp_secret is None:
        return redirect(url_for("accounts.two_factor"))
    if form.validate_on_submit():
        try:
            codes = second_factor.new_recovery_codes(db.session(), me(), form.code.data)
        except InvalidInput as exc:
            db.keep_nothing()
            show_problems(form, exc.problems)
        else:
            return render_template("accounts/recovery_codes.html", codes=codes, new=False), 200, NO_STORE
    return _two_factor_page(form, 400)


@bp.post("/account/two-factor/off", endpoint="two_factor_off")
@allow(SIGNED_IN)
def two_factor_off_post() -> Any:
    """Turn one's own second factor off, on a code from the app, where the role does not require one."""
    user = me()
    form = AuthenticatorCodeForm()
    if user.totp_secret is None or second_factor.required(user):
        return redirect(url_for("accounts.two_factor"))
    if form.validate_on_submit() and second_factor.check(db.session(), user, form.code.data):
        second_factor.turn_off(db.session(), user, user)
        flash("Your second factor is off: signing in needs only your password.", "success")
        return redirect(url_for("accounts.account"))
    db.keep_nothing()
    form.code.errors = [second_factor.WRONG_CODE]
    return _two_factor_page(form, 400)


def _two_factor_page(form: AuthenticatorCodeForm, status: int) -> tuple[str, int, dict[str, str]]:
    """The second factor's page: while it is off, the secret being set up and its QR code; once on, how many
    recovery codes are left."""
    user = me()
    shown: dict[str, object]
    if user.totp_secret is None:
        secret = str(session.get(SETUP, ""))
        shown = {"secret": secret, "qr": second_factor.qr_code(user, secret) if secret else None}
    else:
        shown = {"left": second_factor.recovery_codes_left(db.session(), user)}
    page = render_template("accounts/two_factor.html", form=form, mfa_required=second_factor.required(user), **shown)
    return page, status, NO_STORE


@bp.post("/admin/users/<int:user_id>/two-factor/remove", endpoint="remove_two_factor")
@allow(Role.ADMIN)
def remove_two_factor_post(user_id: int) -> Response:
    """For someone who lost both their phone and their recovery codes: they sign in with their password and set it
    up again."""
    session_db = db.session()
    user = session_db.get(User, user_id)
    if user is None:
        raise NotFound("account")
    second_factor.turn_off(session_db, me(), user)
    flash(f"The second factor of {user.username} is removed; they set a new one up at their next sign-in.", "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id))
