"""JPEG through libjpeg-turbo's TurboJPEG API (simplejpeg): the fast path for most photos.

Pillow's JPEG encoder holds the GIL and its decoder partly does, so the converting threads
of one process take turns there; TurboJPEG releases it (docs/decisions.md). Decoding scales
by 1/2, 1/4 or 1/8 when the output is that small, as Pillow's draft mode does (other M/8
scales blur more than decoding at full size and resampling). Anything unusual (CMYK, a
warning from the decoder, other modes) returns None and goes through Pillow, which then
decodes it or names what is wrong.
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np
import simplejpeg
from PIL import Image

from transforms.image.ycbcr import Planes

# Pillow modes of a decoded JPEG this path handles -> TurboJPEG colorspace.
_COLORSPACES = {"RGB": "RGB", "L": "GRAY"}
SCALES = (8, 4, 2, 1)  # decode at 1/8, 1/4, 1/2 or full size


def draft_scale(size: Tuple[int, int], need: Tuple[int, int]) -> int:
    """The largest divisor in SCALES that keeps the decoded image at least `need`
    (what Pillow's draft mode picks)."""
    ratio = min(size[0] // max(1, need[0]), size[1] // max(1, need[1]))
    return next((s for s in SCALES if ratio >= s), 1)  # 1 also when upscaling


def decode_scaled(data: bytes, mode: str, size: Tuple[int, int],
                  need: Tuple[int, int]) -> Optional[Tuple[Image.Image, float]]:
    """The pixels decoded at 1/s of `size` but still covering `need`, and that scale.

    `mode` and `size` are what the header says (Pillow's lazy open). None when this
    path does not apply or the decoder reports any problem, even a recoverable one.
    """
    colorspace = _COLORSPACES.get(mode)
    if colorspace is None:
        return None
    divisor = draft_scale(size, need)
    width, height = math.ceil(size[0] / divisor), math.ceil(size[1] / divisor)
    try:
        pixels = simplejpeg.decode_jpeg(data, colorspace, min_width=width, min_height=height,
                                        strict=True)
    except (ValueError, RuntimeError):
        return None
    if pixels.shape[:2] != (height, width):  # the header and the stream disagree
        return None
    if colorspace == "GRAY":
        pixels = pixels[:, :, 0]
    return Image.fromarray(pixels, mode), 1.0 / divisor


def encode(image: Image.Image, quality: int) -> Optional[bytes]:
    """Baseline JFIF with 4:2:0 chroma, as Pillow writes by default; None for modes
    other than RGB and L."""
    if image.mode == "RGB":
        return simplejpeg.encode_jpeg(np.asarray(image), quality=quality, colorspace="RGB",
                                      colorsubsampling="420")
    if image.mode == "L":
        pixels = np.asarray(image)[:, :, np.newaxis]
        return simplejpeg.encode_jpeg(pixels, quality=quality, colorspace="GRAY",
                                      colorsubsampling="Gray")
    return None


def encode_planes(planes: Planes, quality: int) -> bytes:
    """Baseline JFIF 4:2:0 from transforms.ycbcr's planes, with no colour conversion or
    chroma downsampling left to do. The luma is passed as a view of its even-sized plane
    (simplejpeg hands TurboJPEG the view's stride, and TurboJPEG reads the rows and
    columns past an odd edge: measured, without them a flat colour came back 15 off)."""
    width, height = planes.size
    return simplejpeg.encode_jpeg_yuv_planes(planes.y[:height, :width], planes.cb, planes.cr,
                                             quality=quality)
