"""What the API keeps of its own: the writes it answered under an Idempotency-Key, so that a write sent again (a
retry after a lost answer) is answered with what was done the first time instead of being done twice."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.domain.errors import InvalidInput
from assessor.models import ApiWrite, User

KEY_FIELD = "Idempotency-Key"
REUSED = "This Idempotency-Key was used for another request: use a new key for each new write."


def claim_key(session: so.Session, user: User, key: str, fingerprint: str) -> ApiWrite | None:
    """The write this user's key answered before (refused if that was another request), or None once the key is
    claimed for this one, in the request's transaction: a second request with the same key at once waits on the
    unique key, then finds the first's answer."""
    earlier = _earlier(session, user, key, fingerprint)
    if earlier is not None:
        return earlier
    claimed = ApiWrite(user_id=user.id, key=key, fingerprint=fingerprint, status=0, location="")
    session.add(claimed)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        session.expunge(claimed)
        return _earlier(session, user, key, fingerprint)
    return None


def settle_key(session: so.Session, user: User, key: str, status: int, location: str) -> None:
    """Keep what this key's write answered, beside the write itself."""
    session.execute(
        sa.update(ApiWrite)
        .where(ApiWrite.user_id == user.id, ApiWrite.key == key)
        .values(status=status, location=location)
        .execution_options(synchronize_session=False)
    )


def _earlier(session: so.Session, user: User, key: str, fingerprint: str) -> ApiWrite | None:
    earlier = session.scalar(sa.select(ApiWrite).where(ApiWrite.user_id == user.id, ApiWrite.key == key))
    if earlier is not None and earlier.fingerprint != fingerprint:
        raise InvalidInput({KEY_FIELD: REUSED})
    return earlier
