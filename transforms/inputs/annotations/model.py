"""One image's annotation, whatever format it came from: objects with boxes in the pixels
of a source frame, their class, flags, and optional shapes (polygons, RLE, a mask file)."""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

Box = Tuple[float, float, float, float]  # xmin, ymin, xmax, ymax: continuous, pixel (i, j) is [i, i+1)
FRAMES = ("auto", "stored", "upright")


class AnnotationError(ValueError):
    """An annotation file or row that cannot be read; the message names the file and the place."""


@dataclasses.dataclass(frozen=True)
class RLE:
    """COCO run-length encoding: `counts` over a `height` x `width` mask in column-major order
    (uncompressed list, or COCO's compressed string)."""

    counts: Tuple[int, ...] | str
    height: int
    width: int


@dataclasses.dataclass(frozen=True)
class AnnotatedObject:
    """One object. `box` is in source pixels, or in fractions of the image when the
    annotation's `normalised` is set (YOLO); `class_id` keeps a format's own id (COCO)."""

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
