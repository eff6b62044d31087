"""Boxes from an annotation's source frame into the output frame, through the Geometry the
image path returned: the frame decided per image, boxes mapped, clipped to the image's
pixels in the output (never the letterbox), and every dropped box counted by reason."""
from __future__ import annotations

import functools
from math import isfinite
from typing import Dict, NamedTuple, Optional, Tuple

from transforms.image.geometry import Geometry
from transforms.inputs.annotations.model import AnnotatedObject, Annotation, AnnotationError, Box

DEFAULT_FRAME = "upright"  # annotation tools draw on the image as shown, EXIF orientation applied
DROPPED_OUTSIDE = "outside the output"  # nothing left after the crop (fill) or clipping
DROPPED_HIDDEN = "under annotations.min_visible"
DROPPED_EMPTY = "empty box"  # xmax <= xmin or ymax <= ymin as given
DROPPED_NOT_FINITE = "not a finite box"  # NaN or infinity as given (JSON's NaN, "nan" or "inf" in XML or CSV)


class PlacedObject(NamedTuple):
    """An object in output pixels: its box clipped to the image there, and that box's area."""

    source: AnnotatedObject
    box: Box
    area: float


class Placement(NamedTuple):
    """An annotation's objects placed in the output (a NamedTuple: one is made per image)."""

    objects: Tuple[PlacedObject, ...]
    dropped: Dict[str, int]
    frame: str  # stored or upright: the frame the boxes were read in
    frame_guessed: bool  # auto could not tell (no size, square image, orientation 2-4): the default


def resolve_frame(annotation: Annotation, geometry: Geometry, default: str = DEFAULT_FRAME) -> Tuple[str, bool]:
    """The frame of the annotation's boxes, and whether it had to be guessed.

    `auto` compares the size the annotation declares with the stored and upright sizes;
    where those are equal (no rotation, a square image, orientations 2-4) or no size is
    declared, it cannot tell, except that without any orientation both frames are one.

    AnnotationError when the declared size is neither and there are boxes: they were drawn on
    another copy of the image (a thumbnail, a re-encoded or resized file), and placed here they
    would be wrong."""
    if annotation.objects and annotation.size is not None \
            and tuple(annotation.size) not in (geometry.stored, geometry.upright):
        width, height = annotation.size
        raise AnnotationError(f"the annotation is for a {width}x{height} image; this one is "
                              f"{geometry.stored[0]}x{geometry.stored[1]}: boxes drawn on another copy of it")
    if annotation.frame in ("stored", "upright"):
        return annotation.frame, False
    if geometry.orientation == 1:
        return "stored", False
    if annotation.size is not None and geometry.stored != geometry.upright:
        if tuple(annotation.size) == geometry.stored:
            return "stored", False
        if tuple(annotation.size) == geometry.upright:
            return "upright", False
    return default, True


def _content(geometry: Geometry) -> Box:
    """Where the image's pixels lie in the output (inside a letterbox, for pad)."""
    left, top = geometry.plan.offset
    width, height = geometry.plan.size
    return (float(left), float(top), float(left + width), float(top + height))


def place(annotation: Annotation, geometry: Geometry, min_visible: float = 0.0,
          default_frame: str = DEFAULT_FRAME) -> Placement:
    """The annotation's boxes in output pixels; boxes left with nothing (or with less than
    `min_visible` of their area) are dropped and counted by reason."""
    frame, guessed = resolve_frame(annotation, geometry, default_frame)
    dropped: Dict[str, int] = {}
    kept = []
    if annotation.objects:
        width, height = geometry.stored if frame == "stored" else geometry.upright
        boxes = [o.box for o in annotation.objects]
        if annotation.normalised:
            boxes = [(x0 * width, y0 * height, x1 * width, y1 * height) for x0, y0, x1, y1 in boxes]
        mapped = geometry.map_boxes(boxes, frame)
        content = cx0, cy0, cx1, cy1 = _content(geometry)
        for obj, given, out in zip(annotation.objects, boxes, mapped):  # per object: kept lean (docs/performance.md)
            x0, y0, x1, y1 = out
            x0, y0 = (x0 if x0 > cx0 else cx0), (y0 if y0 > cy0 else cy0)
            x1, y1 = (x1 if x1 < cx1 else cx1), (y1 if y1 < cy1 else cy1)
            gx0, gy0, gx1, gy1 = given  # NaN fails every comparison: only `not >` catches it, and isfinite infinity
            if not (x1 > x0 and y1 > y0 and gx1 > gx0 and gy1 > gy0 and isfinite(gx1 - gx0 + gy1 - gy0)) or min_visible:
                reason = _why_dropped(given, out, content, min_visible)  # the rare case, said by reason
                if reason is not None:
                    dropped[reason] = dropped.get(reason, 0) + 1
                    continue
            kept.append(_placed((obj, (x0, y0, x1, y1), (x1 - x0) * (y1 - y0))))
    return Placement(tuple(kept), dropped, frame, guessed)


_placed = functools.partial(tuple.__new__, PlacedObject)  # PlacedObject._make without its Python frame


def _why_dropped(given: Box, out, content: Box, min_visible: float) -> Optional[str]:
    if not all(map(isfinite, given)):
        return DROPPED_NOT_FINITE
    if given[2] <= given[0] or given[3] <= given[1]:
        return DROPPED_EMPTY
    x0, y0 = max(out[0], content[0]), max(out[1], content[1])
    x1, y1 = min(out[2], content[2]), min(out[3], content[3])
    if x1 <= x0 or y1 <= y0:
        return DROPPED_OUTSIDE
    if min_visible > 0 and (x1 - x0) * (y1 - y0) < min_visible * (out[2] - out[0]) * (out[3] - out[1]):
        return DROPPED_HIDDEN
    return None
