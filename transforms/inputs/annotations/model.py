"""One image's annotation, whatever format it came from: objects with boxes in the pixels
of a source frame, their class, flags, and optional shapes (polygons, RLE, a mask file)."""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import pickle
from typing import FrozenSet, List, NamedTuple, Optional, Sequence, Tuple, cast

from transforms.records.objects import written_lists
from transforms.records.proto import unit_columns

Box = Tuple[float, float, float, float]  # xmin, ymin, xmax, ymax: continuous, pixel (i, j) is [i, i+1)
FRAMES = ("auto", "stored", "upright")


class AnnotationError(ValueError):
    """An annotation file or row that cannot be read; the message names the file and the place."""


class RLE(NamedTuple):
    """COCO run-length encoding: `counts` over a `height` x `width` mask in column-major order
    (uncompressed list, or COCO's compressed string)."""

    counts: Tuple[int, ...] | str
    height: int
    width: int


class AnnotatedObject(NamedTuple):
    """One object. `box` is in source pixels, or in fractions of the image when the
    annotation's `normalised` is set (YOLO); `class_id` keeps a format's own id (COCO).

    A NamedTuple, not a dataclass: objects travel with their image through the job's
    groupings, and tuples pickle and unpickle several times faster (see Annotation)."""

    label: str
    box: Box
    class_id: Optional[int] = None
    crowd: bool = False
    difficult: bool = False
    truncated: bool = False
    view: str = ""
    polygons: Tuple[Tuple[float, ...], ...] = ()  # x1, y1, x2, y2, ... in the box's frame and units
    rle: Optional[RLE] = None
    area: Optional[float] = None  # as the file states it (recomputed in output pixels on placement)


@dataclasses.dataclass(frozen=True)
class Annotation:
    """The objects of one image, joined to its ImageRef by `key` (or by `file_name`).

    `size` is the (width, height) the file declares for the image, if it does (VOC, COCO,
    CSV): it tells which frame the boxes are in. `frame` is `auto` unless the format (or
    the config) says."""

    key: str
    objects: Tuple[AnnotatedObject, ...] = ()
    size: Optional[Tuple[int, int]] = None
    normalised: bool = False
    frame: str = "auto"
    file_name: str = ""
    split: str = ""  # the split its file is for (COCO {split: file}); "" leaves it to the split rule


class ObjectColumns(NamedTuple):
    """An image's objects as columns, one entry per object in each: the form they travel and
    are placed in. Placing them and writing their record keys goes column by column (a box's
    numbers, a flag's bytes, the names as they are), not object by object: the converting
    threads do it for every image while holding the GIL (docs/performance.md)."""

    labels: Tuple[str, ...]
    boxes: Tuple[float, ...]  # xmin, ymin, xmax, ymax of each object in turn
    class_ids: Tuple[Optional[int], ...]
    crowd: bytes  # 0 or 1 per object
    difficult: bytes
    truncated: bytes
    views: Tuple[str, ...]
    shapes: Optional[Tuple[Tuple[Tuple[Tuple[float, ...], ...], Optional[RLE], Optional[float]], ...]]
    # (polygons, rle, area as given) per object; None when no object has any of them
    unit_boxes: Optional[bytes] = None  # the boxes as fractions of the frame the annotation declares,
    # float32 little-endian, every xmin, then every ymin, xmax, ymax: what the record holds for them
    # where the image is neither cropped, letterboxed nor turned (placement.whole_frame); None unless
    # every box lies whole inside that frame
    unit_areas: Optional[Tuple[float, ...]] = None  # their areas as fractions of the frame's
    written: Optional[Tuple[bytes, bytes]] = None  # where unit_boxes is: the map entries of a record that
    # takes these objects as read, all but the ids' and areas' (records.objects.written_lists)

    @classmethod
    def of(cls, objects: Sequence[AnnotatedObject], size: Optional[Tuple[int, int]] = None,
           normalised: bool = False) -> "ObjectColumns":
        """The columns of `objects`, whose boxes are in pixels of a `size` image, or fractions of
        it when `normalised`."""
        if not objects:
            return cls((), (), (), b"", b"", b"", (), None)
        labels, given, class_ids, crowd, difficult, truncated, views, polygons, rles, areas = zip(*objects)
        boxes = tuple(itertools.chain.from_iterable(given))
        any_shape = any(polygons) or rles.count(None) < len(rles) or areas.count(None) < len(areas)
        flags = bytes(map(bool, crowd)), bytes(map(bool, difficult)), bytes(map(bool, truncated))
        units, unit_areas = _unit_boxes(boxes, (1, 1) if normalised else size)
        return cls(labels, boxes, class_ids, *flags, views, tuple(zip(polygons, rles, areas)) if any_shape else None,
                   units, unit_areas, None if units is None else written_lists(labels, units, *flags, views))

    def objects(self) -> Tuple[AnnotatedObject, ...]:
        shapes = self.shapes or (((), None, None),) * len(self.labels)
        boxes = self.boxes
        return tuple(AnnotatedObject(label, cast(Box, boxes[4 * i:4 * i + 4]), self.class_ids[i], bool(self.crowd[i]),
                                     bool(self.difficult[i]), bool(self.truncated[i]), self.views[i], *shapes[i])
                     for i, label in enumerate(self.labels))

    def has_shapes(self) -> bool:
        """Some object has polygons or an RLE (so the dataset has instance masks)."""
        return self.shapes is not None and any(p or r is not None for p, r, _ in self.shapes)


