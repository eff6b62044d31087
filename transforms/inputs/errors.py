"""The error of an input that cannot be listed, and how errors show what a file held."""
from __future__ import annotations

from typing import Optional, Sequence


class ListingError(ValueError):
    """A listing row or a path that cannot become an ImageRef."""


def columns_shown(names: Optional[Sequence[str]], most: int = 8, longest: int = 30) -> str:
    """A CSV header as an error shows it: a few names, each cut short (a JSON file read as CSV
    made a line of hundreds of "columns")."""
    if not names:
        return "none"
    shown = [name if len(name) <= longest else name[:longest] + "..." for name in names[:most]]
    return ", ".join(map(repr, shown)) + (f", ... ({len(names)} in all)" if len(names) > most else "")
