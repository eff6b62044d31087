"""What verify checks in one shard: framing and both CRCs of every record, every Example
parses, every image decodes as its features declare, the .idx file, the count, and that its
bytes are those the manifest recorded (size and CRC32C, read in the same pass). And beside the
shards: no shard file the manifest does not list, and labels, label map and failures that
agree with it."""
from __future__ import annotations

import dataclasses
import gzip
import json
import zlib
from typing import FrozenSet, List, Optional, Tuple

from transforms.dataset import tfds_metadata
from transforms.dataset.framing import CorruptRecord, framed_length, iter_records
from transforms.dataset.labels import LABEL_MAP, label_map_pbtxt, labels_txt
from transforms.dataset.manifest import Manifest
from transforms.dataset.names import FAILURES, INDEX_FOLDER, LABELS, SHARD_PATTERN
from transforms.readback.image_records import check_record
from transforms.records.proto import parse_example
from transforms.storage import files
from transforms.storage.shard_markers import ChecksummedReader


@dataclasses.dataclass(frozen=True)
class ShardToCheck:
    split: str
    file: str
    expected: int
    index: Optional[str] = None
    class_ids: Optional[FrozenSet[int]] = None  # the label map's ids, for detection records
    size: Optional[int] = None  # the file's bytes as stored, and their CRC32C, as the manifest records them
    crc32c: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class ShardCheck:
    """What verify found in one shard."""

    file: str
    records: int
    problems: Tuple[str, ...]


def shards_to_check(manifest: Manifest) -> List[ShardToCheck]:
    ids = frozenset(i for i, name in enumerate(manifest.labels) if name) if manifest.task == "detection" else None
    return [ShardToCheck(split, shard.file, shard.num_examples, shard.index, ids, shard.size, shard.crc32c)
            for split, entry in manifest.splits.items() for shard in entry.shards]


def dataset_file_problems(root: str, manifest: Manifest) -> List[Tuple[str, str]]:
    """(file, problem) for the files beside the shards: a shard or index file the manifest does
    not list (a reader globbing `train-*` reads it with the others: a shard copied in, or one a
    tool left), and labels.txt, label_map.pbtxt, failures.jsonl and the TFDS metadata, which
    must be there and say what the manifest says."""
    listed = {shard.file for entry in manifest.splits.values() for shard in entry.shards}
    listed |= {shard.index for entry in manifest.splits.values() for shard in entry.shards if shard.index}
    found = files.list_top(root) + [f"{INDEX_FOLDER}/{name}" for name in files.list_top(f"{root}/{INDEX_FOLDER}")]
    problems = [(name, "a shard file the manifest does not list: a reader globbing the split's files reads it too")
                for name in sorted(found) if SHARD_PATTERN.match(name) and name not in listed]
    expected = {LABELS: labels_txt(manifest.labels)}
    if manifest.task == "detection":
        expected[LABEL_MAP] = label_map_pbtxt({name: i for i, name in enumerate(manifest.labels) if name})
    for name, text in expected.items():
        written = _text_or_none(f"{root}/{name}")
        if written != text:
            problems.append((name, "missing" if written is None else "does not name the classes the manifest does"))
    failures = _text_or_none(f"{root}/{FAILURES}")
    lines = (failures or "").splitlines()
    if failures is None:
        problems.append((FAILURES, "missing"))
    elif len(lines) != manifest.num_failed or not all(map(_failure_line, lines)):
        problems.append((FAILURES, f"holds {len(lines)} lines, not the manifest's {manifest.num_failed} failures "
                                   "as JSON objects"))
    if manifest.tfds == "written":
        written = tfds_metadata.render(manifest, "dataset", "1.0.0", "")  # the names; the texts vary by version
        problems += [(name, "missing (the manifest says TFDS metadata was written)")
                     for name in written if not files.exists(f"{root}/{name}")]
    return problems


def _text_or_none(path: str) -> Optional[str]:
    try:
        return files.read_text(path)
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def _failure_line(line: str) -> bool:
    try:
        failure = json.loads(line)
    except ValueError:
        return False
    return isinstance(failure, dict) and {"uri", "stage", "error"} <= failure.keys()


def check_shard(root: str, shard: ShardToCheck) -> ShardCheck:
    """Read one shard to the end (or to its first broken record) and list its problems."""
    path = f"{root}/{shard.file}"
    if not files.exists(path):
        return ShardCheck(shard.file, 0, ("missing: the manifest lists it but there is no such file",))
    problems: List[str] = []
    offsets: List[str] = []
    count = 0
    stored: Optional[ChecksummedReader] = None
    try:
        with files.open_read(path) as raw:
            stored = ChecksummedReader(raw)
            handle = gzip.GzipFile(fileobj=stored, mode="rb") if path.endswith(".gz") else stored
            for offset, record in iter_records(handle):  # type: ignore[arg-type]
                offsets.append(f"{offset} {framed_length(record)}")
                try:
                    issue = check_record(parse_example(record), shard.class_ids)
                except Exception as exc:  # noqa: BLE001 - not an Example at all
                    issue = f"not a tf.train.Example ({type(exc).__name__})"
                if issue:
                    problems.append(f"record {count} (byte {offset}): {issue}")
                count += 1
            stored.drain()
    except CorruptRecord as exc:
        problems.append(str(exc))
    except (OSError, EOFError, zlib.error) as exc:  # e.g. a broken gzip stream, an unreadable file
        problems.append(f"unreadable after record {count}: {type(exc).__name__}: {exc}")
    if (not problems and stored is not None and shard.crc32c is not None
            and (stored.size, stored.crc32c) != (shard.size, shard.crc32c)):
        problems.append(f"its bytes are not those the manifest recorded ({stored.size} bytes, CRC32C "
                        f"{stored.crc32c:08x}; recorded {shard.size}, {shard.crc32c:08x}): a shard of another run "
                        "in its place, or the file changed since")
    if count != shard.expected:
        problems.append(f"holds {count} readable records, the manifest says {shard.expected}")
    if shard.index:
        problems.extend(_check_index(f"{root}/{shard.index}", offsets))
    return ShardCheck(shard.file, count, tuple(problems))


def _check_index(path: str, offsets: List[str]) -> List[str]:
    name = path.rsplit("/", 1)[-1]
    if not files.exists(path):
        return [f"index {name} is missing"]
    with files.open_read(path) as handle:
        lines = handle.read().decode("ascii", "replace").split()
    listed = [" ".join(lines[i:i + 2]) for i in range(0, len(lines), 2)]
    return [] if listed == offsets else [f"index {name} does not match the records"]
