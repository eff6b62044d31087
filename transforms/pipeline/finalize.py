"""Finalize: the run's dataset committed as a transaction (transforms/storage/transaction).

Runs once, after every shard is written (shards, failures and the dataset facts arrive
as side inputs): failures.jsonl, labels.txt and the manifest are staged beside the shards
in the temp area, then one journaled commit moves them into place, the manifest last, and
removes what is left of the previous dataset. Run again (a retried bundle), it finds its
own commit done, or finishes it.

A run with more failures than `errors.max_failed_fraction` allows does not replace a dataset
that is there: it is held, staged whole in its temp area, and the previous dataset stays.
"""
from __future__ import annotations

import collections
import dataclasses
import json
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

import apache_beam as beam

from transforms.dataset import tfds_metadata
from transforms.dataset.labels import LABEL_MAP, label_map_pbtxt, labels_lines, labels_txt
from transforms.dataset.manifest import Manifest, ShardEntry, SplitEntry
from transforms.dataset.names import FAILURES, INDEX_FOLDER, LABELS, MANIFEST, SHARD_PATTERN
from transforms.elements import Failure
from transforms.errors import DatasetError
from transforms.pipeline.facts import DatasetFacts
from transforms.pipeline.write_shards import ShardResult
from transforms.readback.image_records import read_manifest
from transforms.records.features import feature_spec
from transforms.storage import files, shard_markers, transaction


@dataclasses.dataclass(frozen=True)
class OutputSettings:
    """Where the finished dataset goes, and what the manifest records about how it was made."""

    path: str
    temp_dir: str
    config: Mapping[str, Any]
    versions: Mapping[str, str]
    run_id: str = ""
    tfds_blocker: Optional[str] = None  # why no TFDS metadata is written (None: it is)
    detection: bool = False  # records carry objects; label_map.pbtxt is written
    masks: bool = False  # records carry image/segmentation/class/*
    max_failed_fraction: float = 1.0  # over it, a dataset already at `path` is kept and this run held


def _existing_shards(path: str) -> List[str]:
    """The files of the dataset at `path`: shards, indexes, TFDS metadata."""
    found = files.list_files(f"{path}/*") + files.list_files(f"{path}/{INDEX_FOLDER}/*")
    ours = (*tfds_metadata.FILES, LABEL_MAP)
    return [p for p in found if SHARD_PATTERN.match(p[len(path) + 1:]) or p[len(path) + 1:] in ours]


def split_entries(results: List[ShardResult]) -> Dict[str, SplitEntry]:
    """Per split: its example count, bytes, classes and its shards in order."""
    grouped: Dict[str, List[ShardResult]] = {}
    for result in sorted(results, key=lambda r: (r.split, r.index)):
        grouped.setdefault(result.split, []).append(result)
    splits = {}
    for split, shards in grouped.items():
        classes: Dict[str, int] = {}
        for result in shards:
            for name, count in result.classes:
                classes[name] = classes.get(name, 0) + count
        splits[split] = SplitEntry(
            num_examples=sum(r.num_examples for r in shards), num_shards=shards[0].num_shards,
            num_bytes=sum(r.num_bytes for r in shards), classes=classes,
            shards=tuple(ShardEntry(r.file_name, r.num_examples, r.index_name, r.size, r.crc32c) for r in shards))
    return splits


def _summed(pairs: Iterable[Tuple[str, int]]) -> Dict[str, int]:
    totals: Dict[str, int] = {}
    for name, count in pairs:
        totals[name] = totals.get(name, 0) + count
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


class _FinalizeFn(beam.DoFn):
    def __init__(self, settings: OutputSettings) -> None:
        self._settings = settings

    def process(self, _: Any, results: List[ShardResult], failures: Iterable[Failure],
                facts: DatasetFacts) -> Iterator[Manifest]:
        s = self._settings
        transaction.roll_forward(s.path)  # a commit of an earlier attempt, cut short
        done = self._committed()
        if done is not None:  # this run's commit is done already (a retried Finalize)
            yield done
            return
        reasons = self._write_failures(f"{s.temp_dir}/{FAILURES}", failures)
        files.write_text(f"{s.temp_dir}/{LABELS}", labels_txt(labels_lines(facts.labels)))
        manifest = self._manifest(results, reasons, facts)
        files.write_text(f"{s.temp_dir}/{MANIFEST}", manifest.dumps(), mime_type="application/json")
        staged = [FAILURES, LABELS]
        if s.detection:
            files.write_text(f"{s.temp_dir}/{LABEL_MAP}", label_map_pbtxt(facts.labels))
            staged.append(LABEL_MAP)
        if s.tfds_blocker is None:
            dataset = s.config.get("dataset", {})
            for name, text in tfds_metadata.render(manifest, dataset.get("name") or "dataset",
                                                   dataset.get("version", "1.0.0"),
                                                   dataset.get("description", "")).items():
                files.write_text(f"{s.temp_dir}/{name}", text)
                staged.append(name)
        if manifest.failed_fraction > s.max_failed_fraction and files.exists(f"{s.path}/{MANIFEST}"):
            shard_markers.forget_failed(r.temp_path for r in results)  # held: a rerun retries those shards
            yield manifest
            return
        moves = [(r.temp_path, f"{s.path}/{r.file_name}") for r in results]
        moves += [(r.index_path, f"{s.path}/{r.index_name}") for r in results if r.index_path]
        moves += [(f"{s.temp_dir}/{name}", f"{s.path}/{name}") for name in staged]
        final = {target for _, target in moves}
        stale = tuple(p for p in _existing_shards(s.path) if p not in final)
        transaction.commit(s.path, transaction.Journal(
            s.run_id, s.temp_dir, tuple(moves), (f"{s.temp_dir}/{MANIFEST}", f"{s.path}/{MANIFEST}"), stale))
        yield manifest

    def _committed(self) -> Optional[Manifest]:
        """The manifest at the output if this run wrote it."""
        try:
            manifest = read_manifest(self._settings.path)
        except DatasetError:
            return None
        return manifest if self._settings.run_id and manifest.run_id == self._settings.run_id else None

    def _write_failures(self, path: str, failures: Iterable[Failure]) -> Dict[str, int]:
        """failures.jsonl, a JSON line per failure (streamed); the count per reason."""
        reasons: Dict[str, int] = collections.Counter()
        with files.create(path, mime_type="application/x-ndjson") as out:
            for failure in failures:
                reasons[failure.reason] += 1
                out.write((json.dumps(failure.to_json(), sort_keys=True) + "\n").encode("utf-8"))
        return dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))

    def _manifest(self, results: List[ShardResult], reasons: Mapping[str, int], facts: DatasetFacts) -> Manifest:
        splits = split_entries(results)
        return Manifest(
            splits=splits,
            num_examples=sum(split.num_examples for split in splits.values()),
            num_failed=sum(reasons.values()),
            num_listed=facts.num_listed,
            num_truncated=sum(r.num_truncated for r in results),
            failures_by_reason=dict(reasons),
            labels=tuple(labels_lines(facts.labels)),
            features=feature_spec(facts.kinds, bool(facts.labels), self._settings.detection, self._settings.masks,
                                  facts.instance_masks),
            config=dict(self._settings.config),
            versions=dict(self._settings.versions),
            run_id=self._settings.run_id,
            tfds=self._settings.tfds_blocker or "written",
            task="detection" if self._settings.detection else "classification",
            boxes_dropped=_summed(reason for r in results for reason in r.dropped),
            frames_guessed=sum(r.frames_guessed for r in results),
        )


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
