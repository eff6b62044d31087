"""`image2tfrecord inspect` and `preview`: what a converted dataset holds, without TensorFlow or Beam."""
from __future__ import annotations

import collections
import itertools
from typing import List

from transforms.dataset.manifest import Manifest
from transforms.readback.image_records import load_manifest
from transforms.readback.iterable import ImageRecords
from transforms.readback.sheet import contact_sheet
from transforms.records.features import KEY_LABEL, KEY_LABEL_TEXT

MAX_CLASS_ROWS = 40


def _table(rows: List[List[str]]) -> List[str]:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    line = lambda row: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                                for i, (c, w) in enumerate(zip(row, widths)))
    return [line(rows[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in rows[1:]]


def inspect_lines(root: str) -> List[str]:
    """Counts per split and class, and shard and size statistics, as readable tables."""
    manifest = load_manifest(root)
    labels = manifest.labels
    lines = [f"{root}: {manifest.num_examples} records, {manifest.num_failed} failed of "
             f"{manifest.num_listed} listed, {sum(1 for name in labels if name)} classes", ""]  # not unnamed ids
    rows = [["split", "records", "shards", "records/shard (min-max)", "MB", "KB/record"]]
    for split, entry in manifest.splits.items():
        counts = [s.num_examples for s in entry.shards] or [0]
        per = entry.num_bytes / 1e3 / max(1, entry.num_examples)
        rows.append([split, entry.num_examples, entry.num_shards, f"{min(counts)}-{max(counts)}",
                     f"{entry.num_bytes / 1e6:.1f}", f"{per:.1f}"])
    lines += _table(rows)
    if labels:
        per_class = {split: _class_counts(root, manifest, split) for split in manifest.splits}
        rows = [["class", "label", *manifest.splits, "total"]]
        totals = collections.Counter()
        for counter in per_class.values():
            totals.update(counter)
        for label, total in sorted(totals.items(), key=lambda kv: kv[0])[:MAX_CLASS_ROWS]:
            name = labels[label] if 0 <= label < len(labels) else "?"
            rows.append([name, label, *(per_class[s][label] for s in manifest.splits), total])
        lines += [""] + _table(rows)
        if len(totals) > MAX_CLASS_ROWS:
            lines.append(f"... and {len(totals) - MAX_CLASS_ROWS} more classes")
    if manifest.failures_by_reason:
        lines += ["", "failures (failures.jsonl):"]
        lines += [f"  {count:6d}  {reason}" for reason, count in manifest.failures_by_reason.items()]
    return lines


def _class_counts(root: str, manifest: Manifest, split: str) -> collections.Counter:
    """Records per label id: from the manifest, or (Beam sink) by reading."""
    entry = manifest.split(split)
    if entry.classes or entry.num_examples == 0:
        ids = {name: i for i, name in enumerate(manifest.labels)}
        return collections.Counter({ids.get(name, -1): n for name, n in entry.classes.items()})
    counts: collections.Counter = collections.Counter()
    for record in ImageRecords(root, split, features="all", decode=False):
        counts[record.get(KEY_LABEL, [-1])[0]] += 1
    return counts


def preview(root: str, split: str, count: int, output: str) -> int:
    """Write a contact sheet of the first `count` records of `split`; return how many."""
    items, boxes = [], []
    for record in itertools.islice(ImageRecords(root, split, features="all"), count):
        objects = list(zip(*(record.get(f"image/object/bbox/{k}", []) for k in ("xmin", "ymin", "xmax", "ymax")),
                           (t.decode("utf-8", "replace") for t in record.get("image/object/class/text", []))))
        caption = record.get(KEY_LABEL_TEXT, [b""])[0].decode("utf-8", "replace") or (
            f"{len(objects)} objects" if "image/object/bbox/xmin" in record else "-")
        items.append((record["image"], caption))
        boxes.append(objects)
    contact_sheet(items, boxes=boxes).save(output)
    return len(items)
