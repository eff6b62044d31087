"""WriteShards: ImageRefs -> TFRecord shards, converting each shard's images as it writes.

Only the small ImageRefs are grouped (by hash bucket to rank them, then by shard), never
the encoded images, and they are grouped packed, a bucket's refs at a time; on the local
runner, which keeps all it groups in memory, the packs wait in spill files and only where
they are is grouped (storage/spill.py): memory stays flat, and nothing heavy is shuffled on
Dataflow. One DoFn call per shard converts its images in hash order, with a few threads,
and streams the records into a temp file that Finalize renames into place.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import itertools
import os
from typing import Any, Callable, Counter, Dict, Generator, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from transforms.dataset.framing import framed_length, write_record
from transforms.dataset.names import index_file_name, shard_file_name
from transforms.dataset.sharding import DEFAULT_TARGET_SHARD_BYTES, SplitPlan, bucket_of, plan_shards, ref_order
from transforms.elements import STAGE_LIST, STAGES, Failure, ImageRef, pack_refs, unpack_refs
from transforms.image.spec import ImageSpec
from transforms.inputs.paths import is_remote
from transforms.pipeline.facts import DatasetFacts
from transforms.pipeline.metrics import FAILURES, counter
from transforms.runtime.native import TRIM_EVERY, release_free_memory
from transforms.runtime.ordered_map import ordered_runs_map
from transforms.runtime.pool import shared_pool
from transforms.runtime.progress import PROGRESS
from transforms.runtime.work import DetectionSpec, RecordSettings, mean_record_bytes, record_label, records_for
from transforms.storage import files
from transforms.storage.shard_markers import (
    Checksummed,
    ShardMarker,
    file_checksum,
    finished,
    shard_digest,
    write_marker,
)
from transforms.storage.spill import Packed, SpillReader, SpillWriter, part_of

Shards = Union[None, int, Tuple[Tuple[str, Optional[int]], ...]]


@dataclasses.dataclass(frozen=True)
class ShardSettings:
    """How shards are cut and written."""

    temp_dir: str
    image: ImageSpec
    shards: Shards = None  # None: about `target_bytes` per shard; or per split ((split, n or None), ...)
    min_records: int = 1  # no shard holds fewer records (unless its split does)
    detection: Optional[DetectionSpec] = None  # boxes from input.annotations (class ids from the facts)
    mask_ignore: Optional[int] = None  # masks from input.masks: the letterbox's class
    target_bytes: int = DEFAULT_TARGET_SHARD_BYTES
    compression: str = "none"
    index: bool = False  # write DALI / `tfrecord` package .idx files (uncompressed shards)
    threads: int = 0  # 0: auto (see converter_threads), resolved on the worker that writes
    processes: int = 0  # worker processes for decode/encode; 0: in the writer's threads
    spill_dir: Optional[str] = None  # a local folder for refs while they are grouped (storage/spill.py)


@dataclasses.dataclass(frozen=True)
class ShardResult:
    """One shard written to its temp file."""

    split: str
    index: int
    num_shards: int
    temp_path: str
    file_name: str  # its name once Finalize moves it into place
    num_examples: int
    num_bytes: int
    index_path: Optional[str] = None
    classes: Tuple[Tuple[str, int], ...] = ()  # records per class name in this shard
    num_truncated: int = 0  # records of sources that ran short (allow_truncated)
    dropped: Tuple[Tuple[str, int], ...] = ()  # boxes left out, by reason (detection)
    frames_guessed: int = 0  # records whose boxes' frame was the default (detection)
    size: Optional[int] = None  # the file's bytes as stored, and their CRC32C (the manifest records them)
    crc32c: Optional[int] = None

    @property
    def index_name(self) -> Optional[str]:
        return index_file_name(self.file_name) if self.index_path else None


class _PackByBucketFn(beam.DoFn):
    """ImageRef -> (bucket, Packed: the bundle's refs of that bucket), at the bundle's end or
    every PACK_BYTES. With a spill folder (the local runner), the packs go to a file there and
    only where they are is grouped (storage/spill.py)."""

    def __init__(self, spill_dir: Optional[str]) -> None:
        self._spill_dir = spill_dir

    def start_bundle(self) -> None:
        self._buckets: Dict[int, bytearray] = {}
        self._held = 0

    def process(self, ref: ImageRef) -> Iterator:
        data = pack_refs([ref])
        self._buckets.setdefault(bucket_of(ref.key), bytearray()).extend(data)
        self._held += len(data)
        if self._held >= PACK_BYTES:
            yield from self._flush(lambda value: value)

    def finish_bundle(self) -> Iterator:
        yield from self._flush(GlobalWindows.windowed_value)  # finish_bundle's outputs are WindowedValues

    def _flush(self, wrap: Callable[[Any], Any]) -> Iterator:
        buckets, self._buckets, self._held = self._buckets, {}, 0
        spill = SpillWriter(self._spill_dir)
        packs = [(bucket, spill.put(bytes(data))) for bucket, data in sorted(buckets.items())]
        spill.close()
        for pack in packs:
            yield wrap(pack)


PACK_BYTES = 8 * 1024 * 1024  # packed refs a packing step holds before it hands them on


class _OneRefPerKeyFn(beam.DoFn):
    """(bucket, Packs) -> ((split, bucket), (Packed, each ref's end in it)) in shard order, one ref
    per key: a key listed more than once (in one split or several) keeps its first ref in
    `ref_order` (by label, then split); the others are `list` failures naming the one kept."""

    def __init__(self, spill_dir: Optional[str]) -> None:
        self._spill_dir = spill_dir
        self._duplicates = counter("images_failed_list")

    def start_bundle(self) -> None:
        self._spill = SpillWriter(self._spill_dir)
        self._reader = SpillReader()

    def finish_bundle(self) -> None:
        self._spill.close()
        self._reader.close()

    def process(self, element: Tuple[int, Iterable[Packed]]) -> Iterator:
        bucket, packs = element
        per_split: Dict[str, List[bytes]] = {}
        kept: Optional[ImageRef] = None
        refs = [pair for packed in packs for pair in unpack_refs(self._reader.read(packed))]
        for ref, data in sorted(refs, key=lambda pair: ref_order(pair[0])):
            if kept is not None and ref.key == kept.key:
                self._duplicates.inc()
                yield beam.pvalue.TaggedOutput(FAILURES, Failure.of(
                    ref.uri, STAGE_LIST, "DuplicateKey",
                    f"{ref.key!r} is listed more than once; kept the one in split {kept.split!r}"
                    + (f" labelled {kept.label!r}" if kept.label is not None else "")))
                continue
            kept = ref
            per_split.setdefault(ref.split, []).append(data)
        for split, unique in per_split.items():
            yield (split, bucket), (self._spill.put(b"".join(unique)), tuple(itertools.accumulate(map(len, unique))))


def _assign(element: Tuple[Tuple[str, int], Tuple[Packed, Tuple[int, ...]]], plans: Mapping[str, SplitPlan]
            ) -> Iterator:
    """((split, bucket), (Packed, ends)) -> ((split, shard, num_shards), the part of Packed in that
    shard) by each ref's rank: one element a shard the bucket reaches (usually one)."""
    (split, bucket), (packed, ends) = element
    plan = plans[split]
    for shard, run in itertools.groupby(range(len(ends)), key=lambda index: plan.shard_of(bucket, index)):
        indexes = list(run)
        start = ends[indexes[0] - 1] if indexes[0] else 0
        yield (split, shard, plan.num_shards), part_of(packed, start, ends[indexes[-1]])


class _WriteShardFn(beam.DoFn):
    """((split, shard, n), Packs) -> a temp TFRecord file and its ShardResult; failures aside."""

    def __init__(self, settings: ShardSettings) -> None:
        self._settings = settings
        self._converted = counter("images_converted")
        self._bytes = counter("bytes_written")
        self._failed = {stage: counter(f"images_failed_{stage}") for stage in STAGES}
        self._reused = counter("shards_reused")

    def process(self, element: Tuple[Tuple[str, int, int], Iterable[Packed]],
                facts: DatasetFacts) -> Iterator:
        (split, index, num_shards), packs = element
        s = self._settings
        name = shard_file_name(split, index, num_shards, s.compression)
        path = f"{s.temp_dir}/{name}"
        with SpillReader() as reader:
            ordered = sorted((ref for packed in packs for ref, _ in unpack_refs(reader.read(packed))), key=ref_order)
        digest = shard_digest(name, ordered, facts.labels, facts.kinds)
        done = finished(path, digest)
        if done is None:
            done = yield from self._write(path, ordered, digest, facts)
        else:  # finished by an interrupted run of the same input and config
            self._reused.inc()
            PROGRESS.advance(converted=done.num_examples, failed=len(done.failures))
            for failure in done.failures:
                self._failed[failure.stage].inc()
                yield beam.pvalue.TaggedOutput(FAILURES, failure)
        yield ShardResult(split, index, num_shards, path, name, done.num_examples, done.num_bytes,
                          f"{s.temp_dir}/{index_file_name(name)}" if done.indexed else None, done.classes,
                          done.num_truncated, done.dropped, done.frames_guessed, done.size, done.crc32c)

    def _write(self, path: str, ordered: List[ImageRef], digest: str,
               facts: DatasetFacts) -> Generator[Any, None, ShardMarker]:
        """Convert and write one shard (to a partial file renamed when whole), its index and,
        last, its marker; yield its failures."""
        s = self._settings
        count = size = truncated = guessed = 0
        offsets: List[str] = []
        failures: List[Failure] = []
        classes: Counter = collections.Counter()  # records per class; objects per class (detection)
        dropped: Counter = collections.Counter()
        threads = converter_threads(s, remote=bool(ordered) and is_remote(ordered[0].uri))
        partial = f"{path}.partial"
        gzip = s.compression == "gzip"
        with _removed_if_unfinished(partial), files.create(partial, gzip=gzip) as raw:
            handle = Checksummed(raw)  # the CRC of the bytes on disk, unless gzip compresses them after
            convert, longest = self._converter(facts)
            sized = lambda: run_length(count, size, longest)  # noqa: B023,E731 - the counts as each run is cut
            for ref, record in ordered_runs_map(convert, ordered, threads, sized):
                if isinstance(record, Failure):
                    self._failed[record.stage].inc()
                    PROGRESS.advance(failed=1)
                    failures.append(record)
                    yield beam.pvalue.TaggedOutput(FAILURES, record)
                    continue
                PROGRESS.advance(converted=1)
                write_record(handle, record.data)
                truncated += record.truncated
                if s.detection is not None:
                    if record.objects:
                        classes.update(record.objects)
                    if record.dropped:
                        dropped.update(record.dropped)
                    guessed += record.frame_guessed
                elif ref.label is not None:
                    classes[ref.label] += 1
                if s.index:
                    offsets.append(f"{size} {framed_length(record.data)}\n")  # offset and framed length
                count += 1
                size += framed_length(record.data)
                if count % TRIM_EVERY == 0:
                    release_free_memory()  # keeps peak memory flat over long runs
        files.rename([partial], [path])
        if s.index:
            _write_index(f"{s.temp_dir}/{index_file_name(path.rsplit('/', 1)[-1])}", offsets)  # index/ folder
        self._converted.inc(count)
        self._bytes.inc(size)
        checksum = file_checksum(path) if gzip else (handle.size, handle.crc32c)
        marker = ShardMarker(digest, count, size, tuple(sorted(classes.items())), truncated, s.index,
                             *checksum, tuple(failures), tuple(sorted(dropped.items())), guessed)
        write_marker(path, marker)
        return marker

    def _converter(self, facts: DatasetFacts) -> Tuple[Callable[[List[ImageRef]], list], int]:
        """(refs -> their records or Failures, how many refs a thread takes at a time): in the
        threads, RUN at a time (runtime.work.records_for); in worker processes, one."""
        s = self._settings
        labels, kinds = facts.labels, facts.kinds
        detection = None
        if s.detection is not None:  # the class ids are the dataset's, known once it is listed
            detection = dataclasses.replace(s.detection, class_ids=tuple(sorted(labels.items())),
                                            instance_masks=facts.instance_masks)
        settings = RecordSettings(s.image, labels, kinds, detection, s.mask_ignore)
        if s.processes:
            pool = shared_pool(s.processes)
            return (lambda refs: [pool.record(ref, s.image, record_label(ref, settings), kinds, detection,
                                              s.mask_ignore) for ref in refs]), 1
        return functools.partial(records_for, settings=settings), RUN


@contextlib.contextmanager
def _removed_if_unfinished(path: str) -> Iterator[None]:
    """A shard cut short (disk full, interrupted) leaves no partial file behind."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            files.delete([path])
        raise


RUN = 16  # refs a converting thread takes at a time at most (runtime.work.records_for)
RUN_BYTES = 2 * 1024 * 1024  # and about this many bytes of records: a run of raw or PNG output is shorter
REMOTE_THREADS = 8  # per shard writer for inputs in a bucket (see converter_threads)


def run_length(records: int, record_bytes: int, most: int) -> int:
    """How many refs the next run takes: `most`, or fewer where records are large, as a run holds
    its records until the writer takes them (about RUN_BYTES a run); one until a record is known."""
    return 1 if not records else max(1, min(most, RUN_BYTES * records // max(1, record_bytes)))


def converter_threads(settings: ShardSettings, remote: bool) -> int:
    """Threads per shard writer. `auto` (0): one per core here for local files (measured: more
    threads than cores only add GIL contention, docs/performance.md); REMOTE_THREADS
    for inputs in a bucket, whose reads wait on the network (a fixed number, not per core:
    Dataflow runs a writer process per core already, and each thread may hold a decoded
    image). With worker processes, twice their number, to keep them busy."""
    if settings.processes:
        return max(settings.threads, 2 * settings.processes)
    if settings.threads:
        return settings.threads
    return REMOTE_THREADS if remote else (os.cpu_count() or 1)


def _write_index(path: str, offsets: List[str]) -> None:
    """The `.idx` of a shard: one `offset length` line per record."""
    with files.create(f"{path}.partial") as handle:
        handle.write("".join(offsets).encode("ascii"))
    files.rename([f"{path}.partial"], [path])


def _count(element: Tuple[Tuple[str, int], Tuple[Packed, Tuple[int, ...]]]) -> Tuple[Tuple[str, int], int]:
    return element[0], len(element[1][1])


def _plan(counts: Mapping[Tuple[str, int], int], settings: ShardSettings,
          facts: DatasetFacts) -> Dict[str, SplitPlan]:
    """Shard counts and ranks per split from the unique refs per (split, bucket);
    `shards: auto` sizes them from the facts' sample."""
    fixed = settings.shards
    sized = fixed is None or (isinstance(fixed, tuple) and (any(n is None for _, n in fixed)
                                                           or {s for s, _ in counts} - {s for s, _ in fixed}))
    record_bytes = mean_record_bytes(facts.sample, settings.image) if sized else None
    # An index of one line is one the `tfrecord` package cannot read: indexed shards hold two or more.
    minimum = max(settings.min_records, 2 if settings.index else 1)
    PROGRESS.set_total(sum(counts.values()))
    return plan_shards(counts, fixed, record_bytes, settings.target_bytes, minimum)


class WriteShards(beam.PTransform):
    """ImageRefs -> ShardResults (main) and Failures (`failures`).

    `facts` is the singleton DatasetFacts of the whole input (labels, kinds, the sample).
    """

    def __init__(self, settings: ShardSettings, facts: beam.PCollection) -> None:
        super().__init__()
        self._settings = settings
        self._facts = facts

    def expand(self, refs: beam.PCollection):  # -> (results, failures): Beam warns on tuple hints
        s = self._settings
        facts = beam.pvalue.AsSingleton(self._facts)
        unique = (
            refs
            | "PackByBucket" >> beam.ParDo(_PackByBucketFn(s.spill_dir))
            # -> (bucket, Packed ImageRefs): storage/spill.py
            | "GroupBuckets" >> beam.GroupByKey()
            | "OneRefPerKey" >> beam.ParDo(_OneRefPerKeyFn(s.spill_dir)).with_outputs(FAILURES, main="unique")
        )
        # -> ((split, bucket), (Packed ImageRefs in shard order, where each ends))
        plans = (
            unique.unique
            | "CountBuckets" >> beam.Map(_count)
            | "AllCounts" >> beam.combiners.ToDict()
            | "PlanShards" >> beam.Map(_plan, s, facts)
        )
        # -> {split: SplitPlan}
        written = (
            unique.unique
            | "AssignShards" >> beam.FlatMap(_assign, beam.pvalue.AsSingleton(plans))
            # -> ((split, shard, num_shards), Packed ImageRefs)
            | "GroupShards" >> beam.GroupByKey()
            | "ConvertAndWrite" >> beam.ParDo(_WriteShardFn(s), facts).with_outputs(FAILURES, main="shards")
        )
        # -> ShardResult
        failures = (unique.failures, written.failures) | "ShardFailures" >> beam.Flatten()
        return written.shards, failures
