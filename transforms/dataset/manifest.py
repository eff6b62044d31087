"""manifest.json, the dataset's commit record and its most important on-disk contract:
typed, versioned, read and written here only.

A reader trusts a folder as a dataset only through its manifest: which splits, which
shard files with how many records, the label names, the feature kinds, and how it was
made. `format_version` is checked on load; a version this code does not know is refused.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Mapping, Optional, Tuple

from transforms.errors import DatasetError

MANIFEST_VERSION = 1
READABLE_VERSIONS = (1,)


@dataclasses.dataclass(frozen=True)
class ShardEntry:
    """One shard file of a split, its `.idx` file when indexes are written, and the size and
    CRC32C of its bytes as stored (verify checks them: a shard of another run put in its
    place, same name and count, is not this dataset's). Manifests written before they were
    recorded, and shards written by Beam's sink, have none."""

    file: str
    num_examples: int
    index: Optional[str] = None
    size: Optional[int] = None
    crc32c: Optional[int] = None

    def to_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"file": self.file, "num_examples": self.num_examples}
        if self.index:
            out["index"] = self.index
        if self.crc32c is not None:
            out["size"], out["crc32c"] = self.size, self.crc32c
        return out


@dataclasses.dataclass(frozen=True)
class SplitEntry:
    """One split: its records, shards, framed bytes and records per class name."""

    num_examples: int
    num_shards: int
    num_bytes: int
    classes: Mapping[str, int]
    shards: Tuple[ShardEntry, ...]

    def to_json(self) -> Dict[str, Any]:
        return {"num_examples": self.num_examples, "num_shards": self.num_shards, "num_bytes": self.num_bytes,
                "classes": dict(self.classes), "shards": [s.to_json() for s in self.shards]}


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What a converted dataset holds and how it was made."""

    splits: Mapping[str, SplitEntry]
    num_examples: int
    num_failed: int
    num_listed: int
    failures_by_reason: Mapping[str, int]
    labels: Tuple[str, ...]
    features: Mapping[str, str]  # key -> bytes | int64 | float
    config: Mapping[str, Any]
    versions: Mapping[str, str]
    num_truncated: int = 0  # records kept from sources that ran short (image.allow_truncated)
    run_id: str = ""  # the run that committed this dataset
    tfds: str = ""  # "written": TFDS metadata beside the shards; else why TFDS cannot read them
    task: str = "classification"  # or "detection": records carry image/object/* (split classes: objects)
    boxes_dropped: Mapping[str, int] = dataclasses.field(default_factory=dict)  # by reason (detection)
    frames_guessed: int = 0  # records whose boxes' frame was the default, sizes could not tell
    format_version: int = MANIFEST_VERSION

    @property
    def accounted(self) -> bool:
        """Every listed input is a record or a failure."""
        return self.num_examples + self.num_failed == self.num_listed

    @property
    def failed_fraction(self) -> float:
        """The share of listed inputs that failed (what errors.max_failed_fraction bounds)."""
        return self.num_failed / max(1, self.num_listed)

    def split(self, name: str) -> SplitEntry:
        if name not in self.splits:
            raise DatasetError(f"no split {name!r} in this dataset (splits: {', '.join(self.splits) or 'none'})")
        return self.splits[name]

    @property
    def image_config(self) -> Mapping[str, Any]:
        return self.config.get("image", {})

    def to_json(self) -> Dict[str, Any]:
        return {
            "format_version": self.format_version,
            "splits": {name: entry.to_json() for name, entry in self.splits.items()},
            "num_examples": self.num_examples,
            "num_failed": self.num_failed,
            "num_listed": self.num_listed,
            "num_truncated": self.num_truncated,
            "accounted": self.accounted,
            "failures_by_reason": dict(self.failures_by_reason),
            "labels": list(self.labels),
            "features": dict(self.features),
            "config": dict(self.config),
            "versions": dict(self.versions),
            "run_id": self.run_id,
            "tfds": self.tfds,
            "task": self.task,
            "boxes_dropped": dict(self.boxes_dropped),
            "frames_guessed": self.frames_guessed,
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"


def _int_or_none(value: Any) -> Optional[int]:
    return None if value is None else int(value)


def parse_manifest(text: str, where: str) -> Manifest:
    """A Manifest from manifest.json's text; DatasetError naming `where` if it is not one."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise DatasetError(f"{where} is not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise DatasetError(f"{where} is not a manifest (a JSON object)")
    version = raw.get("format_version")
    if version not in READABLE_VERSIONS:
        raise DatasetError(f"{where}: format_version {version!r} is not understood "
                           f"(this image2tfrecord reads {', '.join(map(str, READABLE_VERSIONS))})")
    try:
        splits = {name: SplitEntry(
            num_examples=int(entry["num_examples"]), num_shards=int(entry["num_shards"]),
            num_bytes=int(entry.get("num_bytes", 0)), classes=dict(entry.get("classes", {})),
            shards=tuple(ShardEntry(s["file"], int(s["num_examples"]), s.get("index"), _int_or_none(s.get("size")),
                                    _int_or_none(s.get("crc32c"))) for s in entry["shards"]))
            for name, entry in raw["splits"].items()}
        return Manifest(
            splits=splits, num_examples=int(raw["num_examples"]), num_failed=int(raw["num_failed"]),
            num_listed=int(raw["num_listed"]), failures_by_reason=dict(raw.get("failures_by_reason", {})),
            labels=tuple(raw.get("labels", ())), features=dict(raw["features"]),
            config=dict(raw.get("config", {})), versions=dict(raw.get("versions", {})),
            num_truncated=int(raw.get("num_truncated", 0)), run_id=str(raw.get("run_id", "")),
            tfds=str(raw.get("tfds", "")), task=str(raw.get("task", "classification")),
            boxes_dropped=dict(raw.get("boxes_dropped", {})), frames_guessed=int(raw.get("frames_guessed", 0)),
            format_version=version)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DatasetError(f"{where} is not a complete manifest ({type(exc).__name__}: {exc})") from None
