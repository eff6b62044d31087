"""Split assignment: a stable hash of each key picks its split by the configured fractions."""
from __future__ import annotations

import hashlib
from typing import Sequence, Tuple


def hash_unit(key: str, salt: str) -> float:
    """A stable number in [0, 1) from a key (the same on every run and machine)."""
    digest = hashlib.sha256(f"{salt}\0{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_split(key: str, fractions: Sequence[Tuple[str, float]]) -> str:
    """Deterministic split from a hash of the key, by the configured fractions."""
    point = hash_unit(key, "split")
    total = 0.0
    for name, fraction in fractions:
        total += fraction
        if point < total:
            return name
    return fractions[-1][0]
