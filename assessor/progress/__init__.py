"""Progress: enrolment lists, the enrolment page and matrix, and each enrolment's tally kept current."""
