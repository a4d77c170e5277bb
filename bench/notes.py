"""Why a target is missed and what would meet it, as found by profiling; bench.py prints each note beside the missed
target."""

from __future__ import annotations

NOTES: dict[str, str] = {
    "!how this run was measured": (
        "- **How this run was measured.** The run of 2026-12-02 measured SQLite 1,000 and 10,000 and PostgreSQL 10,000 "
        "while other work shared the two cores (three test runs at the lowest priority; load average 3–5), so those "
        "page times and throughputs are high against the run of 2026-12-01 on a quiet machine (the trainee's home at "
        "10,000 on SQLite: 12.5 ms then, 27 ms now; the hello-world ceiling 2,200–2,400 req/s against 2,900–3,500). "
        "The 100,000-trainee database was grown in 55 minutes beside that work, its statistics gathered (`ANALYZE`, as "
        "autovacuum would), and then PostgreSQL 1,000 and 100,000 were measured on a quiet machine with the code that "
        "landed with these figures (the to-do list's bounded counts included): those rows are the ones to compare. "
        "The ratios to a ceiling or a floor are measured in the same run as what they divide, so load moves both."
    ),
    "coordinator's enrolment list": (
        "a constant cost, not one that grows: the same 75 ms at 1,000 trainees as at 100,000, with the same 13 "
        "statements. A page holds 100 enrolments; the SQL is a quarter of the time (the sort's keys, then the page's "
        "rows, about 12 ms in all) and the rest is Python: each row's summary and its 100 rows of HTML. What would meet "
        "it: 50 enrolments a page (`ENROLMENTS_PER_PAGE`), which halves both, and rendering each row from plain values "
        "rather than ORM objects"
    ),
    "… halfway down": (
        "the one sort that grows with the data: halfway down the trainee sort, the statement that picks the page's keys "
        "takes 109 ms at 100,000, because the key (the trainee's folded name, then the enrolment) spans user_account and "
        "enrolment, so PostgreSQL walks the name index and filters. What would meet it: the trainee sort kept on "
        "enrolment_progress, whose trainee_name column (added for the unit sort) already holds the name, with an index "
        "on (trainee_name, enrolment_id), as the unit sort has"
    ),
    "… found by name": (
        "a common given name matches thousands of trainees at 100,000 (the trigram index finds them quickly), and the "
        "page then sorts them by name; with the rows' own 75 ms, over the target. What would meet it: the search "
        "served in the sort's own order (the trainee_name index above), so the first page stops at 100 matches"
    ),
    "assessor home (/enrolments)": (
        "64 ms at 1,000 trainees as at 100,000, with the same 14 statements: not the data. It was 38 ms on 2026-12-01; "
        "the page has gained the to-do list and the revalidation tag since. The assessor's 80 enrolments are each a row "
        "built from ORM objects; what would meet it is the same as for the coordinator's list (fewer rows a page, rows "
        "from plain values), after profiling what the page gained"
    ),
    "enrolment page, as assessor": (
        "54–80 ms at 1,000 and at 100,000, with the same 17 statements: not the data. It was 15 ms on 2026-12-01 and is "
        "to be profiled: the page shows every criterion and item with the evidence behind each, and now the record's "
        "credential and CASE links beside"
    ),
    "export progress": (
        "measured under load; the project's writer alone is 1.10× the floor on the same rows, and reading the rows "
        "(one streamed query with each enrolment's assessors and stored tally) takes about a second at 20,000 "
        "enrolments, with the command's fixed start-up (the app and its imports, about half a second) on top. What would "
        "meet it: the tally's counts read as columns (enrolment_progress keeps them) instead of decoding each tally"
    ),
    "export completions": (
        "a small export (3,501 rows, a floor of 1.3–1.5 s): the command's fixed start-up of about half a second is a "
        "third of it. It meets the target once the start-up is cheaper (the CLI imports every command's modules) or the "
        "register is larger"
    ),
    "export evidence": (
        "measured under load on PostgreSQL (1.48×, 1.40× in CPU time); on SQLite in the same run it met the target. "
        "The rest is the statement that joins two million mappings to their evidence, streamed in batches"
    ),
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
