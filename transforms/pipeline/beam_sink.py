"""The alternative sink: convert in parallel, then Beam's own WriteToTFRecord per split.

Kept selectable (`output.sink: beam`) for comparison and for runners where its costs are
acceptable. What it costs, measured and by design: with a fixed shard count it groups every
*encoded record* by a random shard key (the local runner holds all of them in memory,
docs/decisions.md has the figures); records land in shards at random, so shard sizes vary and reruns
differ byte-wise; `output.shards: auto` lets the runner pick the count (0 to Beam). The
default sink (write_shards.py) groups only ImageRefs and has none of these costs.
"""
from __future__ import annotations

from typing import Iterator, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes

from transforms.dataset.framing import framed_length, iter_records
from transforms.dataset.sharding import shards_for
from transforms.elements import STAGE_LIST, STAGES, Failure, ImageRef
from transforms.pipeline.facts import DatasetFacts
from transforms.pipeline.metrics import FAILURES, counter
from transforms.pipeline.write_shards import ShardResult, ShardSettings
from transforms.readback.image_records import open_shard
from transforms.runtime.work import RecordSettings, record_for

_NAME = "-SSSSS-of-NNNNN"


class _RecordFn(beam.DoFn):
    """ImageRef -> (split, serialized Example), or a Failure aside."""

    def __init__(self, settings: ShardSettings) -> None:
        self._settings = settings
        self._converted = counter("images_converted")
        self._failed = {stage: counter(f"images_failed_{stage}") for stage in STAGES}

    def process(self, ref: ImageRef, facts: DatasetFacts) -> Iterator:
        record = record_for(ref, RecordSettings(self._settings.image, facts.labels, facts.kinds))
        if isinstance(record, Failure):
            self._failed[record.stage].inc()
            yield beam.pvalue.TaggedOutput(FAILURES, record)
            return
        self._converted.inc()
        yield ref.split, record.data


def count_records(path: str) -> Tuple[int, int]:
    """(records, framed bytes) of a TFRecord file WriteToTFRecord wrote."""
    count = size = 0
    with open_shard(path) as handle:
        for _, record in iter_records(handle):
            count += 1
            size += framed_length(record)
    return count, size


def shard_result(path: str, split: str) -> ShardResult:
    """Describe one file WriteToTFRecord wrote (its name carries index and count)."""
    name = path.rsplit("/", 1)[-1]
    _, index, _, total = name.split(".")[0].rsplit("-", 3)
    records, size = count_records(path)
    return ShardResult(split, int(index), int(total), path, name, records, size)


class _KnownSplitFn(beam.DoFn):
    """Refs of the splits the sink was built for; others become `list` failures."""

    def __init__(self, splits: Tuple[str, ...]) -> None:
        self._splits = splits

    def process(self, ref: ImageRef) -> Iterator:
        if ref.split in self._splits:
            yield ref
            return
        yield beam.pvalue.TaggedOutput(FAILURES, Failure.of(ref.uri, STAGE_LIST, "UnknownSplit", (
            f"split {ref.split!r} is not in splits ({', '.join(self._splits)}), "
            "which output.sink beam needs up front")))


class WriteWithBeamSink(beam.PTransform):
    """ImageRefs -> ShardResults and Failures, through WriteToTFRecord, one per split."""

    def __init__(self, settings: ShardSettings, splits: Tuple[str, ...], facts: beam.PCollection) -> None:
        super().__init__()
        self._settings = settings
        self._splits = splits
        self._facts = facts

    def expand(self, refs: beam.PCollection):  # -> (results, failures): Beam warns on tuple hints
        s = self._settings
        known = refs | "KnownSplits" >> beam.ParDo(_KnownSplitFn(self._splits)).with_outputs(FAILURES, main="refs")
        converted = (
            known.refs
            | "Spread" >> beam.Reshuffle()
            | "Convert" >> beam.ParDo(_RecordFn(s), beam.pvalue.AsSingleton(self._facts))
            .with_outputs(FAILURES, main="records")
        )
        # -> (split, serialized Example)
        suffix = ".tfrecord" + (".gz" if s.compression == "gzip" else "")
        compression = CompressionTypes.GZIP if s.compression == "gzip" else CompressionTypes.UNCOMPRESSED
        results = []
        for split in self._splits:
            written = (
                converted.records
                | f"Only_{split}" >> beam.FlatMap(lambda kv, name=split: [kv[1]] if kv[0] == name else [])
                | f"WriteToTFRecord_{split}" >> beam.io.WriteToTFRecord(
                    f"{s.temp_dir}/{split}", compression_type=compression, file_name_suffix=suffix,
                    num_shards=shards_for(s.shards, split) or 0, shard_name_template=_NAME)
                | f"Describe_{split}" >> beam.Map(shard_result, split)
            )
            results.append(written)
        shards = results | "AllShards" >> beam.Flatten()
        failures = (known.failures, converted.failures) | "SinkFailures" >> beam.Flatten()
        return shards, failures
