"""Geometry: target sizes, crop boxes and letterbox offsets, and the mapping of points and
boxes from the stored frame of a source image to the output frame.

Pure arithmetic with no image library, so every mode can be tested exhaustively and
the result does not depend on how the pixels were decoded (e.g. JPEG draft scaling).
Coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1), so a box drawn on
whole pixels maps onto the output pixels that resample it.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

if TYPE_CHECKING:  # NumPy is imported where points are mapped, so the config stays light
    import numpy as np

Size = Tuple[int, int]
Box = Tuple[float, float, float, float]
FRAMES = ("stored", "upright")


@dataclasses.dataclass(frozen=True)
class ResizeSpec:
    """What `image.resize` asks for; `width`/`height` for box modes, `size` for side modes."""

    mode: str = "none"
    width: Optional[int] = None
    height: Optional[int] = None
    size: Optional[int] = None
    upscale: bool = True

    @property
    def box(self) -> Size:
        """(width, height) of the box modes; the config has checked both are given."""
        if self.width is None or self.height is None:
            raise ValueError(f"resize mode {self.mode} needs a width and a height")
        return (self.width, self.height)

    @property
    def side(self) -> int:
        """The side of the side modes; the config has checked it is given."""
        if self.size is None:
            raise ValueError(f"resize mode {self.mode} needs a size")
        return self.size


@dataclasses.dataclass(frozen=True)
class ResizePlan:
    """How to turn a `source` sized image into the output.

    Crop `box` (source coordinates) out of the source, resample it to `size`, then, for
    `pad`, paste it at `offset` on a `canvas` sized background.
    """

    source: Size
    size: Size
    box: Box
    canvas: Optional[Size] = None
    offset: Size = (0, 0)

    @property
    def output_size(self) -> Size:
        return self.canvas or self.size

    @property
    def is_identity(self) -> bool:
        return self.canvas is None and self.size == self.source and self.box == _full(self.source)


def _round_ratio(n: int, num: int, den: int) -> int:
    """round(n * num / den), half up, never below 1, exactly in integers."""
    return max(1, (2 * n * num + den) // (2 * den))


def _full(size: Size) -> Box:
    return (0.0, 0.0, float(size[0]), float(size[1]))


def _fit(w: int, h: int, box_w: int, box_h: int, upscale: bool) -> Size:
    """The largest size with the aspect of (w, h) that fits inside (box_w, box_h)."""
    if not upscale and w <= box_w and h <= box_h:
        return (w, h)
    if w * box_h >= h * box_w:  # width is the binding side
        return (box_w, min(box_h, _round_ratio(h, box_w, w)))
    return (min(box_w, _round_ratio(w, box_h, h)), box_h)


def _side(w: int, h: int, size: int, shorter: bool, upscale: bool) -> Size:
    ref = min(w, h) if shorter else max(w, h)
    if not upscale and ref <= size:
        return (w, h)
    if w == ref:
        return (size, _round_ratio(h, size, w))
    return (_round_ratio(w, size, h), size)


def scaled_size(w: int, h: int, spec: ResizeSpec) -> Size:
    """The size of the whole source once scaled, before any crop or letterbox.

    This is what a decoder must deliver at least (JPEG draft mode asks for it).
    """
    mode = spec.mode
    if mode == "none":
        return (w, h)
    if mode == "exact":
        return _exact(w, h, spec)
    if mode in ("fit", "pad"):
        return _fit(w, h, *spec.box, spec.upscale)
    if mode in ("shorter_side", "longer_side"):
        return _side(w, h, spec.side, mode == "shorter_side", spec.upscale)
    if mode == "fill":
        return _cover(w, h, spec)
    raise ValueError(f"unknown resize mode {mode!r}")


def _exact(w: int, h: int, spec: ResizeSpec) -> Size:
    W, H = spec.box
    if spec.upscale:
        return (W, H)
    return (min(W, w), min(H, h))


def _cover(w: int, h: int, spec: ResizeSpec) -> Size:
    """The smallest size with the aspect of (w, h) that covers the target box."""
    W, H = spec.box
    if w * H >= h * W:  # relatively wider: height binds
        size = (max(W, _round_ratio(w, H, h)), H)
    else:
        size = (W, max(H, _round_ratio(h, W, w)))
    if not spec.upscale and (size[0] > w or size[1] > h):
        return (w, h)
    return size


def plan_resize(w: int, h: int, spec: ResizeSpec) -> ResizePlan:
    """Plan the resize of a (w, h) image (already upright) as `spec` asks."""
    if w < 1 or h < 1:
        raise ValueError(f"image has no pixels ({w}x{h})")
    scaled = scaled_size(w, h, spec)
    if spec.mode == "fill":
        out = (min(spec.box[0], scaled[0]), min(spec.box[1], scaled[1]))
        # The part of the source that lands in `out`, centred to within a pixel: it starts an
        # even number of pixels into the scaled image, so on a whole output pixel and a whole
        # 4:2:0 chroma sample, which lets the resize run on the whole image (resample.py).
        skip_x, skip_y = (scaled[0] - out[0] + 2) // 4 * 2, (scaled[1] - out[1] + 2) // 4 * 2  # the even nearest half
        left, top = skip_x * w / scaled[0], skip_y * h / scaled[1]
        crop_w, crop_h = out[0] * w / scaled[0], out[1] * h / scaled[1]
        return ResizePlan(source=(w, h), size=out, box=(left, top, left + crop_w, top + crop_h))
    if spec.mode == "pad":
        canvas = spec.box
        offset = ((canvas[0] - scaled[0]) // 2, (canvas[1] - scaled[1]) // 2)
        return ResizePlan(source=(w, h), size=scaled, box=_full((w, h)), canvas=canvas, offset=offset)
    return ResizePlan(source=(w, h), size=scaled, box=_full((w, h)))


def upright_size(size: Size, orientation: int) -> Size:
    """The size once an EXIF orientation is applied (5-8 swap width and height)."""
    return (size[1], size[0]) if orientation >= 5 else size


def orient_points(points: "np.ndarray", size: Size, orientation: int) -> "np.ndarray":
    """(x, y) points on a `size` image as stored, in the frame of the upright image (the
    same transposes as transforms.image.conversion.orient applies to the pixels)."""
    import numpy as np

    orient = _ORIENT[orientation if orientation in _ORIENT else 1]
    return np.stack(orient(size[0], size[1], points[:, 0], points[:, 1]), axis=1)


@dataclasses.dataclass(frozen=True)
class Geometry:
    """What the image path did: EXIF `orientation` applied to the `stored` pixels, a
    decode at `decode_scale` (which changes no coordinate), then `plan` (crop box in
    upright source pixels, resized size, canvas and offset)."""

    stored: Size
    orientation: int
    decode_scale: float
    plan: ResizePlan

    @classmethod
    def identity(cls, size: Size) -> "Geometry":
        return cls(size, 1, 1.0, ResizePlan(source=size, size=size, box=_full(size)))

    @property
    def upright(self) -> Size:
        return upright_size(self.stored, self.orientation)

    @property
    def output_size(self) -> Size:
        return self.plan.output_size

    def map_points(self, points, frame: str = "stored") -> "np.ndarray":
        """(x, y) points in the `stored` or `upright` source frame -> output pixels (N x 2)."""
        import numpy as np

        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if frame not in FRAMES:
            raise ValueError(f"frame must be one of {FRAMES}, got {frame!r}")
        if frame == "stored":
            pts = orient_points(pts, self.stored, self.orientation)
        left, top, right, bottom = self.plan.box
        scale = np.array([self.plan.size[0] / (right - left), self.plan.size[1] / (bottom - top)])
        return (pts - np.array([left, top])) * scale + np.array(self.plan.offset, dtype=np.float64)

    def map_boxes(self, boxes: Iterable[Sequence[float]], frame: str = "stored") -> List[Box]:
        """(xmin, ymin, xmax, ymax) boxes in a source frame -> output pixels, not clipped: the
        caller decides what is left of a box that leaves the output."""
        flat = self.map_flat_boxes([v for box in boxes for v in box], frame)
        return [tuple(flat[i:i + 4]) for i in range(0, len(flat), 4)]  # type: ignore[misc]

    def map_flat_boxes(self, boxes: Sequence[float], frame: str = "stored") -> List[float]:
        """map_boxes over boxes given flat (xmin, ymin, xmax, ymax of each in turn, as
        ObjectColumns holds them), returned flat.

        The same arithmetic as `map_points` on the two corners, in plain floats: a handful
        of boxes per image is what detection datasets hold, and numpy's per-call cost on
        arrays that small was most of the time spent placing them."""
        if frame not in FRAMES:
            raise ValueError(f"frame must be one of {FRAMES}, got {frame!r}")
        left, top, right, bottom = self.plan.box
        sx, sy = self.plan.size[0] / (right - left), self.plan.size[1] / (bottom - top)
        ox, oy = float(self.plan.offset[0]), float(self.plan.offset[1])
        w, h = self.stored
        orient = _ORIENT[self.orientation if frame == "stored" and self.orientation in _ORIENT else 1]
        out: List[float] = []
        corners = iter(boxes)
        if orient is _ORIENT[1]:  # no transpose (most images): the same arithmetic without the call
            for x0, y0, x1, y1 in zip(corners, corners, corners, corners):
                ax, bx = (x0 - left) * sx + ox, (x1 - left) * sx + ox
                ay, by = (y0 - top) * sy + oy, (y1 - top) * sy + oy
                out += (ax, ay, bx, by) if ax <= bx and ay <= by else \
                    (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))
            return out
        for x0, y0, x1, y1 in zip(corners, corners, corners, corners):
            (ax, ay), (bx, by) = orient(w, h, x0, y0), orient(w, h, x1, y1)
            ax, ay = (ax - left) * sx + ox, (ay - top) * sy + oy
            bx, by = (bx - left) * sx + ox, (by - top) * sy + oy
            out += (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))
        return out


# EXIF orientation -> (w, h, x, y) -> (x, y) upright: for plain floats (map_boxes) and NumPy columns
# (orient_points) alike
_ORIENT: Dict[int, Callable[[int, int, Any, Any], Tuple[Any, Any]]] = {
    1: lambda w, h, x, y: (x, y), 2: lambda w, h, x, y: (w - x, y), 3: lambda w, h, x, y: (w - x, h - y),
    4: lambda w, h, x, y: (x, h - y), 5: lambda w, h, x, y: (y, x), 6: lambda w, h, x, y: (h - y, x),
    7: lambda w, h, x, y: (h - y, w - x), 8: lambda w, h, x, y: (y, w - x),
}
