"""How long each kind of text may be: generous for what people write, small enough that no field can fill the
database or the audit trail that copies it."""

from __future__ import annotations

from collections.abc import Mapping

NARRATIVE = 20_000  # what was observed: several pages of notes
COMMENT = 2_000  # an assessor's comment on one criterion
REASON = 2_000  # why a record is revoked or a trainee withdrawn
NAME = 200  # a person's, a cohort's or a place's name
USERNAME = 64
EMAIL = 254
PASSWORD = 1_024
TOKEN_DAYS = 366  # the longest a personal access token lives: a year, then its owner makes a new one


def too_long(texts: Mapping[str, tuple[str, int]]) -> dict[str, str]:
    """For each field whose text is longer than its limit, what to say; `texts` maps a field to (text, limit)."""
    return {
        field: f"Use at most {limit:,} characters (this has {len(text):,})."
        for field, (text, limit) in texts.items()
        if len(text) > limit
    }
