"""What a worker does for one image: read its bytes, convert them, build the record.

A module-level function over picklable arguments, so threads and worker processes
(transforms/runtime/pool.py) run the same code; every error becomes a Failure.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image

from transforms.dataset.framing import framed_length
from transforms.elements import STAGE_ENCODE, STAGE_READ, STAGE_TRANSFORM, ConvertedImage, Failure, ImageRef
from transforms.image.conversion import convert
from transforms.image.geometry import Geometry
from transforms.image.masks import MaskError, encode_mask, polygon_mask, read_mask, rle_mask, transform_mask
from transforms.image.spec import ImageSpec, StageError
from transforms.inputs.annotations.model import RLE, AnnotationHead, ObjectColumns, PackedAnnotation
from transforms.inputs.annotations.placement import place_boxes, resolve_frame, whole_frame
from transforms.records.build import build_example
from transforms.records.features import KEY_OBJECT_MASK, KEY_SEGMENTATION, KEY_SEGMENTATION_FORMAT, FeatureValue
from transforms.records.objects import ObjectLists, record_objects
from transforms.records.proto import unit_columns
from transforms.storage.read_bytes import read_bytes


class BuiltRecord(NamedTuple):
    """A serialized Example and what the manifest counts about it."""

    data: bytes
    truncated: bool = False  # its source ran short and what decoded was kept (allow_truncated)
    objects: Tuple[str, ...] = ()  # class names of the objects it holds (detection)
    dropped: Tuple[str, ...] = ()  # why each box that is not in it was dropped
    frame_guessed: bool = False  # its boxes' frame was the default, not told by sizes


@dataclasses.dataclass(frozen=True)
class DetectionSpec:
    """What `input.annotations` says about boxes, and the ids of the classes."""

    class_ids: Tuple[Tuple[str, int], ...]
    frame: str = "auto"
    drop_crowd: bool = False
    drop_difficult: bool = False
    min_visible: float = 0.0
    instance_masks: bool = False  # the dataset's objects have shapes: a mask PNG per object

    @functools.cached_property
    def ids(self) -> Dict[str, int]:
        """{class name: id}, built once, not per image."""
        return dict(self.class_ids)


def place_objects(annotation: Optional[PackedAnnotation], geometry: Geometry, spec: DetectionSpec
                  ) -> Tuple[ObjectLists, Tuple[str, ...], bool, list]:
    """(the record's object lists, reasons of the dropped boxes, frame guessed, the objects' masks
    in the output frame when the dataset has shapes: None where one has none). With masks, an
    object's area is its mask's pixels.

    Column by column (ObjectColumns), without an object made per object: the converting
    threads do this for every image holding the GIL. Where every object is kept and the image
    is neither cropped, letterboxed nor turned from its boxes' frame (most detection datasets),
    the boxes' fractions made where the annotation was read are the record's, and so are the
    entries written there of all its lists but the ids and areas (records.objects)."""
    head, columns = annotation.open() if annotation is not None else (NO_HEAD, NO_OBJECTS)
    if spec.frame != "auto" and spec.frame != head.frame:
        head = head._replace(frame=spec.frame)
    ids = spec.ids
    labels = columns.labels
    every = not (spec.drop_crowd or spec.drop_difficult) and all(map(ids.__contains__, labels))
    if every and columns.unit_boxes is not None and columns.unit_areas is not None and not spec.instance_masks:
        frame, guessed = resolve_frame(head, True, geometry)
        if whole_frame(head, frame, geometry):
            pixels = geometry.output_size[0] * geometry.output_size[1]
            objects = ObjectLists(labels, [ids[label] for label in labels], columns.unit_boxes,
                                  [area * pixels for area in columns.unit_areas], columns.crowd, columns.difficult,
                                  columns.truncated, columns.views, columns.written)
            return objects, (), guessed, []
    chosen, dropped = (None, []) if every else _chosen(columns, spec)
    boxes = columns.boxes if chosen is None else [columns.boxes[4 * i + k] for i in chosen for k in range(4)]
    placed = place_boxes(boxes, head, geometry, spec.min_visible)
    for reason, count in placed.dropped.items():
        dropped += [reason] * count
    placed_of = range(len(labels)) if chosen is None else chosen  # the objects place_boxes saw, in order
    kept = chosen if placed.kept is None else [placed_of[i] for i in placed.kept]
    if kept is None:
        crowd, difficult, truncated, views = columns.crowd, columns.difficult, columns.truncated, columns.views
    else:
        labels = tuple([labels[i] for i in kept])
        crowd, difficult, truncated = (bytes([flags[i] for i in kept]) for flags in
                                       (columns.crowd, columns.difficult, columns.truncated))
        views = [columns.views[i] for i in kept]
    areas = placed.areas
    masks: list = []
    if spec.instance_masks:
        shapes = columns.shapes or (((), None, None),) * len(columns.labels)
        masks = [_instance_mask(*shapes[i][:2], placed.frame, geometry)
                 for i in (range(len(columns.labels)) if kept is None else kept)]
        areas = [area if mask is None else float(np.count_nonzero(mask)) for area, mask in zip(areas, masks)]
    objects = ObjectLists(labels, [ids[label] for label in labels], unit_columns(placed.boxes, *geometry.output_size),
                          areas, crowd, difficult, truncated, views)
    return objects, tuple(dropped), placed.frame_guessed and bool(columns.labels), masks


def _chosen(columns: ObjectColumns, spec: DetectionSpec) -> Tuple[List[int], List[str]]:
    """The objects to place (by index), and why each of the others is not (crowd, difficult or
    a class the dataset does not have, as the config says)."""
    chosen: List[int] = []
    dropped: List[str] = []
    for index, label in enumerate(columns.labels):
        if spec.drop_crowd and columns.crowd[index]:
            dropped.append("crowd (annotations.crowd: drop)")
        elif spec.drop_difficult and columns.difficult[index]:
            dropped.append("difficult (annotations.difficult: drop)")
        elif label not in spec.ids:
            dropped.append("unknown class")
        else:
            chosen.append(index)
    return chosen, dropped


NO_HEAD, NO_OBJECTS = AnnotationHead(None, False, "auto"), ObjectColumns.of(())


def _instance_mask(polygons: Tuple[Tuple[float, ...], ...], rle: Optional[RLE], frame: str,
                   geometry: Geometry) -> Optional[np.ndarray]:
    """The object's mask in the output frame (0 or 1), or None when it has no shape."""
    if not polygons and rle is None:
        return None
    if rle is None:
        return polygon_mask(polygons, geometry, frame)
    size = geometry.stored if frame == "stored" else geometry.upright
    source = Image.fromarray(rle_mask(rle, size), "L")
    return np.asarray(transform_mask(source, geometry, ignore=0, frame=frame))


