"""JPEG through libjpeg-turbo's TurboJPEG API (simplejpeg): the fast path for most photos.

Pillow's JPEG encoder holds the GIL and its decoder partly does, so the converting threads
of one process take turns there; TurboJPEG releases it (docs/decisions.md). Decoding scales
by 1/2, 1/4 or 1/8 when the output is that small, as Pillow's draft mode does (other M/8
scales blur more than decoding at full size and resampling). Other modes (CMYK) and data
libjpeg cannot decode at all go through Pillow, which decodes them or names what is wrong.
A warning from libjpeg (data cut short or corrupt, which Pillow's decoder would silently
paint grey) fails the image unless `allow_truncated`; CMYK JPEGs are checked for warnings too.
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


class JpegWarning(ValueError):
    """libjpeg warned while decoding (data missing or corrupt): the pixels are partly made up."""


def decode_scaled(data: bytes, mode: str, size: Tuple[int, int], need: Tuple[int, int],
                  allow_warnings: bool = False, replicate_chroma: bool = False
                  ) -> Optional[Tuple[np.ndarray, float, bool]]:
    """The pixels decoded at 1/s of `size` but still covering `need` (uint8, H x W x 3 for RGB,
    H x W for L), that scale, and whether libjpeg warned (only with `allow_warnings`: else a
    warning raises JpegWarning).

    `replicate_chroma` repeats subsampled chroma instead of interpolating it (libjpeg's
    "fast upsampling", 8% faster): for output that halves the chroma again by 2x2 means
    (ycbcr.resize_to_planes), that gives back the stored chroma samples, unblurred.

    `mode` and `size` are what the header says (Pillow's lazy open). None when this path
    does not apply, or libjpeg cannot decode the data at all (Pillow then names the error).
    """
    colorspace = _COLORSPACES.get(mode)
    if colorspace is None:
        return None
    divisor = draft_scale(size, need)
    width, height = math.ceil(size[0] / divisor), math.ceil(size[1] / divisor)
    pixels, warned = _decode(data, colorspace, width, height, allow_warnings, replicate_chroma)
    if pixels is None or pixels.shape[:2] != (height, width):  # the header and the stream disagree
        return None
    if colorspace == "GRAY":
        pixels = pixels[:, :, 0]
    return pixels, 1.0 / divisor, warned


def check_cmyk(data: bytes, size: Tuple[int, int], allow_warnings: bool = False) -> bool:
    """Decode a CMYK (or YCCK) JPEG at 1/8 scale only to hear libjpeg's warnings, which
    Pillow's decoder drops; True if it warned (with `allow_warnings`), else JpegWarning."""
    _, warned = _decode(data, "CMYK", math.ceil(size[0] / 8), math.ceil(size[1] / 8), allow_warnings)
    return warned


def _decode(data: bytes, colorspace: str, width: int, height: int, allow_warnings: bool,
            replicate_chroma: bool = False) -> Tuple[Optional[np.ndarray], bool]:
    """libjpeg in strict mode; if it only warned, decode again leniently to tell a warning
    (the data is corrupt or cut short) from an error (libjpeg cannot decode this at all)."""
    try:
        return simplejpeg.decode_jpeg(data, colorspace, min_width=width, min_height=height, strict=True,
                                      fastupsample=replicate_chroma), False
    except (ValueError, RuntimeError) as strict_error:
        try:
            pixels = simplejpeg.decode_jpeg(data, colorspace, min_width=width, min_height=height, strict=False,
                                            fastupsample=replicate_chroma)
        except (ValueError, RuntimeError):
            return None, False
        if not allow_warnings:
            raise JpegWarning(f"the JPEG decoder warns: {strict_error} (image.allow_truncated: true keeps "
                              "what it decoded)") from None
        return pixels, True


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
