"""ReadAnnotations and AttachAnnotations: annotation files (transforms/inputs/annotations)
read on workers, and joined to the ImageRefs by file stem (`2011_000003.jpg` and
`2011_000003.xml` are one image), so each ref carries its objects into conversion.

An image with no annotation is a record with no objects; an image whose annotation cannot
be read, or that two annotations claim, is a `list` failure naming why; annotations that
match no image are counted. AttachMasks pairs class-index masks the same way."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

import apache_beam as beam

from transforms.elements import Failure, ImageRef
from transforms.pipeline.metrics import FAILURES, counter
from transforms.runtime.annotation_files import (
    Join,
    mask_files,
    packed_items,
    stem,
    with_annotation,
    with_mask,
)
from transforms.runtime.collector import collector_paused


class _AttachFn(beam.DoFn):
    """(stem, {"refs": refs, name: items}) -> refs with what `join` (with_annotation, with_mask)
    makes of their items, or Failures; counted: refs without items (`without`) and, when given,
    items without refs (`unmatched`)."""

    def __init__(self, name: str, join: Join, without: str, unmatched: Optional[str] = None) -> None:
        self._name = name
        self._join = join
        self._without = counter(without)
        self._unmatched = counter(unmatched) if unmatched else None

    def process(self, element: Tuple[str, dict]) -> Iterator:
        key, grouped = element
        refs, found = list(grouped["refs"]), list(grouped[self._name])
        if not refs and self._unmatched is not None:
            self._unmatched.inc(len(found))
        for ref in refs:
            joined = self._join(ref, key, found)
            if isinstance(joined, Failure):
                yield beam.pvalue.TaggedOutput(FAILURES, joined)
                continue
            if not found:
                self._without.inc()
            yield joined


def _join_by_stem(refs: beam.PCollection, name: str, read: Callable[[Any], Iterable[Tuple[str, Any]]],
                  sources: List[Any], attach: beam.DoFn, lookup: bool, unmatched: Optional[str] = None
                  ) -> beam.pvalue.DoOutputsTuple:
    """Refs joined by file stem with the (stem, item) pairs `read` finds in each of `sources`;
    `attach` turns (stem, {"refs": refs, name: items}) into refs and FAILURES, and `unmatched`
    counts the items no ref has.

    On one machine (`lookup`), one DoFn reads the items into memory and looks each ref's stem
    up: nothing is grouped, and the job has fewer steps (on 6,000 images, the CoGroupByKey and
    its steps cost 6% of the whole conversion). Distributed, a CoGroupByKey: no worker holds
    every item."""
    if lookup:
        return refs | "LookUpStem" >> beam.ParDo(_LookupFn(name, read, sources, attach, unmatched)
                                                 ).with_outputs(FAILURES, main="refs")
    keyed = refs.pipeline | "Sources" >> beam.Create(sources) | "Read" >> beam.FlatMap(read)
    by_stem = refs | "ByStem" >> beam.Map(lambda ref: (stem(ref.key), ref))
    return (
        {"refs": by_stem, name: keyed}
        | "JoinByStem" >> beam.CoGroupByKey()
        | "Attach" >> beam.ParDo(attach).with_outputs(FAILURES, main="refs")
    )


class _LookupFn(beam.DoFn):
    """ref -> what `attach` makes of it with the items of its stem, looked up in memory.

    The local runner runs one instance of it, which reads the items on its first ref. The
    `unmatched` counter starts at the number of items and goes down as refs claim them, so
    it ends at the number no ref claimed."""

    def __init__(self, name: str, read: Callable[[Any], Iterable[Tuple[str, Any]]], sources: List[Any],
                 attach: beam.DoFn, unmatched: Optional[str]) -> None:
        self._name = name
        self._read = read
        self._sources = sources
        self._attach = attach
        self._unmatched = counter(unmatched) if unmatched else None
        self._index: Optional[Dict[str, list]] = None
        self._claimed: Set[str] = set()

    def process(self, ref: ImageRef) -> Iterator:
        if self._index is None:
            self._index = {}
            with collector_paused():
                for source in self._sources:
                    for key, item in self._read(source):
                        self._index.setdefault(key, []).append(item)
            if self._unmatched is not None:
                self._unmatched.inc(sum(map(len, self._index.values())))
        key = stem(ref.key)
        found = self._index.get(key, [])
        if found and key not in self._claimed:
            self._claimed.add(key)
            if self._unmatched is not None:
                self._unmatched.dec(len(found))
        yield from self._attach.process((key, {"refs": [ref], self._name: found}))


class AttachAnnotations(beam.PTransform):
    """ImageRefs -> ImageRefs with their annotation (`refs`) and Failures (`failures`)."""

    def __init__(self, fmt: str, sources: Tuple[Tuple[str, str], ...], lookup: bool = False,
                 label: Optional[str] = None) -> None:
        """`sources`: (split, path) per annotation file; split "" when one file serves every split.
        `lookup`: join as a lookup in memory (one machine; see _join_by_stem)."""
        super().__init__(label)
        self._specs = [(fmt, path, split) for split, path in sources]
        self._lookup = lookup

    def expand(self, refs: beam.PCollection):  # -> DoOutputsTuple (refs, failures): Beam warns on non-PCollection hints
        attach = _AttachFn("annotations", with_annotation, "images_without_annotation", "annotations_without_image")
        return _join_by_stem(refs, "annotations", packed_items, self._specs, attach, self._lookup,
                             "annotations_without_image")


class AttachMasks(beam.PTransform):
    """ImageRefs -> ImageRefs with the path of their class-index mask (`refs`), and Failures."""

    def __init__(self, folder: str, lookup: bool = False, label: Optional[str] = None) -> None:
        super().__init__(label)
        self._folder = folder
        self._lookup = lookup

    def expand(self, refs: beam.PCollection):  # -> DoOutputsTuple (refs, failures): Beam warns on non-PCollection hints
        attach = _AttachFn("masks", with_mask, "images_without_mask")
        return _join_by_stem(refs, "masks", mask_files, [self._folder], attach, self._lookup)
