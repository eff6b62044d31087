"""Resizing for JPEG output in YCbCr 4:2:0, the form the JPEG stores: luma at the output
size, chroma at half of it in each direction.

Resizing RGB and letting the encoder convert and halve the chroma resamples three
full-size channels, then throws three quarters of two of them away. Here luma (the
ITU-R 601 weights JPEG uses) is resampled from the full-size image, and chroma from the
image halved by 2x2 means (libjpeg's own 4:2:0 downsampling) straight onto the chroma
grid, with the same filter: less CPU per image for a fraction of a dB against a float
reference (figures: docs/decisions.md "Resize in YCbCr 4:2:0").
"""
from __future__ import annotations

import math
from typing import NamedTuple, Optional, Tuple

import cv2
import numpy as np
from PIL import Image

from transforms.image.geometry import Box, Size
from transforms.image.resample import halve, resize_bicubic

# RGB -> YCbCr as JPEG (JFIF) defines it, an affine matrix Pillow applies rounding to
# nearest. (Pillow's convert("YCbCr") truncates: measured, chroma 0.46 levels low on average.)
JFIF_YCBCR = (0.299, 0.587, 0.114, 0.0,
              -0.168736, -0.331264, 0.5, 128.0,
              0.5, -0.418688, -0.081312, 128.0)


class Planes(NamedTuple):
    """An image of `size` as uint8 planes: Y padded to an even width and height (its last
    column and row repeated: TurboJPEG reads 4:2:0 luma in whole 2x2 blocks, past the
    end of an odd-sized plane), Cb and Cr at half the size, rounded up."""

    y: np.ndarray
    cb: np.ndarray
    cr: np.ndarray
    size: Size


def chroma_size(size: Size) -> Size:
    """The 4:2:0 chroma plane of a `size` image: half, rounded up."""
    return (size[0] + 1) // 2, (size[1] + 1) // 2


def chroma_box(box: Box, size: Size, factor: int) -> Box:
    """Where the chroma grid of an output of `size`, resampled from `box` (full-size
    coordinates), lies on the image reduced by `factor`. It reaches past `box` by a pixel
    when the output's width or height is odd: the last chroma sample covers one luma pixel
    that the output does not have (the encoder pads the edge the same way)."""
    left, top, right, bottom = box
    chroma_w, chroma_h = chroma_size(size)
    return (left / factor, top / factor,
            (left + (right - left) * 2 * chroma_w / size[0]) / factor,
            (top + (bottom - top) * 2 * chroma_h / size[1]) / factor)


def resize_to_planes(image: Image.Image, size: Size, box: Box, resample: int) -> Planes:
    """The RGB `image`'s `box` resampled to `size` as Y, Cb, Cr 4:2:0 planes.

    Chroma starts from the image halved by 2x2 means unless the output enlarges the box,
    whose chroma grid is then finer than the halved image's and comes from the full size.
    Bicubic goes through OpenCV (transforms/image/resample) when the box allows, other
    filters through Pillow.
    """
    if resample == Image.Resampling.BICUBIC:
        planes = bicubic_planes(np.asarray(image), size, box)
        if planes is not None:
            return planes
    y = image.convert("L").resize(size, resample, box=box)
    y = _extend_edges(y, size[0] % 2, size[1] % 2)
    enlarges = box[2] - box[0] < size[0] or box[3] - box[1] < size[1]
    factor = 1 if enlarges else 2
    source = image if enlarges else image.reduce(2)
    source_box = chroma_box(box, size, factor)
    source = _extend_edges(source, *_reach(source_box, source.size))
    chroma = source.resize(chroma_size(size), resample, box=source_box)
    _, cb, cr = chroma.convert("RGB", JFIF_YCBCR).split()  # bands Y, Cb, Cr in an RGB-mode image
    return Planes(np.asarray(y), np.asarray(cb), np.asarray(cr), size)


def bicubic_planes(rgb: np.ndarray, size: Size, box: Box) -> Optional[Planes]:
    """`resize_to_planes` with bicubic through OpenCV (transforms/image/resample) from an
    RGB array, or None where that does not apply."""
    luma = resize_bicubic(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size, box)
    if luma is None:
        return None
    enlarges = box[2] - box[0] < size[0] or box[3] - box[1] < size[1]
    factor = 1 if enlarges else 2
    chroma = resize_bicubic(rgb if enlarges else halve(rgb), chroma_size(size), chroma_box(box, size, factor))
    if chroma is None:  # the chroma box starts on a whole sample as luma's does; only MAX_CUT's rounding can differ
        return None
    # JFIF's matrix, rounded. (Resizing the two chroma planes alone is slower: OpenCV has no
    # SIMD path for two channels.)
    _, cr, cb = cv2.split(cv2.cvtColor(chroma, cv2.COLOR_RGB2YCrCb))
    odd_w, odd_h = size[0] % 2, size[1] % 2
    if odd_w or odd_h:
        luma = cv2.copyMakeBorder(luma, 0, odd_h, 0, odd_w, cv2.BORDER_REPLICATE)
    return Planes(luma, cb, cr, size)


def _extend_edges(image: Image.Image, right: int, bottom: int) -> Image.Image:
    """`image` with its last column repeated `right` times and its last row `bottom` times."""
    if not (right or bottom):
        return image
    width, height = image.size  # Pillow's own copies, which release the GIL (numpy's pad: 3x slower)
    out = image.crop((0, 0, width + right, height + bottom))  # black past the edges, then:
    if right:
        out.paste(image.crop((width - 1, 0, width, height)).resize((right, height)), (width, 0))
    if bottom:
        out.paste(out.crop((0, height - 1, width + right, height)).resize((width + right, bottom)), (0, height))
    return out


def _reach(box: Box, size: Size) -> Tuple[int, int]:
    """Whole pixels `box` reaches past the right and bottom edges of a `size` image."""
    return (max(0, math.ceil(box[2] - 1e-9) - size[0]), max(0, math.ceil(box[3] - 1e-9) - size[1]))
