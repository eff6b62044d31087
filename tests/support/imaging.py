"""Images made by the tests themselves: odd modes, EXIF orientations, broken files."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Tuple

from PIL import Image

# EXIF orientation -> how to store an upright image so a reader that honours the tag
# sees it upright again (the inverse of the fix a reader applies).
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def asymmetric(size: Tuple[int, int] = (48, 32)) -> Image.Image:
    """An RGB image whose four quadrants differ, so any flip or turn shows."""
    w, h = size
    image = Image.new("RGB", size, (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, w // 2, h // 2))
    image.paste((0, 255, 0), (w // 2, 0, w, h // 2))
    image.paste((0, 0, 255), (0, h // 2, w // 2, h))
    return image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def with_orientation(upright: Image.Image, orientation: int, fmt: str = "PNG") -> bytes:
    """`upright` stored as a camera would with EXIF `orientation`."""
    fix = STORE_FOR_ORIENTATION[orientation]
    stored = upright.transpose(fix) if fix is not None else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, fmt, exif=exif)


def photo(size: Tuple[int, int] = (320, 240), seed: int = 0) -> Image.Image:
    """A smooth, photo-like RGB image (gradients plus a shape), deterministic per seed."""
    w, h = size
    gradient = Image.linear_gradient("L").resize(size)
    other = Image.radial_gradient("L").resize(size)
    r = gradient.point(lambda v: (v + 37 * seed) % 256)
    b = other.point(lambda v: (v * (seed % 3 + 1)) % 256)
    image = Image.merge("RGB", (r, other, b))
    image.paste(((seed * 53) % 256, 80, 160), (w // 4, h // 4, w // 2, h // 2))
    return image


def huge_png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def interlaced_png(image: Image.Image) -> bytes:
    """An 8-bit RGB or greyscale PNG stored Adam7-interlaced (Pillow does not write them): the
    seven passes of sub-images, each row unfiltered."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    channels = {"RGB": 3, "L": 1}[image.mode]
    width, height = image.size
    pixels = image.tobytes()
    stride = width * channels
    raw = bytearray()
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        for y in range(y0, height, dy):
            row = b"".join(pixels[y * stride + x * channels:y * stride + (x + 1) * channels]
                           for x in range(x0, width, dx))
            if row:
                raw += b"\0" + row
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2 if channels == 3 else 0, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw)))
            + chunk(b"IEND", b""))


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def make_class_folders(root: Path, classes=("cat", "dog", "emu"), per_class: int = 6,
                       size: Tuple[int, int] = (120, 90)) -> Path:
    """ROOT/CLASS/NAME.jpg with distinct photo-like images."""
    seed = 0
    for name in classes:
        for i in range(per_class):
            seed += 1
            write(root / name / f"{name}_{i:02d}.jpg", encode(photo(size, seed), "JPEG", quality=90))
    return root
