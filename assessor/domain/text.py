"""Text compared the way people read it: without case, accents or macrons."""

from __future__ import annotations

import re
import unicodedata


def folded(text: str) -> str:
    """`text` without case or diacritics, its spaces collapsed: "Tūī  Ngāti" and "tui ngati" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def looks_like_email(text: str) -> bool:
    """Whether `text` is shaped like an e-mail address: one "@", a dot in the domain, no spaces (whether it reaches
    anyone, only sending tells)."""
    return _EMAIL.fullmatch(text) is not None
