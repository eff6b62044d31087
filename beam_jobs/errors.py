"""Errors of the jobs layer, on the one error model of transforms/errors.py: each renders
itself as one line per problem; the command line prints those lines and exits 2."""
from __future__ import annotations

from typing import List, Sequence, Tuple

from transforms.errors import DatasetError, UserError

Problem = Tuple[str, str]  # (dotted config key or flag, what is wrong); key "" for none


class ConfigError(UserError):
    """A config, a flag or an input that cannot run, naming the key of each problem."""

    def __init__(self, key: str = "", message: str = "", problems: Sequence[Problem] = ()) -> None:
        self.problems: Tuple[Problem, ...] = tuple(problems) or ((key, message),)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> List[str]:
        return [f"config error: {key}: {message}" if key else f"config error: {message}"
                for key, message in self.problems]


def too_many_failed(fraction: float, limit: float) -> str:
    """What the command line says of a run over errors.max_failed_fraction."""
    return f"{fraction:.1%} of the images failed, over errors.max_failed_fraction={limit:g}"


__all__ = ["ConfigError", "DatasetError", "Problem", "UserError", "too_many_failed"]
