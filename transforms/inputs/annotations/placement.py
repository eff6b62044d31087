"""Boxes from an annotation's source frame into the output frame, through the Geometry the
image path returned: the frame decided per image, boxes mapped, clipped to the image's
pixels in the output (never the letterbox), and every dropped box counted by reason."""
from __future__ import annotations

from math import isfinite
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, cast

from transforms.image.geometry import Geometry
from transforms.inputs.annotations.model import AnnotatedObject, Annotation, AnnotationError, AnnotationHead, Box

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


class PlacedBoxes(NamedTuple):
    """place_boxes' answer: which of the boxes are kept, where, and why the others are not."""

    kept: Optional[List[int]]  # the indices of the boxes kept, in order; None when every one is
    boxes: List[float]  # the kept boxes in output pixels, clipped: xmin, ymin, xmax, ymax of each in turn
    areas: List[float]  # their areas in output pixels
    dropped: Dict[str, int]
    frame: str
    frame_guessed: bool


def resolve_frame(head: AnnotationHead, has_boxes: bool, geometry: Geometry,
                  default: str = DEFAULT_FRAME) -> Tuple[str, bool]:
    """The frame of the annotation's boxes, and whether it had to be guessed.

    `auto` compares the size the annotation declares with the stored and upright sizes;
    where those are equal (no rotation, a square image, orientations 2-4) or no size is
    declared, it cannot tell, except that without any orientation both frames are one.

    AnnotationError when the declared size is neither and there are boxes: they were drawn on
    another copy of the image (a thumbnail, a re-encoded or resized file), and placed here they
    would be wrong."""
    size = head.size
    if has_boxes and size is not None and tuple(size) not in (geometry.stored, geometry.upright):
        width, height = size
        raise AnnotationError(f"the annotation is for a {width}x{height} image; this one is "
                              f"{geometry.stored[0]}x{geometry.stored[1]}: boxes drawn on another copy of it")
    if head.frame in ("stored", "upright"):
        return head.frame, False
    if geometry.orientation == 1:
        return "stored", False
    if size is not None and geometry.stored != geometry.upright:
        if tuple(size) == geometry.stored:
            return "stored", False
        if tuple(size) == geometry.upright:
            return "upright", False
    return default, True


def whole_frame(head: AnnotationHead, frame: str, geometry: Geometry) -> bool:
    """Whether boxes in `frame` keep their fractions of it in the output (ObjectColumns.unit_boxes
    are then the record's): the image is neither cropped nor letterboxed, nor turned from that
    frame, and the annotation's declared size (or fractions) is that frame's. Resizing scales
    both axes of the whole image, so a box's fractions do not change."""
    plan = geometry.plan
    if plan.canvas is not None or frame == "stored" and geometry.orientation != 1:
        return False
    upright = geometry.upright
    if plan.box != (0.0, 0.0, float(upright[0]), float(upright[1])):
        return False
    return head.normalised or head.size is not None and tuple(head.size) == upright


def _content(geometry: Geometry) -> Box:
    """Where the image's pixels lie in the output (inside a letterbox, for pad)."""
    left, top = geometry.plan.offset
    width, height = geometry.plan.size
    return (float(left), float(top), float(left + width), float(top + height))


def place_boxes(boxes: Sequence[float], head: AnnotationHead, geometry: Geometry, min_visible: float = 0.0,
                default_frame: str = DEFAULT_FRAME) -> PlacedBoxes:
    """Boxes (given flat, as ObjectColumns holds them) in output pixels; boxes left with nothing
    (or with less than `min_visible` of their area) are dropped and counted by reason."""
    frame, guessed = resolve_frame(head, bool(boxes), geometry, default_frame)
    dropped: Dict[str, int] = {}
    if not boxes:
        return PlacedBoxes(None, [], [], dropped, frame, guessed)
    if head.normalised:
        width, height = geometry.stored if frame == "stored" else geometry.upright
        boxes = [v * scale for v, scale in zip(boxes, (width, height) * (len(boxes) // 2))]
    mapped = geometry.map_flat_boxes(boxes, frame)
    content = cx0, cy0, cx1, cy1 = _content(geometry)
    kept: Optional[List[int]] = None
    out: List[float] = []
    areas: List[float] = []
    given, placed = iter(boxes), iter(mapped)
    for index, (gx0, gy0, gx1, gy1, x0, y0, x1, y1) in enumerate(zip(given, given, given, given,
                                                                    placed, placed, placed, placed)):
        x0, y0 = (x0 if x0 > cx0 else cx0), (y0 if y0 > cy0 else cy0)  # per box: kept lean (docs/performance.md)
        x1, y1 = (x1 if x1 < cx1 else cx1), (y1 if y1 < cy1 else cy1)
        # NaN fails every comparison: only `not >` catches it, and isfinite infinity
        if not (x1 > x0 and y1 > y0 and gx1 > gx0 and gy1 > gy0 and isfinite(gx1 - gx0 + gy1 - gy0)) or min_visible:
            reason = _why_dropped((gx0, gy0, gx1, gy1), mapped[4 * index:4 * index + 4], content, min_visible)
            if reason is not None:  # the rare case, said by reason
                dropped[reason] = dropped.get(reason, 0) + 1
                if kept is None:
                    kept = list(range(index))
                continue
        if kept is not None:
            kept.append(index)
        out += (x0, y0, x1, y1)
        areas.append((x1 - x0) * (y1 - y0))
    return PlacedBoxes(kept, out, areas, dropped, frame, guessed)


def place(annotation: Annotation, geometry: Geometry, min_visible: float = 0.0,
          default_frame: str = DEFAULT_FRAME) -> Placement:
    """The annotation's objects in output pixels (place_boxes, object by object)."""
    head = AnnotationHead(annotation.size, annotation.normalised, annotation.frame)
    placed = place_boxes([v for o in annotation.objects for v in o.box], head, geometry, min_visible, default_frame)
    kept = range(len(annotation.objects)) if placed.kept is None else placed.kept
    objects = tuple(PlacedObject(annotation.objects[index], cast(Box, tuple(placed.boxes[4 * n:4 * n + 4])),
                                 placed.areas[n])
                    for n, index in enumerate(kept))
    return Placement(objects, placed.dropped, placed.frame, placed.frame_guessed)


def _why_dropped(given: Box, out: Sequence[float], content: Box, min_visible: float) -> Optional[str]:
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
