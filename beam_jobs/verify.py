"""`image2tfrecord verify OUTPUT`: a Beam job that reads every shard and checks it end to end.

Per shard: the framing and both CRCs of every record, every Example parses, every image
decodes to the height, width and channels its features declare, the .idx file (if any)
matches, and the count matches the manifest. A missing shard is a problem of its own.
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
import uuid
import zlib
from typing import Callable, Iterator, List, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from beam_jobs.config import JobConfig
from transforms.examples import parse_example
from transforms.reading import check_record, load_manifest, open_shard
from transforms.tfrecord_io import CorruptRecord, framed_length, iter_records

_NAMESPACE = "image2tfrecord"


@dataclasses.dataclass(frozen=True)
class ShardToCheck:
    split: str
    file: str
    expected: int
    index: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class ShardCheck:
    """What verify found in one shard."""

    file: str
    records: int
    problems: Tuple[str, ...]


def shards_to_check(manifest: dict) -> List[ShardToCheck]:
    return [ShardToCheck(split, shard["file"], shard["num_examples"], shard.get("index"))
            for split, entry in manifest["splits"].items() for shard in entry["shards"]]


def check_shard(root: str, shard: ShardToCheck) -> ShardCheck:
    """Read one shard to the end (or to its first broken record) and list its problems."""
    path = f"{root}/{shard.file}"
    if not FileSystems.exists(path):
        return ShardCheck(shard.file, 0, ("missing: the manifest lists it but there is no such file",))
    problems: List[str] = []
    offsets: List[str] = []
    count = 0
    try:
        with open_shard(path) as handle:
            for offset, record in iter_records(handle):
                offsets.append(f"{offset} {framed_length(record)}")
                try:
                    issue = check_record(parse_example(record))
                except Exception as exc:  # noqa: BLE001 - not an Example at all
                    issue = f"not a tf.train.Example ({type(exc).__name__})"
                if issue:
                    problems.append(f"record {count} (byte {offset}): {issue}")
                count += 1
    except CorruptRecord as exc:
        problems.append(str(exc))
    except (OSError, EOFError, zlib.error) as exc:  # e.g. a broken gzip stream
        problems.append(f"unreadable after record {count}: {type(exc).__name__}: {exc}")
    if count != shard.expected:
        problems.append(f"holds {count} readable records, the manifest says {shard.expected}")
    if shard.index:
        problems.extend(_check_index(f"{root}/{shard.index}", offsets))
    return ShardCheck(shard.file, count, tuple(problems))


def _check_index(path: str, offsets: List[str]) -> List[str]:
    if not FileSystems.exists(path):
        return [f"index {path.rsplit('/', 1)[-1]} is missing"]
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        lines = handle.read().decode("ascii", "replace").split()
    listed = [" ".join(lines[i:i + 2]) for i in range(0, len(lines), 2)]
    return [] if listed == offsets else [f"index {path.rsplit('/', 1)[-1]} does not match the records"]


class _CheckShardFn(beam.DoFn):
    def __init__(self, root: str) -> None:
        self._root = root
        self._records = Metrics.counter(_NAMESPACE, "records_verified")
        self._bad = Metrics.counter(_NAMESPACE, "shards_with_problems")

    def process(self, shard: ShardToCheck) -> Iterator[ShardCheck]:
        result = check_shard(self._root, shard)
        self._records.inc(result.records)
        if result.problems:
            self._bad.inc()
        yield result


def build_verify(p: beam.Pipeline, root: str, shards: List[ShardToCheck], report_prefix: str) -> None:
    """Check every shard in parallel and write one JSON line per shard."""
    (
        p
        | "Shards" >> beam.Create(shards)
        | "Spread" >> beam.Reshuffle()
        | "CheckShard" >> beam.ParDo(_CheckShardFn(root))
        | "ToJson" >> beam.Map(lambda c: json.dumps(dataclasses.asdict(c)))
        | "WriteReport" >> beam.io.WriteToText(report_prefix, file_name_suffix=".jsonl")
    )


def report_prefix(cfg: JobConfig) -> str:
    """Where the per-shard report goes: a local temp folder, or temp_location on Dataflow."""
    if cfg.runner == "dataflow":
        return f"{cfg.dataflow.temp_location.rstrip('/')}/verify-{uuid.uuid4().hex[:12]}/report"
    return f"{tempfile.mkdtemp(prefix='image2tfrecord-verify-')}/report"


def read_report(prefix: str) -> List[ShardCheck]:
    found = FileSystems.match([f"{prefix}*.jsonl"])[0].metadata_list
    checks = []
    for meta in found:
        with FileSystems.open(meta.path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            for line in handle.read().decode("utf-8").splitlines():
                raw = json.loads(line)
                checks.append(ShardCheck(raw["file"], raw["records"], tuple(raw["problems"])))
    return sorted(checks, key=lambda c: c.file)


def run_verify(cfg: JobConfig, root: str, say: Callable[[str], None]) -> int:
    """Verify the dataset at `root`; 0 when sound, 1 with every bad shard and record named."""
    from beam_jobs.convert import new_pipeline
    from beam_jobs.runner import pipeline_options

    manifest = load_manifest(root)
    shards = shards_to_check(manifest)
    prefix = report_prefix(cfg)
    pipeline = new_pipeline(cfg, pipeline_options(cfg))
    build_verify(pipeline, root, shards, prefix)
    pipeline.run().wait_until_finish()
    checks = read_report(prefix)
    bad = [c for c in checks if c.problems]
    total = sum(c.records for c in checks)
    for check in bad:
        for problem in check.problems:
            say(f"{check.file}: {problem}")
    if bad:
        say(f"verify failed: {len(bad)} of {len(checks)} shards have problems ({total} records read)")
        return 1
    say(f"verify passed: {len(checks)} shards, {total} records, every image decodes as declared")
    return 0
