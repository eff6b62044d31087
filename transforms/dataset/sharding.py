"""Shard planning, without Beam: which record goes to which shard, in which order.

Every key gets a 64-bit hash. Records are ranked by it within their split (the top
bits pick one of NUM_BUCKETS buckets, counted first, so a rank needs only the bucket's
offset and the position inside the bucket), and rank r of N goes to shard r * n // N.
So shards hold equal counts (within one record), the order inside a shard is a hash
order (never grouped by class), and the same input gives the same shards on every run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Dict, Mapping, Optional, Tuple, Union

BUCKET_BITS = 12
NUM_BUCKETS = 1 << BUCKET_BITS
DEFAULT_TARGET_SHARD_BYTES = 128 * 1024 * 1024


def order_hash(key: str) -> int:
    """The 64-bit hash that orders records (stable across runs, machines and Pythons)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def bucket_of(key: str) -> int:
    return order_hash(key) >> (64 - BUCKET_BITS)


def sort_key(key: str) -> Tuple[int, str]:
    """Records sort by hash, then by key for the (astronomically rare) hash tie."""
    return (order_hash(key), key)


def ref_order(ref) -> Tuple[int, str, str]:
    """The order of ImageRefs in shards: `sort_key` of their key; duplicated keys by what the
    listing says of them, so reruns agree."""
    return (*sort_key(ref.key), tie_break(ref))


def tie_break(ref) -> str:
    """What orders refs of one key: the ref without its annotation (joined by key, so the same
    for both; a repr of its objects cost a third of a millisecond per image)."""
    return repr((ref.uri, ref.label, ref.split, ref.extra, ref.mask))


@dataclasses.dataclass(frozen=True)
class SplitPlan:
    """How one split's records are spread over its shards."""

    split: str
    num_examples: int
    num_shards: int
    bucket_offsets: Mapping[int, int]

    def shard_of(self, bucket: int, index_in_bucket: int) -> int:
        rank = self.bucket_offsets[bucket] + index_in_bucket
        return rank * self.num_shards // self.num_examples


def shard_count(num_examples: int, shards: Optional[int], bytes_per_record: Optional[float],
                target_bytes: int, min_records: int = 1) -> int:
    """A fixed count, or (shards=None) enough shards for about `target_bytes` each; never
    so many that a shard holds fewer than `min_records` (unless the split has fewer)."""
    if num_examples <= 0:
        return 1
    if shards is None:
        estimate = num_examples * (bytes_per_record or 0.0) / target_bytes
        shards = max(1, int(math.floor(estimate + 0.5)))
    return max(1, min(shards, num_examples // max(1, min_records)))


Shards = Union[None, int, Tuple[Tuple[str, Optional[int]], ...]]


def shards_for(shards: Shards, split: str) -> Optional[int]:
    """The configured count for `split`: a number for every split, per split, or None (auto)."""
    if isinstance(shards, tuple):
        return dict(shards).get(split)
    return shards


def plan_shards(bucket_counts: Mapping[Tuple[str, int], int], shards: Shards,
                bytes_per_record: Optional[float], target_bytes: int, min_records: int = 1) -> Dict[str, SplitPlan]:
    """A SplitPlan per split from the number of keys in each (split, bucket)."""
    per_split: Dict[str, Dict[int, int]] = {}
    for (split, bucket), count in bucket_counts.items():
        per_split.setdefault(split, {})[bucket] = count
    plans = {}
    for split, counts in sorted(per_split.items()):
        offsets, total = {}, 0
        for bucket in sorted(counts):
            offsets[bucket] = total
            total += counts[bucket]
        count = shard_count(total, shards_for(shards, split), bytes_per_record, target_bytes, min_records)
        plans[split] = SplitPlan(split, total, count, offsets)
    return plans
