"""Class-index masks (semantic segmentation) through the geometry of their image: the same
orientation, crop, resize and letterbox, resampled by nearest neighbour so every output
pixel is a class of the input; what the letterbox adds is `ignore`."""
from __future__ import annotations

import io
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image

from transforms.image.conversion import ORIENTATION_FIX
from transforms.image.geometry import Geometry

IGNORE = 255  # VOC's border / unlabelled value


class MaskError(ValueError):
    """A mask that cannot be read as class indices, or whose size fits neither frame."""


def read_mask(data: bytes) -> Image.Image:
    """A palette, greyscale or 1-bit PNG as an L image of class indices (a palette's indices are
    the classes; a 1-bit mask's are 0 and 1, as binary segmentation datasets store them)."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:  # noqa: BLE001 - a broken mask fails its image
        raise MaskError(f"the mask does not decode ({type(exc).__name__}: {exc})") from None
    if image.format != "PNG":  # a JPEG named .png: its compression made class indices no one drew
        raise MaskError(f"the mask is {image.format or 'not a PNG'}, not a PNG: a class-index mask must be lossless")
    if image.mode == "1":  # Pillow reads its bits as 0 and 255 when converting: the bits are the classes
        return Image.fromarray(np.asarray(image, dtype=np.uint8), "L")
    if image.mode == "P":
        return Image.fromarray(np.asarray(image, dtype=np.uint8), "L")  # indices, not the palette's colours
    if image.mode in ("L", "I;16", "I"):
        indices = np.asarray(image)
        if indices.max(initial=0) > 255:
            raise MaskError(f"class indices up to {int(indices.max())} do not fit 8 bits")
        return Image.fromarray(indices.astype(np.uint8), "L")
    raise MaskError(f"a class-index mask is a palette, greyscale or 1-bit image, not {image.mode}")


def mask_frame(size: Tuple[int, int], geometry: Geometry) -> str:
    """Which frame a mask of `size` is in: stored, upright, or the error that it fits neither."""
    if size == geometry.stored:
        return "stored"
    if size == geometry.upright:
        return "upright"
    raise MaskError(f"the mask is {size[0]}x{size[1]}, the image {geometry.stored[0]}x{geometry.stored[1]}")


def transform_mask(mask: Image.Image, geometry: Geometry, ignore: int = IGNORE,
                   frame: Optional[str] = None) -> Image.Image:
    """`mask` (an L image of class indices, in the stored or upright frame: `frame`, or told
    by its size) in the output frame."""
    if (frame or mask_frame(mask.size, geometry)) == "stored" and geometry.orientation in ORIENTATION_FIX:
        mask = mask.transpose(ORIENTATION_FIX[geometry.orientation])
    plan = geometry.plan
    if not (plan.is_identity and mask.size == plan.source):
        mask = mask.resize(plan.size, Image.Resampling.NEAREST, box=plan.box)
    if plan.canvas is not None:
        canvas = Image.new("L", plan.canvas, ignore)
        canvas.paste(mask, plan.offset)
        mask = canvas
    return mask


MASK_COMPRESS_LEVEL = 1  # zlib level: masks are runs of a few values; level 6 took twice the time


def encode_mask(mask: Image.Image) -> bytes:
    """A mask as PNG. zlib's fastest level: a 341x256 object mask encodes in 0.17 ms instead of
    0.32 (Pillow's default level), at 0.8 KB instead of 0.4 KB, beside a 30 KB image."""
    buffer = io.BytesIO()
    mask.save(buffer, "PNG", compress_level=MASK_COMPRESS_LEVEL)
    return buffer.getvalue()


def rle_mask(rle, size: Tuple[int, int]) -> np.ndarray:
    """One object's binary mask (H x W uint8) of its COCO RLE, in a frame of `size`, decoded by
    pycocotools, so masks are COCO's own."""
    from pycocotools import mask as coco_mask

    width, height = size
    if (rle.width, rle.height) != (width, height):
        raise MaskError(f"an RLE of {rle.width}x{rle.height} on an image of {width}x{height}")
    counts = _string_counts(rle.counts) if isinstance(rle.counts, str) else list(rle.counts)
    if counts is None or min(counts, default=0) < 0 or sum(counts) != width * height:
        raise MaskError(f"an RLE whose counts do not cover its {width}x{height} pixels")  # pycocotools: garbage
    shape = [rle.height, rle.width]
    encoded = ({"counts": rle.counts.encode("ascii"), "size": shape} if isinstance(rle.counts, str)  # compressed
               else coco_mask.frPyObjects({"counts": list(rle.counts), "size": shape}, rle.height, rle.width))
    return np.asarray(coco_mask.decode(encoded), dtype=np.uint8)


def polygon_mask(polygons, geometry: Geometry, frame: str) -> np.ndarray:
    """One object's binary mask of its COCO polygons (in the `frame` of the source), rasterised
    by pycocotools where the geometry puts them: at output size, never in the letterbox.

    Rasterising at the source size and resizing the mask (what an RLE takes) cost 0.5 ms an object
    of a camera photo; the polygon's points are mapped instead, as its box's are."""
    from pycocotools import mask as coco_mask

    width, height = geometry.output_size
    mapped = [_within_reach(geometry.map_points(np.asarray(p, dtype=np.float64).reshape(-1, 2), frame), width, height)
              for p in polygons]
    mapped = [p.ravel().tolist() for p in mapped if len(p) >= 3]
    if not mapped:  # every polygon lies far outside the output
        return np.zeros((height, width), np.uint8)
    mask = np.asarray(coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(mapped, height, width))), np.uint8)
    left, top = geometry.plan.offset
    inner_w, inner_h = geometry.plan.size
    if (left, top, inner_w, inner_h) != (0, 0, width, height):  # letterbox: only the image's pixels
        clipped = np.zeros_like(mask)
        clipped[top:top + inner_h, left:left + inner_w] = mask[top:top + inner_h, left:left + inner_w]
        mask = clipped
    return mask


