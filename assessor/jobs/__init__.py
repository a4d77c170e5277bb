"""Jobs as people see them: progress of what they asked for, and for administrators every job, its errors, and a
check of the audit trail run by the worker."""
