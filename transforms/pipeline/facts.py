"""GatherFacts: everything the job must know about the whole input, in one pass.

Label ids, the kinds of the listing's extra fields, how many inputs were listed and a
fixed sample of refs (to size `output.shards: auto`) all come from one CombineGlobally:
each worker pre-combines its own refs and only these small accumulators travel.

The refs are combined alone, and the listing's failures only counted: flattened together
first, the refs could not be pre-combined where they were listed (the two come from different
steps), so every ref was written out once more and read back by a step of its own. On the
local runner that was a second copy of every ref in memory and a pass over them (200,000
refs: peak 448 -> 383 MB; docs/performance.md, "Facts where the refs are listed").
"""
from __future__ import annotations

import dataclasses
import heapq
from typing import Dict, Iterable, List, Mapping, Optional, Set, Tuple

import apache_beam as beam

from transforms.dataset.labels import LabelRule, format_ids
from transforms.dataset.sharding import ref_order
from transforms.elements import ImageRef
from transforms.records.features import extra_kinds, merge_kinds

SAMPLE_SIZE = 64  # refs converted up front to size `output.shards: auto`


@dataclasses.dataclass(frozen=True)
class DatasetFacts:
    """The whole input, summarised."""

    labels: Mapping[str, int]  # class name -> label id
    kinds: Mapping[str, str]  # extra field -> feature kind, the same in every record
    num_listed: int  # refs plus inputs that failed to list
    sample: Tuple[ImageRef, ...]  # the SAMPLE_SIZE refs first in hash order
    instance_masks: bool = False  # some object has a shape (COCO polygons or RLE)


@dataclasses.dataclass
class _Accumulator:
    labels: Set[str] = dataclasses.field(default_factory=set)
    class_ids: Dict[str, int] = dataclasses.field(default_factory=dict)  # ids an annotation format gives (COCO)
    shapes: bool = False
    kinds: Dict[str, str] = dataclasses.field(default_factory=dict)
    num_listed: int = 0
    sample: List[ImageRef] = dataclasses.field(default_factory=list)


class _FactsFn(beam.CombineFn):
    """ImageRefs -> DatasetFacts (num_listed: the refs; GatherFacts adds the listing's failures)."""

    def __init__(self, sample_size: int, labels: LabelRule = LabelRule()) -> None:
        self._sample_size = sample_size
        self._labels = labels

    def create_accumulator(self) -> _Accumulator:
        return _Accumulator()

    def add_input(self, acc: _Accumulator, element: ImageRef) -> _Accumulator:
        acc.num_listed += 1
        if element.annotation is not None:  # detection: the classes are the objects'
            classes = element.annotation.classes()
            acc.labels |= classes.labels
            acc.class_ids.update(classes.ids)
            acc.shapes = acc.shapes or classes.shapes
        elif element.label is not None:
            acc.labels.add(element.label)
        if element.extra:
            acc.kinds = merge_kinds(acc.kinds, extra_kinds(element.extra))
        if self._sample_size:
            acc.sample.append(element)
            if len(acc.sample) >= 4 * self._sample_size:
                acc.sample = self._smallest(acc.sample)
        return acc

    def merge_accumulators(self, accumulators: Iterable[_Accumulator]) -> _Accumulator:
        out = _Accumulator()
        for acc in accumulators:
            out.labels |= acc.labels
            out.class_ids.update(acc.class_ids)
            out.shapes = out.shapes or acc.shapes
            out.kinds = merge_kinds(out.kinds, acc.kinds)
            out.num_listed += acc.num_listed
            out.sample = self._smallest(out.sample + acc.sample)
        return out

    def extract_output(self, acc: _Accumulator) -> DatasetFacts:
        if self._labels.names is None and (acc.class_ids or self._labels.declared):
            ids = format_ids(self._labels.declared, acc.class_ids)
        else:
            ids = self._labels.ids(acc.labels)
        return DatasetFacts(ids, dict(sorted(acc.kinds.items())), acc.num_listed,
                            tuple(self._smallest(acc.sample)), acc.shapes)

    def _smallest(self, refs: List[ImageRef]) -> List[ImageRef]:
        return heapq.nsmallest(self._sample_size, refs, key=ref_order)


class GatherFacts(beam.PTransform):
    """(refs, listing failures) -> one DatasetFacts; `sample` only when `sample_size`."""

    def __init__(self, sample_size: int = 0, labels: LabelRule = LabelRule(), label: Optional[str] = None) -> None:
        super().__init__(label)
        self._sample_size = sample_size
        self._labels = labels

    def expand(self, pcolls) -> beam.PCollection:
        refs, failures = pcolls
        facts = refs | "Combine" >> beam.CombineGlobally(_FactsFn(self._sample_size, self._labels))
        # A view, not a PCollection: no step of its own to make the 0 of no failures (one bundle fewer)
        failed = failures | "CountFailures" >> beam.CombineGlobally(beam.combiners.CountCombineFn()).as_singleton_view()
        return facts | "AddFailures" >> beam.Map(_with_failures, failed)


def _with_failures(facts: DatasetFacts, failed: int) -> DatasetFacts:
    """The facts of the refs, with the inputs that failed to list counted as listed."""
    return dataclasses.replace(facts, num_listed=facts.num_listed + failed) if failed else facts
