"""Keyset cursors: the rows after (or before) a cursor are exactly those that come after it in the key's order, on
either database, whichever way each key sorts and wherever NULLs are."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from assessor.core.paging import Cursor, Key

ROWS = [(n, a, b) for n, (a, b) in enumerate(itertools.product([None, 1, 2, 3], [10, 20, 20, 30]))]
ROWS = [(n, a, b) for n, a, b in ROWS if n % 5 != 3]  # some gaps and some repeated keys


@pytest.fixture
def table(db):
    """A temporary table of (id, a nullable, b) in the test's session."""
    metadata = sa.MetaData()
    made = sa.Table(
        "paged",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.Integer, nullable=True),
        sa.Column("b", sa.Integer),
        prefixes=["TEMPORARY"],
    )
    connection = db.connection()
    metadata.create_all(connection)
    connection.execute(sa.insert(made), [{"id": n, "a": a, "b": b} for n, a, b in ROWS])
    return made


def python_order(keys_spec: list[tuple[str, bool]]) -> list[int]:
    """The ids in the keys' order: NULL the smallest value, each key ascending or descending, id last."""

    def key(row: tuple[int, int | None, int]) -> tuple:
        values = {"id": row[0], "a": row[1], "b": row[2]}
        parts = []
        for name, descending in keys_spec:
            value = values[name]
            rank = (0, 0) if value is None else (1, value)
            parts.append(tuple(-x for x in rank) if descending else rank)
        return tuple(parts)

    return [row[0] for row in sorted(ROWS, key=key)]


@pytest.mark.parametrize("a_descending", [False, True])
@pytest.mark.parametrize("b_descending", [False, True])
@pytest.mark.parametrize("forward", [True, False])
def test_the_rows_beyond_a_cursor_are_those_after_it_in_the_order(db, table, a_descending, b_descending, forward):
    spec = [("a", a_descending), ("b", b_descending), ("id", b_descending)]
    keys = [
        Key(table.c.a, descending=a_descending, nullable=True),
        Key(table.c.b, descending=b_descending),
        Key(table.c.id, descending=b_descending),
    ]
    expected = python_order(spec)
    values = {n: (a, b, n) for n, a, b in ROWS}
    for place, at in enumerate(expected):
        cursor = Cursor(values[at], forward, place + 1)
        found = db.scalars(
            sa.select(table.c.id).where(cursor.condition(keys)).order_by(*(k.ordered(forward) for k in keys))
        ).all()
        assert found == (expected[place + 1 :] if forward else expected[:place][::-1]), (at, forward)