@dataclasses.dataclass(frozen=True)
class RecordSettings:
    """What turning a ref into a record needs: the image spec, the label ids, the extra kinds,
    for detection the box settings, and for masks the letterbox's class."""

    image: ImageSpec
    labels: Mapping[str, int] = dataclasses.field(default_factory=dict)
    kinds: Mapping[str, str] = dataclasses.field(default_factory=dict)
    detection: Optional[DetectionSpec] = None
    mask_ignore: Optional[int] = None


def convert_ref(ref: ImageRef, spec: ImageSpec) -> Union[ConvertedImage, Failure]:
    """Read and convert one image; every error becomes a Failure with its stage."""
    try:
        data = read_bytes(ref.uri)
    except Exception as exc:  # noqa: BLE001 - a read error fails this input only
        return Failure.from_exception(ref.uri, STAGE_READ, exc)
    try:
        result = convert(data, spec, ref.uri)
    except StageError as exc:
        return Failure.from_exception(ref.uri, exc.stage, exc.cause)
    return ConvertedImage(ref, result.encoded, result.format, result.height, result.width,
                          result.channels, result.sha256, result.geometry, result.truncated)


UNLABELLED = -1  # the label of a record without one, in a dataset whose other records have one


def label_id(ref: ImageRef, labels: Mapping[str, int]) -> Optional[int]:
    """The label id; UNLABELLED for an unlabelled image of a labelled dataset (so every record
    has the same keys, as TFDS and tf.io parsing need); None in an unlabelled dataset."""
    if not labels:
        return None
    return UNLABELLED if ref.label is None else labels.get(ref.label)


def record_label(ref: ImageRef, settings: RecordSettings) -> Optional[int]:
    """The label id a record carries: none in a detection dataset (objects instead)."""
    return None if settings.detection else label_id(ref, settings.labels)


