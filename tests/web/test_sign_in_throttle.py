"""Sign-in throttling: growing delays per account from any address, a noisy address that cannot lock out the people
behind it, and the password re-entered at sign-off counted like a sign-in."""

from __future__ import annotations

import datetime
import re

import sqlalchemy as sa

from assessor.accounts import sessions as auth
from assessor.models import LoginFailure
from tests.records.factories import PASSWORD
from tests.web.conftest import csrf_token, sign_in

WRONG = "wrong password here"


def attempt(app, username: str, password: str, address: str):
    """One sign-in from a fresh browser at `address`."""
    client = app.test_client()
    token = csrf_token(client)
    return client.post(
        "/sign-in",
        data={"csrf_token": token, "username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def age_failures(app, by: datetime.timedelta) -> None:
    """Move every recorded failure back in time, as if `by` had passed."""
    with app.extensions["database"].sessions.begin() as session:
        for failure in session.scalars(sa.select(LoginFailure)):
            failure.at -= by


def failures_of(app, username: str) -> int:
    with app.extensions["database"].sessions() as session:
        return session.scalar(sa.select(sa.func.count()).where(LoginFailure.username == username)) or 0


def test_one_account_attacked_from_ten_addresses_is_throttled(app, world):
    statuses = [attempt(app, "assessor", WRONG, f"198.51.100.{i}").status_code for i in range(10)]
    assert statuses == [401] * auth.FREE_FAILURES + [429] * (10 - auth.FREE_FAILURES)
    # Refused attempts are not checked, so they are not failures: only the free ones were recorded.
    assert failures_of(app, "assessor") == auth.FREE_FAILURES
    # While the account waits, even its right password from yet another address is refused, without being checked.
    blocked = attempt(app, "assessor", PASSWORD, "192.0.2.77")
    assert blocked.status_code == 429
    assert auth.TOO_MANY in blocked.get_data(as_text=True)


def test_the_wait_doubles_with_each_failure_and_ends(app, world):
    for i in range(auth.FREE_FAILURES):
        assert attempt(app, "assessor", WRONG, f"198.51.100.{i}").status_code == 401
    assert attempt(app, "assessor", PASSWORD, "192.0.2.1").status_code == 429
    age_failures(app, auth.FIRST_WAIT + datetime.timedelta(seconds=1))
    assert attempt(app, "assessor", WRONG, "198.51.100.20").status_code == 401  # one more try, and it failed
    age_failures(app, auth.FIRST_WAIT + datetime.timedelta(seconds=1))
    assert attempt(app, "assessor", PASSWORD, "192.0.2.1").status_code == 429  # now twice as long
    age_failures(app, auth.FIRST_WAIT)
    assert attempt(app, "assessor", PASSWORD, "192.0.2.1").status_code == 302


def test_waits_grow_exponentially_up_to_a_cap():
    assert auth.wait_after(auth.FREE_FAILURES - 1, auth.FREE_FAILURES) == datetime.timedelta(0)
    assert auth.wait_after(auth.FREE_FAILURES, auth.FREE_FAILURES) == auth.FIRST_WAIT
    assert auth.wait_after(auth.FREE_FAILURES + 3, auth.FREE_FAILURES) == auth.FIRST_WAIT * 8
    assert auth.wait_after(auth.FREE_FAILURES + 50, auth.FREE_FAILURES) == auth.LONGEST_WAIT
    assert auth.wait_after(10**6, auth.FREE_FAILURES) == auth.LONGEST_WAIT


def test_the_refusal_says_how_long_to_wait(app, world):
    for i in range(auth.FREE_FAILURES):
        attempt(app, "nobody-at-all", WRONG, f"198.51.100.{i}")
    page = attempt(app, "nobody-at-all", WRONG, "192.0.2.1").get_data(as_text=True)
    assert re.search(r"Try again in (2\d|30) seconds\.", page)


def test_fifty_failures_from_one_address_with_fifty_usernames_do_not_lock_out_a_correct_sign_in(app, world):
    address = "203.0.113.50"
    for i in range(50):
        assert attempt(app, f"guess{i}", WRONG, address).status_code == 401
    # Behind the same address (a busy NAT), an account with no recent failures signs in at once.
    assert attempt(app, "assessor", PASSWORD, address).status_code == 302
    assert attempt(app, "trainee", PASSWORD, address).status_code == 302


def test_a_noisy_address_gets_fewer_free_guesses_per_username(app, world):
    address = "203.0.113.50"
    for i in range(auth.ADDRESS_FREE_FAILURES):
        assert attempt(app, f"guess{i}", WRONG, address).status_code == 401
    # From this address a username now has only NOISY_ADDRESS_FREE_FAILURES before the address's wait applies to it...
    for _ in range(auth.NOISY_ADDRESS_FREE_FAILURES - 1):
        assert attempt(app, "guess0", WRONG, address).status_code == 401
    assert attempt(app, "guess0", WRONG, address).status_code == 429
    for _ in range(auth.NOISY_ADDRESS_FREE_FAILURES):  # a known account is treated exactly like an unknown username
        assert attempt(app, "coordinator", WRONG, address).status_code == 401
    assert attempt(app, "coordinator", PASSWORD, address).status_code == 429
    # ... while elsewhere the same usernames still have the account's free failures.
    assert attempt(app, "guess0", WRONG, "192.0.2.1").status_code == 401
    assert attempt(app, "coordinator", PASSWORD, "192.0.2.1").status_code == 302


def test_a_successful_sign_in_forgives_the_failures_from_its_own_address_only(app, world):
    for _ in range(2):
        attempt(app, "assessor", WRONG, "192.0.2.1")  # the user's own typing errors
    for i in range(2):
        attempt(app, "assessor", WRONG, f"198.51.100.{i}")  # someone else's guesses
    assert attempt(app, "assessor", PASSWORD, "192.0.2.1").status_code == 302
    assert failures_of(app, "assessor") == 2


def sign_off_data(token: str, password: str) -> dict[str, str]:
    return {
        "csrf_token": token,
        "signed_on": datetime.date.today().isoformat(),
        "valid": "y",
        "sufficient": "y",
        "authentic": "y",
        "current": "y",
        "password": password,
    }


def test_guessing_the_password_at_sign_off_is_throttled(app, world, signed_in):
    client = signed_in("assessor")
    url = f"/enrolments/{world.open_enrolment}/sign-off"
    token = csrf_token(client, "/enrolments")
    statuses = [client.post(url, data=sign_off_data(token, f"guess number {i}")).status_code for i in range(30)]
    assert statuses == [400] * auth.FREE_FAILURES + [429] * (30 - auth.FREE_FAILURES)
    assert failures_of(app, "assessor") == auth.FREE_FAILURES
    # The right password during the wait is refused too, and the page says why.
    right = client.post(url, data=sign_off_data(token, PASSWORD))
    assert right.status_code == 429
    assert auth.TOO_MANY in right.get_data(as_text=True)
    # It is the same count as signing in: the account must wait there as well.
    assert sign_in(app.test_client(), "assessor").status_code == 429
