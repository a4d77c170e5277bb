"""Assessment rules in plain Python: no web framework, no database."""