def record_for(ref: ImageRef, settings: RecordSettings) -> Union[BuiltRecord, Failure]:
    """The serialized tf.train.Example for `ref`, or the Failure that stopped it."""
    return build_record(ref, settings.image, record_label(ref, settings), settings.kinds, settings.detection,
                        settings.mask_ignore)


def mask_features(ref: ImageRef, geometry: Geometry, ignore: int) -> Dict[str, FeatureValue]:
    """The segmentation keys of a record: its class-index mask through the image's geometry."""
    if ref.mask is None:
        return {}
    mask = transform_mask(read_mask(read_bytes(ref.mask)), geometry, ignore)
    return {KEY_SEGMENTATION: encode_mask(mask), KEY_SEGMENTATION_FORMAT: "png"}


def records_for(refs: Sequence[ImageRef], settings: RecordSettings) -> List[Union[BuiltRecord, Failure]]:
    """record_for of each ref, the same bytes, with every image of the run converted first and
    then every record built. Measured per image in the converting threads (docs/performance.md):
    building a record right after its own decode and encode ran on caches those had emptied
    (57-69 us for a plain record, 169-174 with 6 boxes); built back to back after 16 images, 23
    and 81-88. The writer hands each thread a run of refs (transforms/pipeline/write_shards)."""
    converted = [convert_ref(ref, settings.image) for ref in refs]
    return [record_of(ref, image, record_label(ref, settings), settings.kinds, settings.detection,
                      settings.mask_ignore) for ref, image in zip(refs, converted)]


def build_record(ref: ImageRef, spec: ImageSpec, label: Optional[int], kinds: Mapping[str, str],
                 detection: Optional[DetectionSpec] = None, mask_ignore: Optional[int] = None
                 ) -> Union[BuiltRecord, Failure]:
    """Read, convert and serialize one image (everything a worker process does for it); with
    `detection`, its annotation's boxes placed in the output frame; with `mask_ignore`, its
    class-index mask (the letterbox filled with that class)."""
    return record_of(ref, convert_ref(ref, spec), label, kinds, detection, mask_ignore)


def record_of(ref: ImageRef, converted: Union[ConvertedImage, Failure], label: Optional[int],
              kinds: Mapping[str, str], detection: Optional[DetectionSpec] = None,
              mask_ignore: Optional[int] = None) -> Union[BuiltRecord, Failure]:
    """The record of an image convert_ref has converted (build_record's second half), or the
    Failure that stopped it."""
    if isinstance(converted, Failure):
        return converted
    extra: Dict[str, FeatureValue] = {}
    if mask_ignore is not None and converted.geometry is not None:
        try:
            extra = mask_features(ref, converted.geometry, mask_ignore)
        except (MaskError, OSError) as exc:
            return Failure.from_exception(ref.mask or ref.uri, STAGE_TRANSFORM, exc)
    try:
        if detection is None or converted.geometry is None:
            objects = extra or None
            return BuiltRecord(build_example(converted, label, kinds, objects, keep_label=True), converted.truncated)
        placed, dropped, guessed, masks = place_objects(ref.annotation, converted.geometry, detection)
        objects = {**record_objects(placed), **extra}
        if detection.instance_masks:
            blank = np.zeros((converted.height, converted.width), np.uint8)
            objects[KEY_OBJECT_MASK] = [encode_mask(Image.fromarray(blank if m is None else m, "L")) for m in masks]
        return BuiltRecord(build_example(converted, label, kinds, objects), converted.truncated,
                           tuple(placed.labels), dropped, guessed)
    except Exception as exc:  # noqa: BLE001
        return Failure.from_exception(ref.uri, STAGE_ENCODE, exc)


def mean_record_bytes(sample: Iterable[ImageRef], image: ImageSpec) -> Optional[float]:
    """The mean framed size of the records a sample of refs turns into (None if none convert)."""
    return sample_records(sample, image)[0]


def sample_records(sample: Iterable[ImageRef], image: ImageSpec) -> Tuple[Optional[float], List[Failure]]:
    """A sample of refs converted: the mean framed size of their records (None if none
    converted), and the Failures of those that did not."""
    sizes, failures = [], []
    for ref in sample:
        record = record_for(ref, RecordSettings(image))
        if isinstance(record, Failure):
            failures.append(record)
        else:
            sizes.append(framed_length(record.data))
    return (sum(sizes) / len(sizes) if sizes else None), failures
