"""Completion records issued as signed Open Badges 3.0 credentials: the cryptosuite, the issuer, the status list."""
