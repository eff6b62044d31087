"""What converting one image is asked to do (`ImageSpec`), what it gives back, and its errors."""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Tuple

from transforms.image.geometry import Geometry, ResizeSpec

# zlib level of PNG output: the pixels are the same at any level; on photos 3 writes 2.6x as
# fast as Pillow's default 6 for about 2% more bytes (docs/performance.md, PNG output).
PNG_COMPRESSION = 3
# libwebp's effort for WebP output (0 fast - 6 slow; Pillow and cwebp default to 4): on photos
# at quality 90, 1 encodes 1.8x as fast as 4 for 2.5% more bytes and 0.1 dB less
# (docs/performance.md, WebP output).
WEBP_METHOD = 1


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """Everything `image.*` in the config says about how to convert one image."""

    resize: ResizeSpec = ResizeSpec()
    format: str = "jpeg"
    quality: int = 90
    png_compression: int = PNG_COMPRESSION
    webp_method: int = WEBP_METHOD
    channels: int = 3
    alpha_background: Tuple[int, int, int] = (255, 255, 255)
    max_pixels: int = 100_000_000
    allow_truncated: bool = False
    resample: str = "bicubic"
    resize_space: str = "ycbcr"  # JPEG output: chroma resampled at 4:2:0 (ycbcr) or full (rgb)


@dataclasses.dataclass(frozen=True)
class EncodedImage:
    """The result of converting one image's bytes, and the geometry that produced it
    (which boxes, masks and keypoints follow from the source frame to the output)."""

    encoded: bytes
    format: str
    height: int
    width: int
    channels: int
    geometry: Geometry
    truncated: bool = False  # the source ran short and what decoded was kept (allow_truncated)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.encoded).hexdigest()


class StageError(Exception):
    """Conversion failed at `stage` because of `cause`."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage}: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.cause = cause

    def __reduce__(self):  # crosses process boundaries (see transforms/runtime/pool.py)
        return (StageError, (self.stage, self.cause))


class UnsupportedImageFormat(ValueError):
    """The bytes are not an image in one of the allowed formats."""


class PixelLimitExceeded(ValueError):
    """The header promises more pixels than `image.max_pixels` allows."""


class CorruptImage(ValueError):
    """The bytes start like an allowed format but do not parse as one."""


class OutputTooLarge(ValueError):
    """The planned output is larger than the limit or than its format can hold."""


class EmptyFile(ValueError):
    """The input has no bytes at all."""
