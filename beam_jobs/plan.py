"""`convert --plan`: what a conversion would do, in seconds, writing nothing.

The input is listed here, in this process, with the same pure functions the job uses
(layouts, listing rows, labels, splits, one record per key, the shard plan), so the
plan's counts are the job's. A small sample, the one `output.shards: auto` sizes from, is
converted in memory to measure the record size and the speed.
"""
from __future__ import annotations

import collections
import dataclasses
import heapq
import os
import time
from typing import Any, Callable, Counter, Dict, Iterable, Iterator, List, Optional, Tuple

import yaml

from beam_jobs.config import JobConfig, config_as_dict
from beam_jobs.inputs import check_annotations, check_cloud_access, label_rule, resolve_input
from transforms.dataset.labels import LabelRule, label_ref
from transforms.dataset.manifest import Manifest
from transforms.dataset.sharding import ref_order, shard_count, shards_for
from transforms.elements import Failure, ImageRef
from transforms.errors import DatasetError
from transforms.inputs.errors import ListingError
from transforms.inputs.input_plan import InputPlan
from transforms.inputs.layouts import SPLIT_LAYOUTS, has_image_extension, ref_from_folder
from transforms.inputs.listing_files import listing_rows, ref_from_row, text_lines
from transforms.inputs.pairing import stem
from transforms.inputs.paths import dirname, is_remote, is_utf8, name_not_utf8, relative_to
from transforms.inputs.splits import SplitRule, assign_split, exact_splits
from transforms.readback.image_records import read_manifest
from transforms.runtime.annotation_files import (
    Join,
    Named,
    joined,
    mask_files,
    packed_items,
    with_annotation,
    with_mask,
    yolo_refs,
)
from transforms.runtime.work import sample_records
from transforms.storage import files

SAMPLE = 64  # as transforms/pipeline/facts.SAMPLE_SIZE: the refs `auto` sizes shards from
FIXED_SECONDS = 1.5  # a local run's fixed cost (Beam's import, the runner), docs/performance.md
SHOWN_CLASSES = 10


@dataclasses.dataclass
class Listed:
    refs: List[ImageRef]
    files: int = 0  # files looked at (folders and globs)
    skipped: int = 0  # not taken by input.extensions
    failed: Counter = dataclasses.field(default_factory=collections.Counter)  # list failures by reason


def _paths(plan: InputPlan) -> Iterator[str]:
    if plan.kind == "glob":
        yield from files.list_files(plan.pattern)
    elif is_remote(plan.root):
        yield from (p for p in files.iter_remote(plan.root)
                    if not any(part.startswith(".") for part in relative_to(plan.root, p).split("/")[:-1]))
    else:
        yield from (p for p, problem in files.walk(plan.root, plan.exclude) if not problem)


def list_refs(plan: InputPlan, labels: LabelRule) -> Listed:
    """Every ImageRef the job would list (splits not assigned yet) and what it would not."""
    out = Listed([])
    if plan.kind == "listing":
        base = dirname(plan.pattern)
        with files.open_read(plan.pattern) as raw:
            for _, row in listing_rows(text_lines(raw), "." + plan.pattern.rsplit(".", 1)[-1].lower()):
                try:
                    if isinstance(row, ListingError):
                        raise row
                    ref = ref_from_row(row, base, None)
                except ListingError:
                    out.failed["list: ListingError"] += 1
                    continue
                if row.get("split") in (None, ""):
                    ref = dataclasses.replace(ref, split="")
                _keep(out, ref, labels, from_folder=False)
        return out
    for path in _paths(plan):
        out.files += 1
        if not has_image_extension(path, plan.extensions):
            out.skipped += 1
            continue
        if not is_utf8(path):  # as the job: a failure (pipeline/list_images)
            out.failed[name_not_utf8(path).reason] += 1
            continue
        try:
            ref = ref_from_folder(relative_to(plan.root, path), path, plan.layout, None)
        except ListingError:
            out.failed["list: ListingError"] += 1
            continue
        if plan.layout not in SPLIT_LAYOUTS:
            ref = dataclasses.replace(ref, split="")
        _keep(out, ref, labels, from_folder=True)
    return out


def _keep(out: Listed, ref: ImageRef, labels: LabelRule, from_folder: bool) -> None:
    result = label_ref(ref, labels, from_folder)  # as the job labels it (pipeline/list_images)
    if isinstance(result, Failure):
        out.failed[result.reason] += 1
    else:
        out.refs.append(result)


def list_yolo(plan: InputPlan) -> Listed:
    """A YOLO dataset's refs, their objects with them, as the job lists them."""
    out = Listed([])
    for item in yolo_refs(plan.pattern, plan.extensions):
        if isinstance(item, Failure):
            out.failed[item.reason] += 1
        else:
            out.refs.append(item)
    return out


