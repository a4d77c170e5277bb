"""Keyset pagination: a page starts after (or ends before) the sort key of a row, so an index on the key serves a page
deep in a list as fast as the first, and a row written meanwhile never shifts a page or shows twice.

A cursor travels in page links as an opaque token: the key's values and, for display only, the place of that row.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

T = TypeVar("T")
MAX_TOKEN = 2_000  # characters: a key is a few short values


@dataclass(frozen=True)
class Key:
    """One column of a sort key. NULL sorts as the smallest value: first ascending, last descending."""

    column: so.InstrumentedAttribute[Any] | sa.ColumnElement[Any]
    kind: type = int  # the Python type of its values: int, str or datetime.date
    descending: bool = False
    nullable: bool = False

    def ordered(self, forward: bool) -> sa.ColumnElement[Any]:
        ascending = self.descending != forward
        if not self.nullable:
            return self.column.asc() if ascending else self.column.desc()
        return self.column.asc().nulls_first() if ascending else self.column.desc().nulls_last()

    def equal(self, value: Any) -> sa.ColumnElement[bool]:
        return self.column.is_(None) if value is None else self.column == value

    def beyond(self, value: Any, forward: bool) -> sa.ColumnElement[bool]:
        """Rows whose value comes strictly after `value` in the direction of travel."""
        if self.descending != forward:  # greater values come later
            return self.column.is_not(None) if value is None else self.column > value
        if value is None:
            return sa.false()
        below = self.column < value
        return sa.or_(below, self.column.is_(None)) if self.nullable else below

    def at_or_beyond(self, value: Any, forward: bool) -> sa.ColumnElement[bool]:
        """Rows whose value is `value` or comes after it in the direction of travel: one comparison, a bound an index
        on the column seeks to (PostgreSQL reads `a = v OR a > v` as a filter, not as where to start)."""
        if self.descending != forward:  # greater values come later
            return sa.true() if value is None else self.column >= value
        if value is None:
            return self.column.is_(None)
        below = self.column <= value
        return sa.or_(below, self.column.is_(None)) if self.nullable else below

    def encode(self, value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime.date) else value

    def decode(self, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        if self.kind is datetime.date and isinstance(value, str):
            return datetime.date.fromisoformat(value)
        if type(value) is not self.kind:  # bool is not an int here
            raise ValueError(f"a {self.kind.__name__} was expected")
        return value


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after the row with key `values` (forward), or ending before it (backward); `values` None
    with backward is the end of the list. `place` is that row's place among all, from 1, for display."""

    values: tuple[Any, ...] | None
    forward: bool
    place: int

    def token(self, keys: Sequence[Key]) -> str:
        if self.values is None:
            return "end"
        raw = [int(self.forward), self.place, *(k.encode(v) for k, v in zip(keys, self.values, strict=True))]
        return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str, keys: Sequence[Key]) -> Cursor:
        """The cursor of a page link; ValueError if the link was not made by `token` for these keys."""
        if token == "end":
            return cls(None, False, 0)
        if len(token) > MAX_TOKEN:
            raise ValueError("too long")
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError("not a page link") from exc
        if not isinstance(raw, list) or len(raw) != len(keys) + 2 or raw[0] not in (0, 1):
            raise ValueError("not a page link")
        place = raw[1]
        if type(place) is not int or place < 0:
            raise ValueError("not a place")
        return cls(tuple(k.decode(v) for k, v in zip(keys, raw[2:], strict=True)), bool(raw[0]), place)

    def condition(self, keys: Sequence[Key]) -> sa.ColumnElement[bool]:
        """The rows beyond this cursor in its direction; with a leading bound an index on the first key can seek to."""
        if self.values is None:
            return sa.true()
        either: list[sa.ColumnElement[bool]] = []
        for i, key in enumerate(keys):
            same = [k.equal(v) for k, v in zip(keys[:i], self.values[:i], strict=True)]
            either.append(sa.and_(*same, key.beyond(self.values[i], self.forward)))
        return sa.and_(keys[0].at_or_beyond(self.values[0], self.forward), sa.or_(*either))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset-paged list: its rows, where it stands, and the cursors of its neighbours."""

    rows: list[T]
    first: int  # the place of the first row among all, from 1
    total: int  # every matching row, or `counted_to` + 1 when there are more than that
    exact: bool  # whether `total` is the whole count
    previous: Cursor | None
    next: Cursor | None

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def page_of(
    rows_of: Callable[[sa.ColumnElement[bool], list[sa.ColumnElement[Any]], int], list[tuple[tuple[Any, ...], T]]],
    keys: Sequence[Key],
    cursor: Cursor | None,
    per_page: int,
    total: int,
    exact: bool,
) -> Page[T]:
    """The page at `cursor` (the first page without one). `rows_of(condition, order, limit)` gives each row's key
    values and the row itself, in that order."""
    at = cursor or Cursor(tuple(None for _ in keys), True, 0)
    condition = at.condition(keys) if cursor else sa.true()
    found = rows_of(condition, [k.ordered(at.forward) for k in keys], per_page + 1)
    more = len(found) > per_page
    found = found[:per_page]
    if at.forward:
        first = at.place + 1
    else:
        found.reverse()
        first = max(1, (at.place or total + 1) - len(found)) if more else 1
    if not found:
        return Page([], first, total, exact, None, None)
    has_previous = first > 1 if at.forward else more
    has_next = more if at.forward else cursor is not None and cursor.values is not None
    return Page(
        [row for _, row in found],
        first,
        total,
        exact,
        Cursor(found[0][0], False, first) if has_previous else None,
        Cursor(found[-1][0], True, first + len(found) - 1) if has_next else None,
    )
