"""Completion records: sign-off, the printable record, revocation and the public check of a verification code."""
