"""Text compared the way people read it: without case, accents or macrons."""

from __future__ import annotations

import unicodedata


def folded(text: str) -> str:
    """`text` without case or diacritics, its spaces collapsed: "Tūī  Ngāti" and "tui ngati" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
