"""ReadAnnotations and AttachAnnotations: annotation files (transforms/inputs/annotations)
read on workers, and joined to the ImageRefs by file stem (`2011_000003.jpg` and
`2011_000003.xml` are one image) and, within a stem, by path (transforms/inputs/pairing), so
each ref carries its objects into conversion.

An image with no annotation is a record with no objects; an image whose annotation cannot
be read, that two annotations fit equally, or whose annotation fits another image as well, is
a `list` failure naming why; annotations paired with no image are counted. AttachMasks pairs
class-index masks the same way."""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows

from transforms.elements import Failure, ImageRef
from transforms.inputs.pairing import Choice, exact, parts, stem
from transforms.pipeline.metrics import FAILURES, counter
from transforms.runtime.annotation_files import (
    Join,
    Named,
    joined,
    mask_files,
    packed_items,
    with_annotation,
    with_mask,
)
from transforms.runtime.collector import collector_paused


class _AttachFn(beam.DoFn):
    """(stem, {"refs": refs, name: items}) -> refs paired with their item (transforms/inputs/
    pairing) by what `join` (with_annotation, with_mask) makes of it, or Failures; counted: refs
    paired with nothing (`without`) and, when given, items paired with no ref (`unmatched`)."""

    def __init__(self, name: str, join: Join, without: str, unmatched: Optional[str] = None) -> None:
        self._name = name
        self.join = join  # with_annotation or with_mask: the lookup applies it too
        self._without = counter(without)
        self._unmatched = counter(unmatched) if unmatched else None

    def process(self, element: Tuple[str, dict]) -> Iterator:
        _, grouped = element
        found = list(grouped[self._name])
        results, accounted = joined(list(grouped["refs"]), found, self.join)
        if self._unmatched is not None:
            self._unmatched.inc(len(found) - len(accounted))
        yield from self.outputs(results)

    def outputs(self, results: List[Tuple[Any, Choice]], wrap: Callable[[Any], Any] = lambda value: value
                ) -> Iterator:
        """Refs to the main output and Failures to FAILURES, each `wrap`ped (finish_bundle's
        outputs are WindowedValues)."""
        for result, choice in results:
            if isinstance(result, Failure):
                yield beam.pvalue.TaggedOutput(FAILURES, wrap(result))
                continue
            if choice is None:
                self._without.inc()
            yield wrap(result)


def _join_by_stem(refs: beam.PCollection, name: str, read: Callable[[Any], Iterable[Tuple[str, Named]]],
                  sources: List[Any], attach: _AttachFn, lookup: bool, unmatched: Optional[str] = None
                  ) -> beam.pvalue.DoOutputsTuple:
    """Refs paired with the (stem, (name, item)) `read` finds in each of `sources`, among those
    of their file stem (transforms/inputs/pairing); `attach` turns (stem, {"refs": refs, name:
    items}) into refs and FAILURES, and `unmatched` counts the items no ref has.

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

    The local runner runs one instance of it, which reads the items on its first ref. A ref
    whose path is an item's (pairing's first rule: the usual case) is decided at once; the
    others of a stem with items wait for the bundle's end, when every ref of their stem has
    been seen (the local runner lists the images in one bundle, and this step is fused to
    the listing). The `unmatched` counter starts at the number of items and goes down, at
    each bundle's end, by those refs took, so it ends at the number no ref took."""

    def __init__(self, name: str, read: Callable[[Any], Iterable[Tuple[str, Named]]], sources: List[Any],
                 attach: _AttachFn, unmatched: Optional[str]) -> None:
        self._name = name
        self._read = read
        self._sources = sources
        self._attach = attach
        self._unmatched = counter(unmatched) if unmatched else None
        self._index: Optional[Dict[str, List[Named]]] = None
        self._at: Dict[Tuple[str, ...], List[Tuple[str, int]]] = {}  # an item's path's parts -> (stem, index)
        self._names: Dict[str, List[str]] = {}  # stem -> its items' names (for exact's conflicts)
        self._taken: Dict[str, Set[int]] = {}  # stem -> the items refs took
        self._pending: Dict[str, List[ImageRef]] = {}  # stem -> refs decided at the bundle's end
        self._claimed = 0  # items taken since the counter was last told

    def process(self, ref: ImageRef) -> Iterator:
        if self._index is None:
            self._index = self._load()
        wanted = parts(ref.key)
        at = self._at.get(wanted)
        if at is not None and len(at) == 1:  # pairing.exact's usual case: one item at the image's own path
            key, choice = at[0]
            self._take(key, (choice,))
            yield from self._attach.outputs([(self._attach.join(ref, self._index[key][choice][1]), choice)])
            return
        key = wanted[-1] if wanted else ""
        items = self._index.get(key)
        if not items:
            yield from self._attach.outputs([(self._attach.join(ref, None), None)])
            return
        names = self._names.get(key)
        if names is None:
            names = self._names[key] = [name for name, _ in items]
        # pairing.by_parts of the stem's items, as far as exact looks: `_at` holds it already
        at_path = {wanted: [position for _, position in at]} if at else {}
        choice, same = exact(ref.key, wanted, names, at_path)
        if not same:
            self._pending.setdefault(key, []).append(ref)
            return
        self._take(key, same)
        found = items[choice][1] if isinstance(choice, int) else choice
        yield from self._attach.outputs([(self._attach.join(ref, found), choice)])

    def _load(self) -> Dict[str, List[Named]]:
        """The items by stem, and where each item's own path is (`_at`): reads every source."""
        index: Dict[str, List[Named]] = {}
        with collector_paused():
            for source in self._sources:
                for key, item in self._read(source):
                    found = index.setdefault(key, [])
                    named = parts(item[0])
                    if named and named[-1] == key:  # not an unpairable one (annotation_files.UNPAIRABLE)
                        self._at.setdefault(named, []).append((key, len(found)))
                    found.append(item)
        if self._unmatched is not None:
            self._unmatched.inc(sum(map(len, index.values())))
        return index

    def finish_bundle(self) -> Iterator:
        yield from self._decide_pending()
        if self._unmatched is not None and self._claimed:  # once a bundle, not once a ref
            self._unmatched.dec(self._claimed)
        self._claimed = 0

    def _decide_pending(self) -> Iterator:
        pending, self._pending = self._pending, {}
        for key, refs in pending.items():  # a ref is pending only once the index is read
            items, taken = (self._index or {})[key], self._taken.get(key, set())
            left = [index for index in range(len(items)) if index not in taken]
            results, accounted = joined(refs, [items[index] for index in left], self._attach.join)
            self._take(key, [left[index] for index in accounted])
            yield from self._attach.outputs(results, GlobalWindows.windowed_value)

    def _take(self, key: str, items: Iterable[int]) -> None:
        taken = self._taken.setdefault(key, set())
        before = len(taken)
        taken.update(items)
        self._claimed += len(taken) - before


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
