"""The one error model: a problem the user can fix is a `UserError`, which renders itself
as one line per problem and carries the exit status the command line returns."""
from __future__ import annotations

from typing import List


class UserError(Exception):
    """A problem with what the user asked for or pointed at (not a bug): one line each."""

    exit_code = 2

    def lines(self) -> List[str]:
        return [f"error: {line}" for line in str(self).splitlines()] or ["error"]


class DatasetError(UserError):
    """A path that is not a readable dataset: no manifest, an unknown format version, no such split."""


def not_utf8(path: str, exc: UnicodeDecodeError) -> str:
    """What to tell of a text file that is not UTF-8 (Windows editors and Excel save cp1252)."""
    return f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
