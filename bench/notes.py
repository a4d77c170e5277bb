"""Why a target is missed and what would meet it, as found by profiling; bench.py prints each note beside the missed
target."""

from __future__ import annotations

NOTES: dict[str, str] = {
    "!how this run was measured": (
        "- **How this run was measured.** On 2026-12-02, on a quiet machine. The datasets were grown beforehand by the "
        "benchmark's own growth step while other work shared the two cores (their times are those, so high: 3,081 s "
        "for the 90,000 trainees added to the PostgreSQL dataset) and reused (`--reuse`) on a lasting PostgreSQL "
        "cluster with its default settings, statistics gathered after growing (`ANALYZE`, as the benchmark now does "
        "itself). The first pass over both databases found the SQLite evidence register at 2.03× its floor: the "
        "batch lookups it had just gained were sent to SQLite as `(... IN ...) = 1`, which no index serves. That was "
        "mended and SQLite measured again, whole; the PostgreSQL rows are from the first pass (the mend changes no SQL "
        "sent to PostgreSQL). Then the enrolment pages at 100,000 showed a scan of every enrolment (which enrolments were "
        "carried over to this one); with its index (migration 0028), PostgreSQL's pages were measured again, all "
        "three sizes: those page rows are from that pass, its exports, throughput and jobs from the first. Ratios to a "
        "ceiling or a floor are measured in the same run as what they divide."
    ),
    "… found by name": (
        'a common given name at 100,000 trainees: "liam" is in 5,387 names (Williams too), 10,774 enrolments. Sorted '
        "by name, a search gathers its matches and sorts them (58 ms for the page's keys), because walking the sort's "
        'index to a name\'s matches reads everything before them in the alphabet: 31 ms for "liam", whose matches are '
        'spread, but 434 ms for "tui", whose matches all sit under T. With PostgreSQL\'s default random_page_cost the '
        "planner reads every name (39 ms) rather than the trigram index (10 ms); at 1.1, PostgreSQL's advice for SSDs, "
        "the keys take 47 ms. What would meet it: the matches' sort key read from the name index alone, without joining "
        "each enrolment (a trigram index on enrolment_progress.trainee_name, at the price of one more index written on "
        "every judgement), or a search page that shows the first matches by relevance rather than the whole list's sort"
    ),
    "wrk": (
        "a full render for every request. A browser that holds the page asks with its ETag and gets 304 Not Modified "
        "while nothing the page shows changed (`assessor/core/revalidation.py`): the repeat-view rows, which meet the "
        "targets. A full render stays under them: the trainee's enrolment page shows every one of the unit's 63 criteria "
        "and evidence items (CSCOFM023: 19 criteria, 44 items) with its status, range statements and each piece of "
        "evidence behind it, about 44 KB of HTML, so two sync workers on the two cores that wrk also uses serve about "
        "100-250 a second. What would lift the full render too: rendering the unit's fixed text once per unit version "
        "and filling in only the statuses and evidence, or a third core (wrk alone takes about a quarter of the two)"
    ),
}
