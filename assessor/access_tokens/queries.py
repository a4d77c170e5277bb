"""Reads behind the tokens page."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessor.models import ApiToken, User


def tokens_of(session: so.Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones too (so that they can see what stopped working)."""
    query = sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    return list(session.scalars(query))