def _unit_boxes(boxes: Tuple[float, ...], size: Optional[Tuple[int, int]]
                ) -> Tuple[Optional[bytes], Optional[Tuple[float, ...]]]:
    """ObjectColumns' unit boxes and areas: made where an annotation is read (once, in one
    thread), so that converting its image needs no arithmetic per box in the common case."""
    if not boxes or size is None or not (size[0] > 0 and size[1] > 0):
        return None, None
    width, height = size
    corners = iter(boxes)
    areas: List[float] = []
    for x0, y0, x1, y1 in zip(corners, corners, corners, corners):
        if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):  # NaN fails too
            return None, None
        areas.append((x1 - x0) / width * ((y1 - y0) / height))
    return unit_columns(boxes, width, height), tuple(areas)


class PackedAnnotation:
    """An image's Annotation as bytes, the form it travels in: pickled once where it is read,
    unpickled where its image is converted. Between the two, the job groups its image's ref
    several times (by file stem, hash bucket and shard), and bytes cross those groupings at
    the cost of a copy, where objects cost their pickling each time (docs/performance.md).
    Its objects are pickled as ObjectColumns: a few tuples to unpickle, not a tuple per object."""

    __slots__ = ("data", "_classes")

    def __init__(self, data: bytes, classes: Optional["ObjectClasses"] = None) -> None:
        self.data = data
        self._classes = classes  # kept where it was packed, never pickled

    @classmethod
    def of(cls, annotation: Annotation) -> "PackedAnnotation":
        columns = ObjectColumns.of(annotation.objects, annotation.size, annotation.normalised)
        state = (annotation.key, annotation.size, annotation.normalised, annotation.frame, annotation.file_name,
                 annotation.split, tuple(columns))
        return cls(pickle.dumps(state, pickle.HIGHEST_PROTOCOL), _classes_of(columns))

    def open(self) -> Tuple["AnnotationHead", ObjectColumns]:
        """What the record of its image needs, without an object per object: where the boxes
        are (size, normalised, frame) and the objects as columns."""
        key, size, normalised, frame, _, _, columns = pickle.loads(self.data)
        return _head((size, normalised, frame)), _columns(columns)

    def unpack(self) -> Annotation:
        key, size, normalised, frame, file_name, split, columns = pickle.loads(self.data)
        return Annotation(key, _columns(columns).objects(), size, normalised, frame, file_name, split)

    def classes(self) -> "ObjectClasses":
        """What the dataset's facts need of the objects (their classes, whether any has a shape):
        known without unpacking where the annotation was packed (the job's facts are gathered in
        the same step on one machine), unpacked from the bytes elsewhere."""
        if self._classes is None:
            self._classes = _classes_of(_columns(pickle.loads(self.data)[-1]))
        return self._classes

    def __reduce__(self) -> tuple:
        return PackedAnnotation, (self.data,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PackedAnnotation) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        """What shard digests see: the content, by its hash. The bytes' own repr (about 3 characters
        a byte, 1.5 KB with 6 objects, hashed again by the digest) was most of a detection shard
        digest's work."""
        return f"PackedAnnotation(blake2b={hashlib.blake2b(self.data, digest_size=20).hexdigest()})"


class AnnotationHead(NamedTuple):
    """Where an annotation's boxes are: the image size it declares, whether the boxes are
    fractions of it, and their frame (placement.resolve_frame)."""

    size: Optional[Tuple[int, int]]
    normalised: bool
    frame: str


class ObjectClasses(NamedTuple):
    labels: FrozenSet[str]  # the class names of the objects
    ids: Tuple[Tuple[str, int], ...]  # a format's own id per name (COCO), the last object's where two differ
    shapes: bool  # some object has polygons or RLE


def _classes_of(columns: ObjectColumns) -> ObjectClasses:
    ids = {label: class_id for label, class_id in zip(columns.labels, columns.class_ids) if class_id is not None}
    return ObjectClasses(frozenset(columns.labels), tuple(ids.items()), columns.has_shapes())


_columns = functools.partial(tuple.__new__, ObjectColumns)  # ObjectColumns._make without its Python frame
_head = functools.partial(tuple.__new__, AnnotationHead)
