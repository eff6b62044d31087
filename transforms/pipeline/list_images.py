"""ListImages: a folder, a glob or a listing file (local or gs://) -> ImageRefs and Failures."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Iterator, NamedTuple, Optional, Tuple

import apache_beam as beam
from apache_beam.io.fileio import MatchFiles

from transforms.dataset.labels import LabelRule, label_ref
from transforms.elements import STAGE_LIST, Failure
from transforms.inputs.errors import ListingError
from transforms.inputs.input_plan import InputPlan
from transforms.inputs.layouts import SPLIT_LAYOUTS, has_image_extension, ref_from_folder
from transforms.inputs.listing_files import listing_rows, ref_from_row, text_lines
from transforms.inputs.paths import dirname, is_remote, is_utf8, name_not_utf8, relative_to
from transforms.inputs.splits import SplitRule, assign_split
from transforms.pipeline.assign_splits import UNASSIGNED
from transforms.pipeline.metrics import FAILURES, counter
from transforms.runtime.annotation_files import yolo_refs
from transforms.storage import files


def _not_utf8(path: str, extensions: Tuple[str, ...]) -> Iterator:
    """A path that is not UTF-8 (paths.is_utf8): a `list` Failure naming it, escaped, if it is
    an image by its extension; other such files are skipped as any other non-image."""
    if has_image_extension(path, extensions):
        yield beam.pvalue.TaggedOutput(FAILURES, name_not_utf8(path))
    else:
        counter("files_skipped").inc()  # as _FolderRefFn counts the others (the run's "skipped" line)


def _matched_paths(meta: Any, plan: InputPlan) -> Iterator:
    """A glob's or a bucket's match -> its path if visible (not below a hidden folder), as UTF-8."""
    if not _visible(meta.path, plan):
        return
    if is_utf8(meta.path):
        yield meta.path
    else:
        yield from _not_utf8(meta.path, plan.extensions)


class _WalkFolderFn(beam.DoFn):
    """A local folder -> the path of every file below it (transforms.storage.files.walk:
    symlinked folders followed, hidden ones skipped), and a Failure per unreadable folder
    and per image whose path is not UTF-8. In the order the folders list them: the shards'
    order is the keys' hash order, and a sorted walk held every name of a folder (26 MB for
    200,000 files)."""

    def __init__(self, exclude: Tuple[str, ...], extensions: Tuple[str, ...]) -> None:
        self._exclude = exclude
        self._extensions = extensions

    def process(self, root: str) -> Iterator:
        for path, problem in files.walk(root, self._exclude, ordered=False):
            if problem:
                yield beam.pvalue.TaggedOutput(FAILURES, Failure.of(path, STAGE_LIST, "UnreadableFolder", problem))
            elif is_utf8(path):
                yield path
            else:
                yield from _not_utf8(path, self._extensions)


def _visible(path: str, plan: InputPlan) -> bool:
    """Not below a hidden folder of the input, nor below an excluded one (bucket listings)."""
    relative = path[len(plan.root.rstrip("/")) + 1:]
    return not any(part.startswith(".") for part in relative.split("/")[:-1]) and not any(
        path.startswith(e.rstrip("/") + "/") for e in plan.exclude)


class _FolderRefFn(beam.DoFn):
    """A path -> ImageRef (labelled by the layout) or Failure; other files are skipped."""

    def __init__(self, plan: InputPlan, rule: SplitRule, labels: LabelRule) -> None:
        self._plan = plan
        self._rule = rule
        self._labels = labels
        self._listed = counter("images_listed")
        self._skipped = counter("files_skipped")

    def process(self, uri: str) -> Iterator:
        if not has_image_extension(uri, self._plan.extensions):
            self._skipped.inc()
            return
        self._listed.inc()
        try:
            relative = relative_to(self._plan.root, uri)
            ref = ref_from_folder(relative, uri, self._plan.layout, None)
        except ListingError as exc:
            yield beam.pvalue.TaggedOutput(FAILURES, Failure.from_exception(uri, STAGE_LIST, exc))
            return
        labelled = label_ref(ref, self._labels, from_folder=True)
        if isinstance(labelled, Failure):
            yield beam.pvalue.TaggedOutput(FAILURES, labelled)
            return
        if self._plan.layout not in SPLIT_LAYOUTS:
            labelled = dataclasses.replace(labelled, split=_split(labelled.key, self._rule))
        yield labelled


class _ListingRefFn(beam.DoFn):
    """A listing file's uri -> an ImageRef per row, or a Failure naming the bad line."""

    def __init__(self, rule: SplitRule, labels: LabelRule) -> None:
        self._rule = rule
        self._labels = labels
        self._listed = counter("images_listed")

    def process(self, uri: str) -> Iterator:
        suffix = "." + uri.rsplit(".", 1)[-1].lower()
        base = dirname(uri)
        with files.open_read(uri) as raw:
            yield from self._rows(uri, base, listing_rows(text_lines(raw), suffix))

    def _rows(self, uri: str, base: str, rows: Iterable) -> Iterator:
        for number, row in rows:
            self._listed.inc()
            where = f"{uri}:{number}"
            if isinstance(row, ListingError):
                yield beam.pvalue.TaggedOutput(FAILURES, Failure.from_exception(where, STAGE_LIST, row))
                continue
            try:
                ref = ref_from_row(row, base, None)
            except ListingError as exc:
                yield beam.pvalue.TaggedOutput(
                    FAILURES, Failure.from_exception(str(row.get("path") or where), STAGE_LIST, exc))
                continue
            labelled = label_ref(ref, self._labels, from_folder=False)
            if isinstance(labelled, Failure):
                yield beam.pvalue.TaggedOutput(FAILURES, labelled)
                continue
            if not _has_split(row):
                labelled = dataclasses.replace(labelled, split=_split(labelled.key, self._rule))
            yield labelled


