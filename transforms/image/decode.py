"""Sniffing and decoding: the format from the bytes through an allowlist, the pixel limit
from the header, EXIF orientation, and pixels decoded no larger than the output needs.

Decoders run inside Pillow (or libjpeg-turbo): nothing reaches an external program (EPS
would go to Ghostscript). No process-wide switch is touched: a truncated file is refused,
or with `allow_truncated` kept as far as it decoded, per image.
"""
from __future__ import annotations

import io
from typing import Optional, Tuple

from PIL import Image, UnidentifiedImageError

from transforms.image import turbo_jpeg
from transforms.image.geometry import scaled_size, upright_size
from transforms.image.spec import CorruptImage, EmptyFile, ImageSpec, PixelLimitExceeded, UnsupportedImageFormat

Image.init()  # register every plugin, so the allowlist below names loaded decoders

# Pillow plugins that decode in-process and identify themselves from magic bytes
# (JPEG covers MPO, the multi-picture JPEG of cameras: its first picture is read).
ALLOWED_FORMATS: Tuple[str, ...] = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF", "PPM")
JPEG_FORMATS = ("JPEG", "MPO")
ORIENTATIONS = range(1, 9)
_EXIF_ORIENTATION = 0x0112


def open_image(data: bytes, spec: ImageSpec) -> Image.Image:
    """Identify the format from the bytes and check the pixel count; decodes no pixels."""
    if not data:
        raise EmptyFile("the file has no bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:  # Pillow's own guard, at twice its warning size
        raise PixelLimitExceeded(f"{exc} (image.max_pixels={spec.max_pixels})") from None
    except UnidentifiedImageError as exc:
        claimed = claimed_format(data)
        if claimed:
            raise CorruptImage(f"starts like a {claimed} file but its header cannot be read") from exc
        raise UnsupportedImageFormat(
            f"not an image in an allowed format ({', '.join(ALLOWED_FORMATS)}), "
            f"first bytes {data[:8]!r}"
        ) from exc
    width, height = image.size
    if width * height > spec.max_pixels:
        raise PixelLimitExceeded(
            f"{width}x{height} is {width * height} pixels, over image.max_pixels={spec.max_pixels}"
        )
    return image


def claimed_format(data: bytes) -> Optional[str]:
    """The allowed format whose magic bytes `data` starts with, if any."""
    prefix = data[:16]
    for name in ALLOWED_FORMATS:
        accept = Image.OPEN[name][1]
        if accept is not None and accept(prefix) is True:
            return name
    return None


def sniff_format(data: bytes) -> Optional[str]:
    """The allowed format the bytes are in (lower case), or None."""
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
            return (image.format or "").lower() or None
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def read_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8); 1 when absent or unreadable.

    For PNG and WebP Pillow reads EXIF by decoding the pixels first, so call this only
    once `load` has succeeded: a failing decode inside getexif() would be swallowed here
    and leave a partial image behind.
    """
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a corrupt EXIF block must not lose the image
        return 1
    return value if value in ORIENTATIONS else 1


def decode(image: Image.Image, data: bytes, spec: ImageSpec) -> Tuple[Image.Image, int, float]:
    """The pixels of `image` (opened from `data`), its EXIF orientation, and the scale
    they were decoded at (1/8, 1/4, 1/2 or 1: JPEGs decode no larger than the output needs).

    RGB and greyscale JPEGs go through libjpeg-turbo (transforms/image/turbo_jpeg), every
    other JPEG through Pillow's draft mode, other formats through Pillow at full size.
    """
    if image.format not in JPEG_FORMATS:
        load(image, spec)
        return image, read_orientation(image), 1.0
    orientation = read_orientation(image)  # a JPEG's EXIF sits before its pixels
    need = decoded_size(image, spec, orientation)
    fast = turbo_jpeg.decode_scaled(data, image.mode, image.size, need)
    if fast is not None:
        return fast[0], orientation, fast[1]
    width = image.width
    drafted = image.draft(None, need)  # -> (mode, the source's extent in decoded pixels)
    load(image, spec)
    return image, orientation, drafted[1][2] / width if drafted else 1.0


def decoded_size(image: Image.Image, spec: ImageSpec, orientation: int) -> Tuple[int, int]:
    """The smallest stored (not yet oriented) size the resize can start from."""
    if spec.resize.mode == "none":
        return image.size
    need = scaled_size(*upright_size(image.size, orientation), spec.resize)
    return upright_size(need, orientation)


def load(image: Image.Image, spec: ImageSpec) -> bool:
    """Decode the first frame's pixels; True if the data ran out and, as `allow_truncated`
    permits, what was decoded is kept. Otherwise any decoder error is raised."""
    image.seek(0)  # animated and multi-page files: the first frame
    try:
        image.load()
    except OSError:
        decoded = getattr(image, "_im", None)
        if not spec.allow_truncated or decoded is None or isinstance(decoded, Image.DeferredError):
            raise
        image.tile = []  # type: ignore[attr-defined]  # keep the rows decoded so far (what Pillow's LOAD_TRUNCATED_IMAGES does)
        return True
    return False
