"""Resize geometry: target sizes, crop boxes and letterbox offsets, in integers.

Pure arithmetic with no image library, so every mode can be tested exhaustively and
the result does not depend on how the pixels were decoded (e.g. JPEG draft scaling).
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

Size = Tuple[int, int]
Box = Tuple[float, float, float, float]


@dataclasses.dataclass(frozen=True)
class ResizeSpec:
    """What `image.resize` asks for; `width`/`height` for box modes, `size` for side modes."""

    mode: str = "none"
    width: Optional[int] = None
    height: Optional[int] = None
    size: Optional[int] = None
    upscale: bool = True


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
        return _fit(w, h, spec.width, spec.height, spec.upscale)
    if mode in ("shorter_side", "longer_side"):
        return _side(w, h, spec.size, mode == "shorter_side", spec.upscale)
    if mode == "fill":
        return _cover(w, h, spec)
    raise ValueError(f"unknown resize mode {mode!r}")


def _exact(w: int, h: int, spec: ResizeSpec) -> Size:
    if spec.upscale:
        return (spec.width, spec.height)
    return (min(spec.width, w), min(spec.height, h))


def _cover(w: int, h: int, spec: ResizeSpec) -> Size:
    """The smallest size with the aspect of (w, h) that covers the target box."""
    W, H = spec.width, spec.height
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
        out = (min(spec.width, scaled[0]), min(spec.height, scaled[1]))
        # The part of the source that lands in `out`, centred.
        crop_w = out[0] * w / scaled[0]
        crop_h = out[1] * h / scaled[1]
        left, top = (w - crop_w) / 2, (h - crop_h) / 2
        return ResizePlan(source=(w, h), size=out, box=(left, top, left + crop_w, top + crop_h))
    if spec.mode == "pad":
        canvas = (spec.width, spec.height)
        offset = ((canvas[0] - scaled[0]) // 2, (canvas[1] - scaled[1]) // 2)
        return ResizePlan(source=(w, h), size=scaled, box=_full((w, h)), canvas=canvas, offset=offset)
    return ResizePlan(source=(w, h), size=scaled, box=_full((w, h)))