def attach(listed: Listed, fmt: str, sources: Tuple[Tuple[str, str], ...]) -> List[str]:
    """Each ref with its annotation, paired as the job pairs them; failures counted in `listed`.
    Returns what stayed unpaired."""
    pairs = (pair for split, path in sources for pair in packed_items((fmt, path, split)))
    without, unmatched = _join(listed, pairs, with_annotation)
    return _unpaired(without, "image has no annotation (a record with no objects)",
                     "images have no annotation (records with no objects)") + \
        _unpaired(unmatched, "annotation names no image in input.path", "annotations name no image in input.path")


def attach_masks(listed: Listed, folder: str) -> List[str]:
    """Each ref with its class-index mask, paired as the job pairs them."""
    without, _ = _join(listed, mask_files(folder), with_mask)
    return _unpaired(without, "image has no mask in input.masks", "images have no mask in input.masks")


def _join(listed: Listed, pairs: Iterable[Tuple[str, Named]], join: Join) -> Tuple[int, int]:
    """The refs of `listed` paired with the (stem, (name, item)) `pairs` by `join`, failures
    counted; (refs paired with nothing, items paired with no ref)."""
    items: Dict[str, List[Named]] = collections.defaultdict(list)
    for key, item in pairs:
        items[key].append(item)
    refs: Dict[str, List[ImageRef]] = collections.defaultdict(list)
    for ref in listed.refs:
        refs[stem(ref.key)].append(ref)
    outcome: Dict[int, Any] = {}  # id(ref) -> (what it became, its choice)
    unmatched = 0
    for key in refs.keys() | items.keys():
        results, accounted = joined(refs.get(key, []), items.get(key, []), join)
        unmatched += len(items.get(key, [])) - len(accounted)
        outcome.update((id(ref), result) for ref, result in zip(refs.get(key, []), results))
    kept, without = [], 0
    for ref in listed.refs:  # in listing order
        result, choice = outcome[id(ref)]
        if isinstance(result, Failure):
            listed.failed[result.reason] += 1
            continue
        without += choice is None
        kept.append(result)
    listed.refs = kept
    return without, unmatched


def _unpaired(count: int, one: str, many: str) -> List[str]:
    return [f"unpaired: {count} {one if count == 1 else many} (paired by file stem and path)"] if count else []


def with_splits(refs: List[ImageRef], rule: SplitRule) -> List[ImageRef]:
    """Splits as the job assigns them: by hash, or by rank (exact, stratified)."""
    pending = [r for r in refs if r.split == ""]
    if rule.ranked:
        chosen = exact_splits([(r.key, r.label) for r in pending], rule)
        split_of: Callable[[ImageRef], str] = lambda r: chosen[r.key]  # noqa: E731
    else:
        split_of = lambda r: assign_split(r.key, rule.fractions)  # noqa: E731
    return [dataclasses.replace(r, split=split_of(r)) if r.split == "" else r for r in refs]


def one_per_key(refs: List[ImageRef]) -> Tuple[List[ImageRef], int]:
    """The refs the job keeps (the first of each key in ref order), and how many it drops."""
    kept: Dict[str, ImageRef] = {}
    for ref in sorted(refs, key=ref_order):
        kept.setdefault(ref.key, ref)
    return list(kept.values()), len(refs) - len(kept)


def plan_lines(cfg: JobConfig) -> List[str]:
    """The plan, as printed by `convert --plan`."""
    started = time.monotonic()
    check_cloud_access(cfg)
    check_annotations(cfg, keep=True)  # a broken file is one line; its read is reused below
    plan = resolve_input(cfg.input, cfg.output.path)
    listed = list_yolo(plan) if plan.kind == "yolo" else list_refs(plan, label_rule(cfg))
    paired: List[str] = []
    if cfg.input.annotations.format in ("coco", "voc", "csv"):
        paired += attach(listed, cfg.input.annotations.format, cfg.input.annotations.files_by_split())
    if cfg.input.masks:
        paired += attach_masks(listed, cfg.input.masks)
    refs, duplicates = one_per_key(with_splits(listed.refs, cfg.split_rule()))
    if cfg.input.limit is not None:
        refs = limited(refs, cfg.input.limit)
    lines = [f"input: {plan.describe(cfg.input.annotations.given)}"]
    if plan.kind not in ("listing", "yolo"):
        lines.append(f"  files: {listed.files} found, {listed.skipped} skipped by input.extensions, "
                     f"{len(listed.refs) + sum(listed.failed.values())} taken")
    for reason, count in listed.failed.most_common():
        lines.append(f"  would fail: {count} ({reason})")
    if duplicates:
        lines.append(f"  would fail: {duplicates} (list: DuplicateKey, a key listed more than once)")
    lines += [f"  {line}" for line in paired]
    lines += _object_lines(refs) if cfg.input.annotations.given else _class_lines(refs)
    sample = heapq.nsmallest(SAMPLE, refs, key=ref_order)
    measured = time.monotonic()
    mean_bytes, failed = sample_records(sample, cfg.image.spec())
    record_bytes = mean_bytes or 0.0
    per_image = (time.monotonic() - measured) / max(1, len(sample))
    splits = collections.Counter(r.split for r in refs)
    out = cfg.output
    minimum = max(out.min_shard_records, 2 if out.index else 1)
    if mean_bytes is None:
        lines.append(f"output: {out.path}  (record size unknown: none of {len(sample)} sampled images converted)")
    else:
        lines.append(f"output: {out.path}  (about {record_bytes / 1e3:.1f} KB a record, from "
                     f"{len(sample) - len(failed)} of {len(sample)} sampled images converted now)")
    for split, count in sorted(splits.items()):
        shards = shard_count(count, shards_for(out.shards_of(), split), record_bytes,
                             out.shard_size_mb * 1024 * 1024, minimum)
        lines.append(f"  {split}: {count} records in {shards} shard{'' if shards == 1 else 's'}, "
                     f"about {count * record_bytes / 1e6:.1f} MB")
    lines += _sample_failure_lines(failed, len(sample))
    lines += _outcome_lines(out.path, len(failed) / max(1, len(sample)), cfg.errors.max_failed_fraction)
    cores = os.cpu_count() or 1
    estimate = FIXED_SECONDS + len(refs) * per_image / min(cores, max(1, cores))
    lines.append(f"time: about {estimate:.0f} s here ({per_image * 1e3:.1f} ms an image in one thread, "
                 f"{cores} cores); planned in {time.monotonic() - started:.1f} s, nothing written")
    lines.append("config:")
    lines += ["  " + line for line in yaml.safe_dump(config_as_dict(cfg), sort_keys=False).splitlines()]
    return lines


