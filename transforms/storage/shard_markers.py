"""What makes a finished temp shard reusable after a kill: a marker written beside it last.

Shards are deterministic, so a shard finished by an earlier run of the same input and
config is as good as a new one, if it is whole: the marker records a digest of what went
into the shard (its refs in order, the size and modification time of each local image and
mask, the label ids, the extra kinds), the file's size and CRC32C, and what the manifest
needs (records, bytes, classes, failures). A shard without a marker, or whose digest or
bytes differ, is converted again: an image replaced between a killed run and its rerun is
converted anew, not kept in its old version beside new ones.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import BinaryIO, Iterable, List, Mapping, Optional, Tuple

import google_crc32c

from transforms.elements import Failure, ImageRef
from transforms.storage import files
from transforms.storage.transaction import write_atomically

MARKER_SUFFIX = ".done.json"


@dataclasses.dataclass(frozen=True)
class ShardMarker:
    digest: str
    num_examples: int
    num_bytes: int
    classes: Tuple[Tuple[str, int], ...]
    num_truncated: int
    indexed: bool
    size: int
    crc32c: int
    failures: Tuple[Failure, ...]
    dropped: Tuple[Tuple[str, int], ...] = ()
    frames_guessed: int = 0

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self)) + "\n"

    @classmethod
    def loads(cls, text: str) -> "ShardMarker":
        raw = json.loads(text)
        return cls(raw["digest"], raw["num_examples"], raw["num_bytes"],
                   tuple((name, count) for name, count in raw["classes"]), raw["num_truncated"],
                   raw["indexed"], raw["size"], raw["crc32c"], tuple(Failure(**f) for f in raw["failures"]),
                   tuple((reason, count) for reason, count in raw.get("dropped", ())), raw.get("frames_guessed", 0))


def shard_digest(name: str, refs: Iterable[ImageRef], labels: Mapping[str, int], kinds: Mapping[str, str]) -> str:
    """What a shard's bytes follow from, besides the config (which names the temp area); taken
    before its images are read, so a file changed while it is converted fails the next check.
    Remote inputs are taken as listed (files.version)."""
    digest = hashlib.sha256(json.dumps([name, sorted(labels.items()), sorted(kinds.items())]).encode())
    refs = list(refs)
    paths = [ref.uri for ref in refs] + [ref.mask for ref in refs if ref.mask]
    version = dict(zip(paths, files.versions(paths)))
    for ref in refs:
        digest.update(repr(ref).encode("utf-8"))
        digest.update(version[ref.uri].encode())
        if ref.mask:
            digest.update(version[ref.mask].encode())
        digest.update(b"\0")
    return digest.hexdigest()


class Checksummed:
    """A writable file that keeps the size and CRC32C of what went through it."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._checksum = google_crc32c.Checksum()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._checksum.update(data)
        self.size += len(data)
        return self._handle.write(data)

    @property
    def crc32c(self) -> int:
        return int.from_bytes(self._checksum.digest(), "big")


class ChecksummedReader:
    """A readable file that keeps the size and CRC32C of what was read from it (verify reads a
    shard once: these bytes as stored, and the records gunzipped from them)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._checksum = google_crc32c.Checksum()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._checksum.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        """Read what is left (a gzip reader may stop before the end of the stored bytes)."""
        while self.read(1 << 22):
            pass

    @property
    def crc32c(self) -> int:
        return int.from_bytes(self._checksum.digest(), "big")


def file_checksum(path: str) -> Tuple[int, int]:
    """(size, CRC32C) of a file's bytes as stored."""
    checksum = google_crc32c.Checksum()
    size = 0
    with files.open_read(path) as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            checksum.update(block)
            size += len(block)
    return size, int.from_bytes(checksum.digest(), "big")


def write_marker(shard_path: str, marker: ShardMarker) -> None:
    """Not fsynced: after a crash of the machine the shard's CRC, checked on resume, tells
    whether its bytes made it to the disk."""
    write_atomically(shard_path + MARKER_SUFFIX, marker.dumps(), durable=False)


def finished(shard_path: str, digest: str) -> Optional[ShardMarker]:
    """The marker of a whole, matching shard at `shard_path`, else None."""
    try:
        marker = ShardMarker.loads(files.read_text(shard_path + MARKER_SUFFIX))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if marker.digest != digest or not files.exists(shard_path):
        return None
    if file_checksum(shard_path) != (marker.size, marker.crc32c):
        return None
    return marker


def forget_failed(shard_paths: Iterable[str]) -> int:
    """Delete the markers of the shards some of whose images failed, so a rerun converts those
    again (a read that failed for a moment gets its retry) and reuses the rest; how many."""
    forgotten = []
    for path in shard_paths:
        try:
            marker = ShardMarker.loads(files.read_text(path + MARKER_SUFFIX))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if marker.failures:
            forgotten.append(path + MARKER_SUFFIX)
    if forgotten:
        files.delete(forgotten)
    return len(forgotten)


def count_finished(temp_dir: str) -> int:
    """How many shards of a temp area have their marker (for the interruption message)."""
    return len(_markers(temp_dir))


def _markers(temp_dir: str) -> List[str]:
    try:
        return [p for p in files.list_files(f"{temp_dir}/*{MARKER_SUFFIX}")]
    except OSError:
        return []
