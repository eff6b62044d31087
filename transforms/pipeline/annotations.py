"""ReadAnnotations and AttachAnnotations: annotation files (transforms/inputs/annotations)
read on workers, and joined to the ImageRefs by file stem (`2011_000003.jpg` and
`2011_000003.xml` are one image), so each ref carries its objects into conversion.

An image with no annotation is a record with no objects; an image whose annotation cannot
be read, or that two annotations claim, is a `list` failure naming why; annotations that
match no image are counted. AttachMasks pairs class-index masks the same way."""
from __future__ import annotations

import dataclasses
from typing import Iterator, Optional, Tuple, Union

import apache_beam as beam

from transforms.elements import STAGE_LIST, Failure, ImageRef
from transforms.inputs.annotations.model import Annotation, PackedAnnotation
from transforms.pipeline.metrics import FAILURES, counter
from transforms.runtime.annotation_files import read_annotations, stem
from transforms.storage import files

Read = Union[Tuple[str, PackedAnnotation], str]  # (split, annotation), or why the one for a stem cannot be read


def _read(spec: Tuple[str, str, str]) -> Iterator[Tuple[str, Read]]:
    """(format, path, split) -> (file stem, (split, the annotation packed) or why it cannot be read)."""
    fmt, path, split = spec
    for key, annotation in read_annotations(fmt, path).items:
        yield key, annotation if isinstance(annotation, str) else (split, PackedAnnotation.of(annotation))


class _AttachFn(beam.DoFn):
    """(stem, {refs, annotations}) -> refs with their annotation, or Failures."""

    def __init__(self) -> None:
        self._without = counter("images_without_annotation")
        self._unmatched = counter("annotations_without_image")

    def process(self, element: Tuple[str, dict]) -> Iterator:
        key, grouped = element
        refs, found = list(grouped["refs"]), list(grouped["annotations"])
        if not refs:
            self._unmatched.inc(len(found))
            return
        for ref in refs:
            if len(found) > 1:
                yield beam.pvalue.TaggedOutput(FAILURES, Failure.of(
                    ref.uri, STAGE_LIST, "DuplicateAnnotation", f"{len(found)} annotations are for file stem {key!r}"))
            elif found and isinstance(found[0], str):
                yield beam.pvalue.TaggedOutput(FAILURES, Failure.of(ref.uri, STAGE_LIST, "AnnotationError", found[0]))
            else:
                if not found:
                    self._without.inc()
                split, annotation = found[0] if found else ("", PackedAnnotation.of(Annotation(ref.key)))
                yield ImageRef(ref.key, ref.uri, ref.label, split or ref.split, ref.extra, annotation)


def _join_by_stem(refs: beam.PCollection, name: str, keyed: beam.PCollection, attach: beam.DoFn
                  ) -> beam.pvalue.DoOutputsTuple:
    """Refs and (stem, item) pairs grouped by file stem, then `attach` -> refs and FAILURES."""
    by_stem = refs | "ByStem" >> beam.Map(lambda ref: (stem(ref.key), ref))
    return (
        {"refs": by_stem, name: keyed}
        | "JoinByStem" >> beam.CoGroupByKey()
        | "Attach" >> beam.ParDo(attach).with_outputs(FAILURES, main="refs")
    )


class AttachAnnotations(beam.PTransform):
    """ImageRefs -> ImageRefs with their annotation (`refs`) and Failures (`failures`)."""

    def __init__(self, fmt: str, sources: Tuple[Tuple[str, str], ...], label: Optional[str] = None) -> None:
        """`sources`: (split, path) per annotation file; split "" when one file serves every split."""
        super().__init__(label)
        self._specs = [(fmt, path, split) for split, path in sources]

    def expand(self, refs: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        annotations = (
            refs.pipeline
            | "AnnotationSource" >> beam.Create(self._specs)
            | "ReadAnnotations" >> beam.FlatMap(_read)
            # -> (stem, Annotation or why it cannot be read)
        )
        return _join_by_stem(refs, "annotations", annotations, _AttachFn())


def _mask_files(folder: str) -> Iterator[Tuple[str, str]]:
    paths = files.iter_remote(folder) if "://" in folder else (p for p, problem in files.walk(folder) if not problem)
    for path in paths:
        if path.lower().endswith(".png"):
            yield stem(path), path


class _AttachMaskFn(beam.DoFn):
    """(stem, {refs, masks}) -> refs with their mask's path, or Failures (two masks, one stem)."""

    def __init__(self) -> None:
        self._without = counter("images_without_mask")

    def process(self, element: Tuple[str, dict]) -> Iterator:
        key, grouped = element
        masks = sorted(grouped["masks"])
        for ref in grouped["refs"]:
            if len(masks) > 1:
                yield beam.pvalue.TaggedOutput(FAILURES, Failure.of(
                    ref.uri, STAGE_LIST, "DuplicateMask", f"{len(masks)} masks are for file stem {key!r}"))
                continue
            if not masks:
                self._without.inc()
            yield dataclasses.replace(ref, mask=masks[0] if masks else None)


class AttachMasks(beam.PTransform):
    """ImageRefs -> ImageRefs with the path of their class-index mask (`refs`), and Failures."""

    def __init__(self, folder: str, label: Optional[str] = None) -> None:
        super().__init__(label)
        self._folder = folder

    def expand(self, refs: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        masks = (
            refs.pipeline
            | "MaskFolder" >> beam.Create([self._folder])
            | "ListMasks" >> beam.FlatMap(_mask_files)
        )
        return _join_by_stem(refs, "masks", masks, _AttachMaskFn())
