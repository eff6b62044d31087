"""Finalize: shards moved into place, failures.jsonl, labels.txt and manifest.json written.

Runs once, after every shard is written (shards, failures and the dataset facts arrive
as side inputs), so a reader never sees a half-written dataset under its final names.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import re
import shutil
from typing import Any, Dict, Iterable, Iterator, List, Mapping

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from transforms.examples import feature_spec
from transforms.facts import DatasetFacts
from transforms.listing import is_remote, labels_lines
from transforms.types import Failure
from transforms.write_shards import ShardResult

MANIFEST = "manifest.json"
LABELS = "labels.txt"
FAILURES_FILE = "failures.jsonl"
SHARD_PATTERN = re.compile(r"^[A-Za-z0-9_]+-\d{5}-of-\d{5}\.(tfrecord(\.gz)?|idx)$")
MANIFEST_VERSION = 1


@dataclasses.dataclass(frozen=True)
class OutputSettings:
    """Where the finished dataset goes, and what the manifest records about how it was made."""

    path: str
    temp_dir: str
    config: Mapping[str, Any]
    versions: Mapping[str, str]


def _write_text(path: str, text: str) -> None:
    with FileSystems.create(path, mime_type="text/plain",
                            compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(text.encode("utf-8"))


def _existing_shards(path: str) -> List[str]:
    matched = FileSystems.match([f"{path}/*"])[0].metadata_list
    return [m.path for m in matched if SHARD_PATTERN.match(m.path.rsplit("/", 1)[-1])]


def remove_tree(path: str) -> None:
    """Delete a folder and all below it (on object stores: every object under the prefix)."""
    if not is_remote(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    found = FileSystems.match([f"{path.rstrip('/')}/**"])[0].metadata_list
    if found:
        FileSystems.delete([m.path for m in found])


def split_summary(results: List[ShardResult]) -> Dict[str, Dict[str, Any]]:
    """Per split: its example count and its shards in order."""
    splits: Dict[str, Dict[str, Any]] = {}
    for result in sorted(results, key=lambda r: (r.split, r.index)):
        entry = splits.setdefault(result.split, {"num_examples": 0, "num_shards": result.num_shards,
                                                 "num_bytes": 0, "classes": {}, "shards": []})
        entry["num_examples"] += result.num_examples
        entry["num_bytes"] += result.num_bytes
        for name, count in result.classes:
            entry["classes"][name] = entry["classes"].get(name, 0) + count
        shard = {"file": result.file_name, "num_examples": result.num_examples}
        if result.index_name:
            shard["index"] = result.index_name
        entry["shards"].append(shard)
    return splits


class _FinalizeFn(beam.DoFn):
    def __init__(self, settings: OutputSettings) -> None:
        self._settings = settings

    def process(self, _: Any, results: List[ShardResult], failures: Iterable[Failure],
                facts: DatasetFacts) -> Iterator[dict]:
        s = self._settings
        moves = [(r.temp_path, f"{s.path}/{r.file_name}") for r in results]
        moves += [(r.index_path, f"{s.path}/{r.index_name}") for r in results if r.index_path]
        final = {target for _, target in moves}
        stale = [p for p in _existing_shards(s.path) if p not in final]
        if stale:  # only reachable with --overwrite: shards of an earlier run
            FileSystems.delete(stale)
        if moves:
            FileSystems.rename([source for source, _ in moves], [target for _, target in moves])
        reasons = self._write_failures(failures)
        _write_text(f"{s.path}/{LABELS}", "".join(f"{line}\n" for line in labels_lines(facts.labels)))
        manifest = self._manifest(results, reasons, facts)
        _write_text(f"{s.path}/{MANIFEST}", json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        remove_tree(s.temp_dir)
        yield manifest

    def _write_failures(self, failures: Iterable[Failure]) -> Dict[str, int]:
        """failures.jsonl, a JSON line per failure (streamed); the count per reason."""
        reasons: Dict[str, int] = collections.Counter()
        path = f"{self._settings.path}/{FAILURES_FILE}"
        with FileSystems.create(path, mime_type="application/x-ndjson",
                                compression_type=CompressionTypes.UNCOMPRESSED) as out:
            for failure in failures:
                reasons[failure.reason] += 1
                out.write((json.dumps(failure.to_json(), sort_keys=True) + "\n").encode("utf-8"))
        return dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))

    def _manifest(self, results: List[ShardResult], reasons: Mapping[str, int],
                  facts: DatasetFacts) -> Dict[str, Any]:
        splits = split_summary(results)
        examples = sum(split["num_examples"] for split in splits.values())
        failed = sum(reasons.values())
        return {
            "format_version": MANIFEST_VERSION,
            "splits": splits,
            "num_examples": examples,
            "num_failed": failed,
            "num_listed": facts.num_listed,
            "accounted": examples + failed == facts.num_listed,
            "failures_by_reason": dict(reasons),
            "labels": labels_lines(facts.labels),
            "features": feature_spec(facts.kinds, bool(facts.labels)),
            "config": dict(self._settings.config),
            "versions": dict(self._settings.versions),
        }


class Finalize(beam.PTransform):
    """Once everything is written: rename shards, write failures, labels and the manifest."""

    def __init__(self, settings: OutputSettings, shards: beam.PCollection, failures: beam.PCollection,
                 facts: beam.PCollection) -> None:
        super().__init__()
        self._settings = settings
        self._inputs = (shards, failures, facts)

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        shards, failures, facts = self._inputs
        return (
            pbegin
            | "Once" >> beam.Create([None])
            | "WriteManifest" >> beam.ParDo(
                _FinalizeFn(self._settings), beam.pvalue.AsList(shards),
                beam.pvalue.AsIter(failures), beam.pvalue.AsSingleton(facts))
        )