def _sample_failure_lines(failed: List[Failure], sampled: int) -> List[str]:
    """What failed of the sample converted now, by reason, with an example: a listing whose
    paths lead nowhere shows here, before a run lists every image as a failure."""
    lines = []
    for reason, count in collections.Counter(f.reason for f in failed).most_common():
        example = next(f for f in failed if f.reason == reason)
        lines.append(f"  failed now: {count} of {sampled} sampled ({reason}), e.g. {example.uri}: {example.error}")
    return lines


def _outcome_lines(path: str, rate: float, limit: float) -> List[str]:
    """What the run would do to the output: replace a dataset there (with --overwrite), or, at the
    sample's failure rate, exit 2 and keep that dataset, holding the run (conversion.RunHeld).
    The manifest is only read: a plan writes nothing, and rolls no commit forward."""
    try:
        existing: Optional[Manifest] = read_manifest(path)
    except DatasetError:
        existing = None
    over = rate > limit
    said = f"the sampled failure rate, {rate:.0%}, is over errors.max_failed_fraction={limit:g}"
    if existing is not None:
        return [f"  {path} holds a dataset of {existing.num_examples} records: --overwrite replaces it when this run "
                "commits" + (f"; but {said}: it would be kept, and this run held" if over else "")]
    return [f"  {said}: the run would exit 2 (its records and failures written)"] if over else []


def limited(refs: List[ImageRef], limit: int) -> List[ImageRef]:
    """The first `limit` refs of each split in ref order (what --limit converts)."""
    per_split: Dict[str, List[ImageRef]] = collections.defaultdict(list)
    for ref in refs:
        per_split[ref.split].append(ref)
    return [ref for group in per_split.values() for ref in heapq.nsmallest(limit, group, key=ref_order)]


def _object_lines(refs: List[ImageRef]) -> List[str]:
    """Objects per class (detection): what the label map and the manifest will count."""
    labels = [[o.label for o in r.annotation.unpack().objects] if r.annotation is not None else [] for r in refs]
    objects = collections.Counter(label for found in labels for label in found)
    empty = sum(1 for found in labels if not found)
    lines = [f"  {len(refs)} images ({empty} with no objects), {sum(objects.values())} objects "
             f"in {len(objects)} classes:"]
    for name, count in sorted(objects.items(), key=lambda kv: (-kv[1], kv[0]))[:SHOWN_CLASSES]:
        lines.append(f"    {count:6d}  {name}")
    if len(objects) > SHOWN_CLASSES:
        lines.append(f"    ... and {len(objects) - SHOWN_CLASSES} more classes")
    return lines


def _class_lines(refs: List[ImageRef]) -> List[str]:
    classes = collections.Counter(r.label for r in refs if r.label is not None)
    if not classes:
        return [f"  {len(refs)} images, no labels"]
    lines = [f"  {len(refs)} images in {len(classes)} classes:"]
    for name, count in sorted(classes.items(), key=lambda kv: (-kv[1], kv[0]))[:SHOWN_CLASSES]:
        lines.append(f"    {count:6d}  {name}")
    if len(classes) > SHOWN_CLASSES:
        lines.append(f"    ... and {len(classes) - SHOWN_CLASSES} more classes")
    unlabelled = sum(1 for r in refs if r.label is None)
    if unlabelled:
        lines.append(f"    {unlabelled:6d}  (no label: -1)")
    return lines
