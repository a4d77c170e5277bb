"""Why a target is missed and what would meet it, as found by profiling; bench.py prints each note beside the missed
target."""

from __future__ import annotations

NOTES: dict[str, str] = {
    "wrk": (
        "the trainee's own enrolment page; the trainee's home page meets the target on both databases. The page shows every "
        "one of the unit's 63 criteria and evidence items (CSCOFM023: 19 criteria, 44 items) with its status, range statements and each piece of evidence behind "
        "it, about 44 KB of HTML: in process it takes 5.5 ms on SQLite and 10 ms on PostgreSQL, three of them in Jinja. Two "
        "sync workers on the two cores that wrk also uses can then serve about 250 a second. What would meet it: rendering "
        "the unit's fixed text once per unit version and filling in only the statuses and evidence (the fixed text is most "
        "of the page), or answering repeat views with 304 Not Modified from an ETag made of the enrolment's tally, or a "
        "third core (wrk alone takes about a quarter of the two)"
    ),
}
