"""CSV as spreadsheets write it: separated by commas, or by semicolons as Excel writes CSV in
much of Europe (its numbers then with decimal commas), or by tabs; the header tells which."""
from __future__ import annotations

import csv
import itertools
from typing import Iterable, Tuple

SEPARATORS = (",", ";", "\t")


def dict_reader(lines: Iterable[str]) -> Tuple[csv.DictReader, str]:
    """A DictReader over `lines` with the separator its header uses most (ties: the comma), and
    that separator."""
    lines = iter(lines)
    header = next(lines, "")
    delimiter = max(SEPARATORS, key=header.count)
    return csv.DictReader(itertools.chain([header], lines), delimiter=delimiter), delimiter
