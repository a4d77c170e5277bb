"""Why a target is missed and what would meet it, as found by profiling; bench.py prints each note beside the missed
target."""

from __future__ import annotations

NOTES: dict[str, str] = {
    "wrk": (
        "a full render for every request. A browser that holds the page asks with its ETag and gets 304 Not Modified "
        "while nothing the page shows changed (`assessor/core/revalidation.py`): the repeat-view rows, which meet the "
        "targets. A full render stays under them: the trainee's enrolment page shows every one of the unit's 63 criteria "
        "and evidence items (CSCOFM023: 19 criteria, 44 items) with its status, range statements and each piece of "
        "evidence behind it, about 44 KB of HTML: on a quiet machine 5.5 ms in process on SQLite and 10 ms on PostgreSQL, "
        "three of them in Jinja, so two sync workers on the two cores that wrk also uses serve about 250 a second. What would lift the full render too: rendering the "
        "unit's fixed text once per unit version and filling in only the statuses and evidence, or a third core (wrk "
        "alone takes about a quarter of the two)"
    ),
}