class _YoloRefFn(beam.DoFn):
    """A YOLO dataset YAML -> an ImageRef per image of its splits, with its objects packed
    (transforms/runtime/annotation_files.yolo_refs), or a `list` Failure."""

    def __init__(self, extensions: Tuple[str, ...]) -> None:
        self._extensions = extensions
        self._listed = counter("images_listed")

    def process(self, yaml_path: str) -> Iterator:
        for item in yolo_refs(yaml_path, self._extensions):
            self._listed.inc()
            yield beam.pvalue.TaggedOutput(FAILURES, item) if isinstance(item, Failure) else item


def _split(key: str, rule: SplitRule) -> str:
    """The hash split now, or UNASSIGNED for AssignSplits to decide by rank."""
    return UNASSIGNED if rule.ranked else assign_split(key, rule.fractions)


def _has_split(row) -> bool:
    return row.get("split") not in (None, "")


class Listed(NamedTuple):
    """What ListImages gives: the refs, and the inputs that could not be listed."""

    refs: beam.PCollection
    failures: beam.PCollection


class ListImages(beam.PTransform):
    """Lists the input images as ImageRefs; the `failures` output holds what cannot be listed."""

    def __init__(self, plan: InputPlan, rule: SplitRule, labels: LabelRule = LabelRule(),
                 label: Optional[str] = None) -> None:
        super().__init__(label)
        self._plan = plan
        self._rule = rule
        self._labels = labels

    def expand(self, pbegin: beam.pvalue.PBegin):  # -> Listed: Beam warns on non-PCollection hints
        plan = self._plan
        if plan.kind == "yolo":
            read = (
                pbegin
                | "DatasetYaml" >> beam.Create([plan.pattern])
                | "ReadYolo" >> beam.ParDo(_YoloRefFn(plan.extensions)).with_outputs(FAILURES, main="refs")
            )
            return Listed(read.refs, read.failures)
        if plan.kind == "listing":
            read = (
                pbegin
                | "ListingUri" >> beam.Create([plan.pattern])
                | "ReadListing" >> beam.ParDo(_ListingRefFn(self._rule, self._labels)).with_outputs(
                    FAILURES, main="refs")
            )
            return Listed(read.refs, read.failures)
        if plan.kind == "folder" and not is_remote(plan.root):
            walked = (
                pbegin
                | "FolderRoot" >> beam.Create([plan.root])
                | "WalkFolder" >> beam.ParDo(_WalkFolderFn(plan.exclude, plan.extensions)).with_outputs(
                    FAILURES, main="paths")
            )
            paths, unreadable = walked.paths, walked.failures
        else:
            matched = (
                pbegin
                | "MatchFiles" >> MatchFiles(plan.pattern)
                | "Paths" >> beam.FlatMap(_matched_paths, plan).with_outputs(FAILURES, main="paths")
            )
            paths, unreadable = matched.paths, matched.failures
        # -> path
        refs = paths | "RefFromPath" >> beam.ParDo(_FolderRefFn(plan, self._rule, self._labels)).with_outputs(
            FAILURES, main="refs")
        failures = (unreadable, refs.failures) | "ListFailures" >> beam.Flatten()
        return Listed(refs.refs, failures)
