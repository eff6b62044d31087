"""Split assignment: by a stable hash of each key (`hash`), or exactly by the fractions over
the hash order (`exact`), optionally within each class (`stratify`)."""
from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple


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


BUCKET_BITS = 12  # ranks are counted per bucket of the split hash first (as shards are)


def split_hash(key: str) -> int:
    """The 64-bit hash that orders keys for exact splits (stable across runs and machines)."""
    return int.from_bytes(hashlib.sha256(f"split\0{key}".encode("utf-8")).digest()[:8], "big")


def split_bucket(key: str) -> int:
    return split_hash(key) >> (64 - BUCKET_BITS)


def split_counts(total: int, fractions: Sequence[Tuple[str, float]], every_split: bool = False) -> List[int]:
    """How many of `total` go to each split: the largest-remainder rule, so the counts add up
    to `total` and each is floor or ceil of fraction x total. With `every_split` (stratified),
    a split left empty takes one from the largest while there are as many items as splits."""
    exact = [fraction * total for _, fraction in fractions]
    counts = [int(math.floor(x)) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    if every_split and total >= len(counts):
        for i, count in enumerate(counts):
            if count == 0:
                largest = max(range(len(counts)), key=lambda j: (counts[j], -j))
                counts[largest] -= 1
                counts[i] += 1
    return counts


@dataclasses.dataclass(frozen=True)
class SplitRule:
    """How refs without a split get one: `hash` (each key on its own, stable as files come
    and go) or `exact` (counts exactly by the fractions, over the hash order), optionally
    `stratify` (exact within each class, every class in every split it can fill)."""

    fractions: Tuple[Tuple[str, float], ...]
    method: str = "hash"
    stratify: bool = False

    @property
    def ranked(self) -> bool:
        """Whether assignment needs each key's rank among all keys (a pipeline step)."""
        return self.method == "exact" or self.stratify

    def stratum(self, label: Optional[str]) -> str:
        return (label or "") if self.stratify else ""


@dataclasses.dataclass(frozen=True)
class RankPlan:
    """Where each (stratum, bucket) starts in its stratum's hash order, and how many of the
    stratum go to each split (in the order of the fractions)."""

    offsets: Mapping[Tuple[str, int], int]
    counts: Mapping[str, Tuple[int, ...]]

    def split_of(self, rule: SplitRule, stratum: str, bucket: int, index_in_bucket: int) -> str:
        rank = self.offsets[(stratum, bucket)] + index_in_bucket
        for (name, _), count in zip(rule.fractions, self.counts[stratum]):
            if rank < count:
                return name
            rank -= count
        return rule.fractions[-1][0]


def plan_ranks(bucket_counts: Mapping[Tuple[str, int], int], rule: SplitRule) -> RankPlan:
    """A RankPlan from the number of keys in each (stratum, bucket)."""
    offsets: Dict[Tuple[str, int], int] = {}
    totals: Dict[str, int] = {}
    for stratum, bucket in sorted(bucket_counts):
        offsets[(stratum, bucket)] = totals.get(stratum, 0)
        totals[stratum] = totals.get(stratum, 0) + bucket_counts[(stratum, bucket)]
    counts = {s: tuple(split_counts(n, rule.fractions, rule.stratify)) for s, n in totals.items()}
    return RankPlan(offsets, counts)


def exact_splits(keys: Sequence[Tuple[str, Optional[str]]], rule: SplitRule) -> Dict[str, str]:
    """{key: split} for (key, label) pairs, as the pipeline assigns them (for the plan and tests)."""
    strata: Dict[str, List[str]] = {}
    for key, label in keys:
        strata.setdefault(rule.stratum(label), []).append(key)
    out = {}
    for members in strata.values():
        ordered = sorted(members, key=lambda k: (split_hash(k), k))
        counts = split_counts(len(ordered), rule.fractions, rule.stratify)
        position = 0
        for (name, _), count in zip(rule.fractions, counts):
            for key in ordered[position:position + count]:
                out[key] = name
            position += count
    return out
