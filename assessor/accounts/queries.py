"""What other features ask of accounts."""

from __future__ import annotations

from assessor.core.passwords import check_password
from assessor.models import User


def password_confirmed(user: User, password: str | None) -> bool:
    """Whether the user re-entered their own password correctly (before a sign-off)."""
    return password is not None and check_password(user.password_hash, password)
