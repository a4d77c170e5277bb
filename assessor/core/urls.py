"""Record ids in URLs: only those a database can hold, so that any other number is a page that does not exist (404)
rather than an overflow in the database driver (500)."""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter, Map

# Ids are positive and fit the id columns: INTEGER, 32 bits on PostgreSQL (SQLite's would hold 64).
MIN_ID = 1
MAX_ID = 2**31 - 1


def numbers_up_to(bound: int) -> str:
    """A regular expression for the whole numbers from 1 to `bound` in ASCII digits, leading zeros allowed."""
    digits = str(bound)
    shorter = [rf"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = [
        f"{digits[:i]}[{'1' if i == 0 else '0'}-{int(d) - 1}][0-9]{{{len(digits) - i - 1}}}"
        for i, d in enumerate(digits)
        if int(d) > (1 if i == 0 else 0)
    ]
    return f"0*(?:{'|'.join([*shorter, *same_length, digits])})"


ID_PATTERN = numbers_up_to(MAX_ID)
_ID = re.compile(ID_PATTERN)


class RecordIdConverter(IntegerConverter):
    """Flask's `int` converter, bounded to the ids a database can hold: `<int:enrolment_id>` matches 1 to 2^31 - 1
    and nothing else, so any other number answers 404 before the view runs. The bound is in the pattern, not only in
    the conversion: a number the pattern refuses matches no route at all, where one refused after matching would
    answer 405 when a route for another method has the same path. A rule may still narrow the range."""

    regex = ID_PATTERN

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = MIN_ID,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def record_id(value: str) -> int:
    """A record id read from a query string, for `request.args.get(name, type=record_id)`: digits for a number from
    1 to 2^31 - 1; anything else raises ValueError, so Flask treats the argument as absent."""
    if not _ID.fullmatch(value):
        raise ValueError(f"not a record id: {value[:40]!r}")
    return int(value)
