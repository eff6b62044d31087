"""The names of what a dataset folder holds: shards, indexes, the manifest, labels, failures."""
from __future__ import annotations

import re

MANIFEST = "manifest.json"
LABELS = "labels.txt"
FAILURES = "failures.jsonl"
TEMP_PREFIX = ".image2tfrecord-tmp-"  # + the config's fingerprint: one resumable area per config
JOURNAL = ".image2tfrecord-commit.json"  # present only while a run commits (see storage/transaction)
LOCK = ".image2tfrecord-lock.json"  # present while a run writes this output (see storage/lock)
HIDDEN_PREFIX = ".image2tfrecord-"
SHARD_SUFFIX = ".tfrecord"
SPILL = "spill"  # in a temp area: refs the local runner groups wait there (storage/spill.py)
INDEX_FOLDER = "index"  # beside the shards, so `train-*` globs (TFX, TFDS) match shards only
SHARD_PATTERN = re.compile(r"^(index/)?[A-Za-z0-9_]+-\d{5}-of-\d{5}\.(tfrecord(\.gz)?|idx)$")


def shard_file_name(split: str, index: int, num_shards: int, compression: str) -> str:
    """`{split}-{i:05d}-of-{n:05d}.tfrecord`, with `.gz` appended for gzip."""
    suffix = SHARD_SUFFIX + (".gz" if compression == "gzip" else "")
    return f"{split}-{index:05d}-of-{num_shards:05d}{suffix}"


def index_file_name(shard_file: str) -> str:
    """`train-00000-of-00004.tfrecord` -> `index/train-00000-of-00004.idx` (relative to the dataset)."""
    return f"{INDEX_FOLDER}/{shard_file.rsplit(SHARD_SUFFIX, 1)[0]}.idx"
