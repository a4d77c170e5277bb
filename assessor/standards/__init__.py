"""Unit standards in the app: the public unit pages, loading new unit versions, and reading a version's exact text."""
