"""Dataset-wide facts gathered from all ImageRefs: label ids, extra-field kinds, counts."""
from __future__ import annotations

import functools
from typing import Dict, Iterable

import apache_beam as beam

from transforms.examples import extra_kinds, merge_kinds
from transforms.listing import label_map


def _merge_all(kinds: Iterable[Dict[str, str]]) -> Dict[str, str]:
    return functools.reduce(merge_kinds, kinds, {})


class LabelIds(beam.PTransform):
    """ImageRefs -> one {class name: label id} (sorted names; integers kept as they are)."""

    def expand(self, refs: beam.PCollection) -> beam.PCollection:
        return (
            refs
            | "Labels" >> beam.FlatMap(lambda ref: [] if ref.label is None else [ref.label])
            | "Distinct" >> beam.Distinct()
            | "AllLabels" >> beam.combiners.ToList()
            | "Ids" >> beam.Map(label_map)
        )


class ExtraKinds(beam.PTransform):
    """ImageRefs -> one {extra field: feature kind}, the same for every record."""

    def expand(self, refs: beam.PCollection) -> beam.PCollection:
        return (
            refs
            | "KindsPerRef" >> beam.Map(lambda ref: extra_kinds(ref.extra))
            | "MergeKinds" >> beam.CombineGlobally(_merge_all)
        )


class CountAll(beam.PTransform):
    """Any number of PCollections -> one count of all their elements."""

    def expand(self, pcolls) -> beam.PCollection:
        return (
            pcolls
            | "Together" >> beam.Flatten()
            | "Count" >> beam.combiners.Count.Globally()
        )
