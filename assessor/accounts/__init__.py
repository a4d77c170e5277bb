"""Accounts: signing in and out, sessions the server can end, and the administration of accounts."""
