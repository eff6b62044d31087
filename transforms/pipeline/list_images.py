"""ListImages: a folder, a glob or a listing file (local or gs://) -> ImageRefs and Failures."""
from __future__ import annotations

import dataclasses
import io
from typing import Iterable, Iterator, Optional, Tuple

import apache_beam as beam
from apache_beam.io.fileio import MatchFiles
from apache_beam.io.filesystem import FileMetadata

from transforms.elements import STAGE_LIST, Failure
from transforms.inputs.errors import ListingError
from transforms.inputs.layouts import has_image_extension, ref_from_folder
from transforms.inputs.listing_files import listing_rows, ref_from_row
from transforms.inputs.paths import dirname, relative_to
from transforms.inputs.splits import assign_split
from transforms.pipeline.metrics import FAILURES, counter
from transforms.storage import files


@dataclasses.dataclass(frozen=True)
class InputPlan:
    """The input, resolved before the pipeline is built.

    `kind` is `folder` (everything under `root`), `glob` (files matching `pattern`, keyed
    relative to `root`) or `listing` (the listing file at `pattern`).
    """

    kind: str
    pattern: str
    root: str
    layout: str
    extensions: Tuple[str, ...]
    reason: str = ""
    splits_seen: Tuple[str, ...] = ()  # split folders the layout probe found


class _FolderRefFn(beam.DoFn):
    """FileMetadata -> ImageRef (labelled by the layout) or Failure; other files are skipped."""

    def __init__(self, plan: InputPlan, fractions: Tuple[Tuple[str, float], ...]) -> None:
        self._plan = plan
        self._fractions = fractions
        self._listed = counter("images_listed")
        self._skipped = counter("files_skipped")

    def process(self, meta: FileMetadata) -> Iterator:
        uri = meta.path
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
        if self._plan.layout != "split_class_folders":
            ref = dataclasses.replace(ref, split=assign_split(ref.key, self._fractions))
        yield ref


class _ListingRefFn(beam.DoFn):
    """A listing file's uri -> an ImageRef per row, or a Failure naming the bad line."""

    def __init__(self, fractions: Tuple[Tuple[str, float], ...]) -> None:
        self._fractions = fractions
        self._listed = counter("images_listed")

    def process(self, uri: str) -> Iterator:
        with files.open_read(uri) as raw:
            lines = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            try:
                yield from self._rows(uri, lines)
            except UnicodeDecodeError as exc:
                raise ListingError(f"listing {uri} is not UTF-8 text ({exc.reason})") from None

    def _rows(self, uri: str, lines: Iterable[str]) -> Iterator:
        suffix = "." + uri.rsplit(".", 1)[-1].lower()
        base = dirname(uri)
        for number, row in listing_rows(lines, suffix):
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
            if not _has_split(row):
                ref = dataclasses.replace(ref, split=assign_split(ref.key, self._fractions))
            yield ref


def _has_split(row) -> bool:
    return row.get("split") not in (None, "")


class ListImages(beam.PTransform):
    """Lists the input images as ImageRefs; the `failures` output holds what cannot be listed."""

    def __init__(self, plan: InputPlan, fractions: Tuple[Tuple[str, float], ...],
                 label: Optional[str] = None) -> None:
        super().__init__(label)
        self._plan = plan
        self._fractions = fractions

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.pvalue.DoOutputsTuple:
        plan = self._plan
        if plan.kind == "listing":
            return (
                pbegin
                | "ListingUri" >> beam.Create([plan.pattern])
                | "ReadListing" >> beam.ParDo(_ListingRefFn(self._fractions)).with_outputs(FAILURES, main="refs")
            )
        return (
            pbegin
            | "MatchFiles" >> MatchFiles(plan.pattern)
            # -> FileMetadata(path, size_in_bytes)
            | "RefFromPath" >> beam.ParDo(_FolderRefFn(plan, self._fractions)).with_outputs(FAILURES, main="refs")
        )
