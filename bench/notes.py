"""Why a target is missed and what would meet it, as found by profiling; bench.py prints the note beside the measured profile."""

from __future__ import annotations

NOTES: dict[str, str] = {}
