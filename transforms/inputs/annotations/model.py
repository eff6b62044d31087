"""One image's annotation, whatever format it came from: objects with boxes in the pixels
of a source frame, their class, flags, and optional shapes (polygons, RLE, a mask file)."""
from __future__ import annotations

import dataclasses
import functools
import pickle
from typing import FrozenSet, NamedTuple, Optional, Tuple

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


class PackedAnnotation:
    """An image's Annotation as bytes, the form it travels in: pickled once where it is read,
    unpickled where its image is converted. Between the two, the job groups its image's ref
    several times (by file stem, hash bucket and shard), and bytes cross those groupings at
    the cost of a copy, where objects cost their pickling each time (docs/performance.md)."""

    __slots__ = ("data", "_classes")

    def __init__(self, data: bytes, classes: Optional["ObjectClasses"] = None) -> None:
        self.data = data
        self._classes = classes  # kept where it was packed, never pickled

    @classmethod
    def of(cls, annotation: Annotation) -> "PackedAnnotation":
        objects = tuple(map(tuple, annotation.objects))
        state = (annotation.key, objects, annotation.size, annotation.normalised,
                 annotation.frame, annotation.file_name, annotation.split)
        return cls(pickle.dumps(state, pickle.HIGHEST_PROTOCOL), _classes_of(objects))

    def unpack(self) -> Annotation:
        key, objects, *rest = pickle.loads(self.data)
        return Annotation(key, tuple(map(_as_object, objects)), *rest)

    def classes(self) -> "ObjectClasses":
        """What the dataset's facts need of the objects (their classes, whether any has a shape):
        known without unpacking where the annotation was packed (the job's facts are gathered in
        the same step on one machine), unpacked from the bytes elsewhere."""
        if self._classes is None:
            self._classes = _classes_of(pickle.loads(self.data)[1])
        return self._classes

    def __reduce__(self) -> tuple:
        return PackedAnnotation, (self.data,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PackedAnnotation) and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:  # what shard digests see: the content
        return f"PackedAnnotation({self.data!r})"


class ObjectClasses(NamedTuple):
    labels: FrozenSet[str]  # the class names of the objects
    ids: Tuple[Tuple[str, int], ...]  # a format's own id per name (COCO), the last object's where two differ
    shapes: bool  # some object has polygons or RLE


def _classes_of(objects: Tuple[tuple, ...]) -> ObjectClasses:
    """ObjectClasses of AnnotatedObjects as plain tuples (label, box, class_id, ..., polygons, rle, area)."""
    ids = {o[0]: o[2] for o in objects if o[2] is not None}
    return ObjectClasses(frozenset(o[0] for o in objects), tuple(ids.items()),
                         any(o[7] or o[8] is not None for o in objects))


_as_object = functools.partial(tuple.__new__, AnnotatedObject)  # AnnotatedObject._make without its Python frame