def _within_reach(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """A polygon's points (N x 2, output pixels), clipped to the output grown by its longer side
    on every edge (Sutherland-Hodgman: the region inside is the same). pycocotools' rasteriser
    works and allocates in proportion to a polygon's extent: a point at 1e7 took it a second, and
    a NaN (which COCO files can hold: Python's json reads it) took all the memory there was.
    ValueError for NaN or infinity: the image fails, naming why."""
    if not np.isfinite(points).all():
        raise ValueError("a polygon with NaN or infinite coordinates")
    reach = float(max(width, height))
    low_x, low_y, high_x, high_y = -reach, -reach, width + reach, height + reach
    if not len(points) or (points[:, 0].min() >= low_x and points[:, 1].min() >= low_y
                           and points[:, 0].max() <= high_x and points[:, 1].max() <= high_y):
        return points  # every real annotation: unchanged
    kept = [tuple(p) for p in points.tolist()]
    for axis, bound, above in ((0, low_x, True), (0, high_x, False), (1, low_y, True), (1, high_y, False)):
        clipped = []
        for i, point in enumerate(kept):
            before = kept[i - 1]
            inside = point[axis] >= bound if above else point[axis] <= bound
            was_inside = before[axis] >= bound if above else before[axis] <= bound
            if inside != was_inside:  # the edge crosses the bound: where it does
                t = (bound - before[axis]) / (point[axis] - before[axis])
                clipped.append((before[0] + t * (point[0] - before[0]), before[1] + t * (point[1] - before[1])))
            if inside:
                clipped.append(point)
        kept = clipped
        if not kept:
            break
    return np.array(kept, dtype=np.float64).reshape(-1, 2)


def _string_counts(text: str) -> Optional[List[int]]:
    """The runs of a compressed COCO RLE (pycocotools' rleFrString, in Python), or None when the
    string ends inside a number. Given counts that do not add up to the mask, pycocotools
    decodes what they cover and leaves the rest of the mask as it found the memory."""
    counts: List[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                return None
            char = ord(text[position]) - 48
            value |= (char & 0x1F) << (5 * shift)
            more = bool(char & 0x20)
            position += 1
            shift += 1
            if not more and char & 0x10:
                value |= -1 << (5 * shift)
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts
