"""Sniffing and decoding: the format from the bytes through an allowlist, the pixel limit
from the header, EXIF orientation, and pixels decoded no larger than the output needs.

Decoders run inside Pillow (or libjpeg-turbo, or libspng for PNG): nothing reaches an
external program (EPS would go to Ghostscript). No process-wide switch is touched: a
truncated file is refused, or with `allow_truncated` kept as far as it decoded, per image.
"""
from __future__ import annotations

import dataclasses
import io
import struct
from typing import Dict, Optional, Tuple, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from transforms.image import libtiff, turbo_jpeg
from transforms.image.geometry import scaled_size, upright_size
from transforms.image.spec import CorruptImage, EmptyFile, ImageSpec, PixelLimitExceeded, UnsupportedImageFormat

Image.init()  # register every plugin, so the allowlist below names loaded decoders
try:  # HEIC/HEIF, as phones write them: libheif, in-process, from the pillow-heif wheel
    from pillow_heif import register_heif_opener

    register_heif_opener()
    _HEIF: Tuple[str, ...] = ("HEIF",)
except ImportError:  # pragma: no cover - pillow-heif is a dependency; HEIC is then a decode failure
    _HEIF = ()

# Pillow plugins that decode in-process and identify themselves from magic bytes (JPEG
# covers MPO, the multi-picture JPEG of cameras: its first picture is read; ICO and CUR
# give their largest image, PSD its flattened composite). Never EPS (Ghostscript) or WMF.
ALLOWED_FORMATS: Tuple[str, ...] = (
    "JPEG", "PNG", "GIF", "BMP", "DIB", "WEBP", "TIFF", "PPM", "AVIF", *_HEIF, "JPEG2000",
    "ICO", "CUR", "PSD", "QOI", "SGI", "PCX", "DDS",
)
# Formats with no magic bytes, tried only when the file's name says so.
BY_NAME: Dict[str, Tuple[str, ...]] = {"TGA": (".tga", ".icb", ".vda", ".vst")}
JPEG_FORMATS = ("JPEG", "MPO")
ORIENTATIONS = range(1, 9)
_EXIF_ORIENTATION = 0x0112


def formats_for(name: str) -> Tuple[str, ...]:
    """The allowlist, plus the formats without magic bytes that `name`'s extension names."""
    lower = name.lower()
    return ALLOWED_FORMATS + tuple(fmt for fmt, suffixes in BY_NAME.items() if lower.endswith(suffixes))


def open_image(data: bytes, spec: ImageSpec, name: str = "") -> Image.Image:
    """Identify the format from the bytes (and, for TGA, the name) and check the pixel
    count; decodes no pixels."""
    if not data:
        raise EmptyFile("the file has no bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=formats_for(name))
    except Image.DecompressionBombError as exc:  # Pillow's own guard, at twice its warning size
        raise PixelLimitExceeded(f"{exc} (image.max_pixels={spec.max_pixels})") from None
    except UnidentifiedImageError as exc:
        claimed = claimed_format(data)
        if claimed:
            raise CorruptImage(f"starts like a {claimed} file but its header cannot be read") from exc
        raise UnsupportedImageFormat(f"not an image in an allowed format, first bytes {data[:8]!r}") from exc
    except (OSError, EOFError, SyntaxError, ValueError, IndexError, struct.error) as exc:  # a plugin's parse
        raise CorruptImage(f"its {claimed_format(data) or 'image'} header cannot be read "
                           f"({type(exc).__name__}: {exc})") from exc
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
        try:
            if accept is not None and accept(prefix) is True:
                return name
        except (struct.error, IndexError, ValueError):  # Pillow's DIB check reads 4 bytes: a 3-byte file
            continue
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


@dataclasses.dataclass(frozen=True)
class Decoded:
    """Pixels as decoded: a Pillow image or, from TurboJPEG, libspng or an uncompressed TIFF, a
    uint8 array (RGB: H x W x 3, L: H x W; no Pillow image is made unless asked for, a copy
    each way), the size and EXIF
    orientation of the pixels as the file stores them, the scale they were decoded at (1/8,
    1/4, 1/2 or 1), whether the decoder already turned them upright (Pillow does for TIFF),
    and whether the data ran short (kept only with allow_truncated)."""

    pixels: Union[Image.Image, np.ndarray]
    stored: Tuple[int, int]
    orientation: int
    scale: float
    upright: bool = False
    truncated: bool = False

    @property
    def image(self) -> Image.Image:
        """The pixels as a Pillow image."""
        if isinstance(self.pixels, Image.Image):
            return self.pixels
        return Image.fromarray(self.pixels, "RGB" if self.pixels.ndim == 3 else "L")


def decode(image: Image.Image, data: bytes, spec: ImageSpec) -> Decoded:
    """The pixels of `image` (opened from `data`); JPEGs decode no larger than the output needs.

    RGB and greyscale JPEGs go through libjpeg-turbo (transforms/image/turbo_jpeg), every
    other JPEG through Pillow's draft mode (after libjpeg-turbo has listened for warnings);
    8-bit RGB and greyscale PNGs through libspng, uncompressed TIFFs of those modes are read
    as they are; other formats through Pillow at full size. Partly decoded pixels raise,
    unless `allow_truncated`.
    """
    if image.format == "TIFF":  # Pillow turns TIFFs upright as it loads them, and drops the tag
        stored = getattr(image, "_tile_size", image.size)
        orientation = read_orientation(image)  # from the tags, without loading
        check_strips(image, stored)
        pixels = uncompressed_pixels(image, data, stored)
        if pixels is not None:  # turned upright later, as a JPEG's pixels are
            return Decoded(pixels, stored, orientation, 1.0)
        truncated = load_tiff(image, spec)
        return Decoded(image, stored, orientation, 1.0, upright=True, truncated=truncated)
    if image.format == "PNG":
        pixels = plain_png_pixels(image, data)
        if pixels is not None:
            return Decoded(pixels, image.size, png_orientation(image), 1.0)
    if image.format not in JPEG_FORMATS:
        truncated = load(image, spec)
        return Decoded(image, image.size, read_orientation(image), 1.0, truncated=truncated)
    orientation = read_orientation(image)  # a JPEG's EXIF sits before its pixels
    need = decoded_size(image, spec, orientation)
    fast = turbo_jpeg.decode_scaled(data, image.mode, image.size, need, spec.allow_truncated,
                                    replicate_chroma=halves_chroma(spec))
    if fast is not None:
        return Decoded(fast[0], image.size, orientation, fast[1], truncated=fast[2])
    warned = image.mode == "CMYK" and turbo_jpeg.check_cmyk(data, image.size, spec.allow_truncated)
    stored = image.size
    drafted = image.draft(None, need)  # -> (mode, the source's extent in decoded pixels)
    truncated = load(image, spec)
    return Decoded(image, stored, orientation, drafted[1][2] / stored[0] if drafted else 1.0,
                   truncated=truncated or warned)


ARRAY_SHAPES = ("RGB", "L")  # the modes decoded to uint8 arrays (Decoded.image makes them Pillow images)


def array_shape(mode: str, size: Tuple[int, int]) -> Tuple[int, ...]:
    """The uint8 array of a `mode` image of `size` (width, height): rows, columns[, 3]."""
    width, height = size
    return (height, width, 3) if mode == "RGB" else (height, width)


def uncompressed_pixels(image: Image.Image, data: bytes, stored: Tuple[int, int]) -> Optional[np.ndarray]:
    """An uncompressed 8-bit RGB or greyscale TIFF's pixels as an array over `data`, or None for
    any other TIFF. Such a file holds the pixels as they are, in one strip Pillow reads as its
    own mode ("raw", top row first, rows packed): no decoding is due, where Pillow's load copies
    them in Python-sized chunks with the GIL held (0.76 ms a 517x355 image, and two threads no
    faster than one; docs/performance.md)."""
    tiles = getattr(image, "tile", None) or []
    if len(tiles) != 1 or image.mode not in ARRAY_SHAPES:
        return None
    codec, extents, offset, args = tiles[0]
    if codec != "raw" or tuple(extents) != (0, 0, *stored) or tuple(args) != (image.mode, 0, 1):
        return None
    shape = array_shape(image.mode, stored)
    count = int(np.prod(shape))
    if offset < 0 or offset + count > len(data):  # cut short: Pillow's load says how (allow_truncated)
        return None
    return np.frombuffer(data, np.uint8, count, offset).reshape(shape)


def plain_png_pixels(image: Image.Image, data: bytes) -> Optional[np.ndarray]:
    """An 8-bit RGB or greyscale PNG's pixels decoded by libspng (imagecodecs), or None for any
    other PNG, and for one libspng cannot read: Pillow then decodes it and says what is wrong.
    libspng inflates 1.5x as fast and releases the GIL: 517x355 photos took 5.75 ms in one
    thread and 2.92 in two through Pillow, 3.64 and 1.86 through libspng (docs/performance.md).
    Same pixels; palettes, transparency, 16 bits, animation and an EXIF block after the
    pixels (Pillow would decode them to read it) stay with Pillow."""
    tiles = getattr(image, "tile", None) or []
    if (image.mode not in ARRAY_SHAPES or len(tiles) != 1 or tiles[0][3] != image.mode
            or "transparency" in image.info or getattr(image, "is_animated", False)
            or ("exif" not in image.info and b"eXIf" in data)):
        return None
    from imagecodecs import spng_decode  # on the first PNG only: 0.1 s to import

    try:
        pixels = spng_decode(data)
    except Exception:  # noqa: BLE001 - Pillow decodes it again and names the problem
        return None
    return pixels if pixels.dtype == np.uint8 and pixels.shape == array_shape(image.mode, image.size) else None


def png_orientation(image: Image.Image) -> int:
    """A PNG's EXIF orientation where its eXIf chunk comes before the pixels (plain_png_pixels
    leaves the others to Pillow): read without decoding them."""
    return read_orientation(image) if "exif" in image.info else 1


def halves_chroma(spec: ImageSpec) -> bool:
    """Whether the output halves the chroma by 2x2 means whatever it does in between: RGB
    JPEG output in YCbCr 4:2:0, not letterboxed (then chroma upsampled by repetition decodes
    back to the samples the source stored)."""
    return (spec.format == "jpeg" and spec.resize_space == "ycbcr" and spec.channels == 3
            and spec.resize.mode != "pad")


# libtiff messages about tags it does not know or must repair: the pixels are not at stake.
_METADATA_MESSAGES = ("Unknown field with tag", "TIFFFetchNormalTag", "TIFFReadDirectory", "ASCII value for tag")


def load_tiff(image: Image.Image, spec: ImageSpec) -> bool:
    """`load`, with what libtiff says while it decodes: its words explain a failure, and a
    message about the pixels (a strip it could not decode) is one unless allow_truncated."""
    with libtiff.messages() as said:
        try:
            truncated = load(image, spec)
        except OSError as exc:
            if said:
                raise CorruptImage(f"{exc}; libtiff: {' '.join(said)}") from None
            raise
    about_pixels = [m for m in said if not any(k in m for k in _METADATA_MESSAGES)]
    if about_pixels and not spec.allow_truncated:
        raise CorruptImage(f"libtiff: {' '.join(about_pixels)} (image.allow_truncated: true keeps what it decoded)")
    return truncated or bool(about_pixels)


def check_strips(image: Image.Image, stored: Tuple[int, int]) -> None:
    """Refuse a TIFF whose strips or tiles (as Pillow will read them) leave rows of its
    `stored` size undecoded: Pillow fills them with black and reports nothing."""
    height = stored[1]
    rows: set = set()
    for tile in getattr(image, "tile", None) or []:
        _, top, _, bottom = tile[1]
        rows.update(range(max(0, top), min(height, bottom)))
    if len(rows) < height:
        raise CorruptImage(f"its strips cover {len(rows)} of {height} rows")


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
