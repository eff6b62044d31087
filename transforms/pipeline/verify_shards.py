"""VerifyShards: every shard of a dataset checked in parallel, one report line per shard."""
from __future__ import annotations

import dataclasses
import json
from typing import Iterator, List, Optional

import apache_beam as beam

from transforms.pipeline.metrics import counter
from transforms.readback.checks import ShardCheck, ShardToCheck, check_shard


class _CheckShardFn(beam.DoFn):
    """ShardToCheck -> ShardCheck (records read, problems found)."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._records = counter("records_verified")
        self._bad = counter("shards_with_problems")

    def process(self, shard: ShardToCheck) -> Iterator[ShardCheck]:
        result = check_shard(self._root, shard)
        self._records.inc(result.records)
        if result.problems:
            self._bad.inc()
        yield result


class VerifyShards(beam.PTransform):
    """PBegin -> JSON lines of ShardCheck written under `report_prefix`."""

    def __init__(self, root: str, shards: List[ShardToCheck], report_prefix: str,
                 label: Optional[str] = None) -> None:
        super().__init__(label)
        self._root = root
        self._shards = shards
        self._prefix = report_prefix

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return (
            pbegin
            | "Shards" >> beam.Create(self._shards)
            | "Spread" >> beam.Reshuffle()
            | "CheckShard" >> beam.ParDo(_CheckShardFn(self._root))
            # -> ShardCheck(file, records, problems)
            | "ToJson" >> beam.Map(lambda c: json.dumps(dataclasses.asdict(c)))
            | "WriteReport" >> beam.io.WriteToText(self._prefix, file_name_suffix=".jsonl")
        )
