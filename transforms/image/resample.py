"""Antialiased bicubic through OpenCV: the default filter, at about a third of Pillow's cost.

Pillow's bicubic widens its kernel with the reduction ratio, which keeps a downscale free of
aliasing, but it convolves in scalar code: on photos it was half of a conversion's CPU.
OpenCV resizes with SIMD and releases the GIL, but its cubic only interpolates (it aliases
when reducing). So the pixels are first low-passed with Pillow's own kernel (Keys, a = -0.5)
widened by 0.9 of the ratio's excess over 1 (the rest of the blur is what the interpolation
adds), and OpenCV's cubic then samples them. On photos this lands closer to a float Lanczos
reference than Pillow's bicubic (docs/performance.md, "Bicubic through OpenCV"); on white
noise, whose energy is all where aliasing comes from, slightly further.

Geometry is exact: OpenCV maps pixel edges by the factor it is given from the origin
((x_out + 0.5) = (x_in + 0.5) * factor), so a box that starts at the origin, or whose start
falls on a whole output pixel (fill's crop, transforms.image.geometry), is resampled by
resizing everything up to its far edge and cutting the output. Other boxes return None, and
the caller uses Pillow.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Optional

import cv2
import numpy as np

from transforms.image.geometry import Box, Size

cv2.setNumThreads(1)  # the converting threads are the parallelism; OpenCV's own pool would oversubscribe

KEYS_A = -0.5  # Pillow's BICUBIC
# Of the widening by the ratio, the share the low-pass does (the interpolation adds the rest).
# Measured against float Lanczos: 0.75 is closest on photos but loses up to 1.3 dB to Pillow on
# drawn edges near a ratio of 2; 0.9 is 0.1-0.2 dB closer than Pillow on photos and within
# 0.15 dB of it on drawn edges (white noise: up to 0.5 dB further).
PREFILTER_SHARE = 0.9
# Beyond this reduction Pillow is as fast: it filters only where output pixels fall, the
# low-pass here filters every input pixel (JPEGs, decoded at 1/2, 1/4 or 1/8, stay under 2).
MAX_RATIO = 3.0
# The most output a box starting away from the origin may be cut from, in multiples of its size:
# fill's crop of a 1 x 20000 strip to 256 x 256 would otherwise resize 2.5 M rows to keep 256.
MAX_CUT = 4
_ORIGIN_TOLERANCE = 1e-6  # output pixels


def keys_cubic(x: float, a: float = KEYS_A) -> float:
    """The Keys cubic convolution kernel (support 2)."""
    x = abs(x)
    if x < 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    return (((x - 5) * x + 8) * x - 4) * a if x < 2 else 0.0


@lru_cache(maxsize=4096)
def prefilter_kernel(ratio: float) -> Optional[np.ndarray]:
    """The low-pass taps for a reduction by `ratio` (input pixels per output pixel), or None
    when nothing needs filtering (enlarging, or the same size). In plain floats: ratios vary
    from photo to photo, and NumPy's per-call cost on nine taps was three times the work."""
    if ratio <= 1.0 + 1e-9:
        return None
    width = 1.0 + PREFILTER_SHARE * (ratio - 1.0)
    reach = math.ceil(2.0 * width) - 1  # the kernel is 0 from 2 widths out
    taps = [keys_cubic(i / width) for i in range(-reach, reach + 1)]
    total = math.fsum(taps)
    return np.array([tap / total for tap in taps], np.float32)


def _ratio_key(ratio: float) -> float:
    return round(ratio, 6)  # the cache's key; 1e-6 of a ratio moves no tap by a representable float32 step


def resize_bicubic(pixels: np.ndarray, size: Size, box: Box) -> Optional[np.ndarray]:
    """`box` (pixel coordinates of `pixels`, H x W or H x W x C uint8) resampled to `size`
    (width, height) with antialiased bicubic, or None when the box's start does not fall on a
    whole output pixel, the reduction is over MAX_RATIO, or the output to cut from would be
    over MAX_CUT times the box's. A box reaching past the pixels' edge sees the edge repeated."""
    left, top, right, bottom = box
    scale_x, scale_y = size[0] / (right - left), size[1] / (bottom - top)
    start_x, start_y = left * scale_x, top * scale_y
    out_x, out_y = round(start_x), round(start_y)
    if abs(start_x - out_x) > _ORIGIN_TOLERANCE or abs(start_y - out_y) > _ORIGIN_TOLERANCE:
        return None
    if scale_x * MAX_RATIO < 1.0 or scale_y * MAX_RATIO < 1.0:
        return None
    if (out_x + size[0]) * (out_y + size[1]) > MAX_CUT * size[0] * size[1]:
        return None
    kernel_x = prefilter_kernel(_ratio_key(1.0 / scale_x))
    kernel_y = prefilter_kernel(_ratio_key(1.0 / scale_y))
    # Only the pixels up to the box's far edge and the filters' reach matter; past the pixels' edge, repeat it.
    keep_w = math.ceil(right - 1e-9) + _reach(kernel_x) + 2
    keep_h = math.ceil(bottom - 1e-9) + _reach(kernel_y) + 2
    source = pixels[:keep_h, :keep_w]
    short_w = max(0, math.ceil(right - 1e-9) - source.shape[1])
    short_h = max(0, math.ceil(bottom - 1e-9) - source.shape[0])
    if short_w or short_h:
        source = cv2.copyMakeBorder(source, 0, short_h, 0, short_w, cv2.BORDER_REPLICATE)
    if kernel_x is not None or kernel_y is not None:
        source = cv2.sepFilter2D(source, -1, _or_identity(kernel_x), _or_identity(kernel_y),
                                 borderType=cv2.BORDER_REPLICATE)
    out = cv2.resize(source, None, fx=scale_x, fy=scale_y, interpolation=cv2.INTER_CUBIC)
    out = out[out_y:out_y + size[1], out_x:out_x + size[0]]
    if out.shape[1] != size[0] or out.shape[0] != size[1]:  # not reached: the source covers the box
        raise ValueError(f"resampled {out.shape[1]}x{out.shape[0]}, wanted {size[0]}x{size[1]}")
    return out


_IDENTITY = np.ones(1, np.float32)


def _or_identity(kernel: Optional[np.ndarray]) -> np.ndarray:
    return _IDENTITY if kernel is None else kernel


def _reach(kernel: Optional[np.ndarray]) -> int:
    return 0 if kernel is None else len(kernel) // 2


def halve(pixels: np.ndarray) -> np.ndarray:
    """Means of 2x2 blocks (libjpeg's 4:2:0 downsampling), an odd last row or column paired
    with itself."""
    height, width = pixels.shape[:2]
    if height % 2 or width % 2:
        pixels = cv2.copyMakeBorder(pixels, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    return cv2.resize(pixels, (pixels.shape[1] // 2, pixels.shape[0] // 2), interpolation=cv2.INTER_AREA)
