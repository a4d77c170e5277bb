"""What every feature stands on: the database and the request's commit point, the audit writer, the access gate,
security headers, error pages, the words pages use, passwords and migrations."""
