"""AssignSplits: exact (and stratified) splits, by each key's rank in the hash order.

Like shard planning, only counts travel: keys are counted per (stratum, hash bucket), the
counts give each bucket's offset and each split's share, and each bucket's refs, grouped
and sorted, take their split from their rank. Refs that already have a split (a listing's
column, a split folder) pass through.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Iterator, Mapping, Optional, Tuple

import apache_beam as beam

from transforms.dataset.sharding import ref_order, tie_break
from transforms.elements import ImageRef
from transforms.inputs.splits import RankPlan, SplitRule, plan_ranks, split_bucket, split_hash

UNASSIGNED = ""  # the split of a ref whose split AssignSplits decides


def _stratum_bucket(ref: ImageRef, rule: SplitRule) -> Tuple[Tuple[str, int], ImageRef]:
    return (rule.stratum(ref.label), split_bucket(ref.key)), ref


def _assign(element: Tuple[Tuple[str, int], Iterable[ImageRef]], plan: RankPlan, rule: SplitRule) -> Iterator[ImageRef]:
    (stratum, bucket), refs = element
    for index, ref in enumerate(sorted(refs, key=lambda r: (split_hash(r.key), r.key, tie_break(r)))):
        yield dataclasses.replace(ref, split=plan.split_of(rule, stratum, bucket, index))


class AssignSplits(beam.PTransform):
    """ImageRefs (some with split UNASSIGNED) -> ImageRefs, every one with its split."""

    def __init__(self, rule: SplitRule, label: Optional[str] = None) -> None:
        super().__init__(label)
        self._rule = rule

    def expand(self, refs: beam.PCollection) -> beam.PCollection:
        rule = self._rule
        parts = refs | "NeedSplit" >> beam.Partition(lambda ref, _: int(ref.split == UNASSIGNED), 2)
        keyed = parts[1] | "KeyByStratumBucket" >> beam.Map(_stratum_bucket, rule)
        # -> ((stratum, bucket), ImageRef)
        plan = (
            keyed
            | "CountBuckets" >> beam.combiners.Count.PerKey()
            | "AllCounts" >> beam.combiners.ToDict()
            | "PlanRanks" >> beam.Map(_plan, rule)
        )
        # -> RankPlan
        assigned = (
            keyed
            | "GroupBuckets" >> beam.GroupByKey()
            | "SplitByRank" >> beam.FlatMap(_assign, beam.pvalue.AsSingleton(plan), rule)
        )
        return (parts[0], assigned) | "AllRefs" >> beam.Flatten()


def _plan(counts: Mapping[Tuple[str, int], int], rule: SplitRule) -> RankPlan:
    return plan_ranks(counts, rule)


class LimitPerSplit(beam.PTransform):
    """ImageRefs -> the first `limit` of each split in ref order (the job's, and the shards',
    order), to try settings on a few images; the rest are not listed at all."""

    def __init__(self, limit: int, label: Optional[str] = None) -> None:
        super().__init__(label)
        self._limit = limit

    def expand(self, refs: beam.PCollection) -> beam.PCollection:
        keep = (
            refs
            | "BySplit" >> beam.Map(lambda ref: (ref.split, ref))
            | "FirstPerSplit" >> beam.combiners.Top.PerKey(self._limit, key=ref_order, reverse=True)
            | "Keys" >> beam.Map(lambda kv: (kv[0], frozenset(ref.key for ref in kv[1])))
        )
        # -> (split, the keys kept)
        return refs | "Keep" >> beam.Filter(lambda ref, kept: ref.key in kept.get(ref.split, ()),
                                            beam.pvalue.AsDict(keep))
