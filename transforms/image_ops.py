"""Image conversion without Beam: sniff, decode, orient, normalise, resize, encode.

Every step that can fail raises `StageError` naming its stage, so the caller can turn
it into a failure line. Formats are sniffed from the bytes through an allowlist of
decoders that run inside Pillow: nothing reaches an external program (EPS would go to
Ghostscript), and the pixel limit is checked from the header before any pixel is decoded.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import warnings
from typing import Iterator, Optional, Tuple

import numpy as np
from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from transforms import turbo_jpeg, ycbcr
from transforms.geometry import Box, ResizePlan, ResizeSpec, plan_resize, scaled_size
from transforms.types import STAGE_DECODE, STAGE_ENCODE, STAGE_TRANSFORM

Image.init()  # register every plugin, so the allowlist below names loaded decoders

# Pillow plugins that decode in-process and identify themselves from magic bytes
# (JPEG covers MPO, the multi-picture JPEG of cameras: its first picture is read).
ALLOWED_FORMATS: Tuple[str, ...] = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF", "PPM")

RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}

# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_ORIENTATION_FIX = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112
_MODE_CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}
_CHANNEL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    """Everything `image.*` in the config says about how to convert one image."""

    resize: ResizeSpec = ResizeSpec()
    format: str = "jpeg"
    quality: int = 90
    channels: int = 3
    alpha_background: Tuple[int, int, int] = (255, 255, 255)
    max_pixels: int = 100_000_000
    allow_truncated: bool = False
    resample: str = "bicubic"
    resize_space: str = "ycbcr"  # JPEG output: chroma resampled at 4:2:0 (ycbcr) or full (rgb)


@dataclasses.dataclass(frozen=True)
class EncodedImage:
    """The result of converting one image's bytes."""

    encoded: bytes
    format: str
    height: int
    width: int
    channels: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.encoded).hexdigest()


class StageError(Exception):
    """Conversion failed at `stage` because of `cause`."""

    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage}: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.cause = cause

    def __reduce__(self):  # crosses process boundaries (see transforms/pool.py)
        return (StageError, (self.stage, self.cause))


class UnsupportedImageFormat(ValueError):
    """The bytes are not an image in one of ALLOWED_FORMATS."""


class PixelLimitExceeded(ValueError):
    """The header promises more pixels than `image.max_pixels` allows."""


class CorruptImage(ValueError):
    """The bytes start like an allowed format but do not parse as one."""


class EmptyFile(ValueError):
    """The input has no bytes at all."""


@contextlib.contextmanager
def _stage(stage: str) -> Iterator[None]:
    try:
        yield
    except StageError:
        raise
    except Exception as exc:  # noqa: BLE001 - any per-image error becomes a failure line
        raise StageError(stage, exc) from exc


def convert(data: bytes, spec: ImageSpec) -> EncodedImage:
    """Convert one image's source bytes as `spec` asks, raising StageError on failure."""
    with _stage(STAGE_DECODE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = open_image(data, spec)
        if spec.format == "original":
            return _pass_through(data, image)
        orientation = read_orientation(image)
        plan = plan_resize(*upright_size(image.size, orientation), spec.resize)
        image, scale = decode(image, data, spec, orientation)
    with _stage(STAGE_TRANSFORM), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = orient(image, orientation)
        image = normalise(image, spec.channels, spec.alpha_background)
        planes = None
        if resizes_to_planes(image, plan, spec):
            planes = ycbcr.resize_to_planes(image, plan.size, decoded_box(image, plan, scale),
                                            RESAMPLE[spec.resample])
        else:
            image = resize(image, plan, RESAMPLE[spec.resample], scale)
    with _stage(STAGE_ENCODE):
        if planes is not None:
            width, height = planes.size
            return EncodedImage(turbo_jpeg.encode_planes(planes, spec.quality), spec.format, height, width, 3)
        encoded = encode(image, spec.format, spec.quality)
    return EncodedImage(encoded, spec.format, image.height, image.width, _MODE_CHANNELS[image.mode])


def resizes_to_planes(image: Image.Image, plan: ResizePlan, spec: ImageSpec) -> bool:
    """Whether the resize goes straight to JPEG's YCbCr 4:2:0 planes (transforms/ycbcr):
    RGB to JPEG with `resize_space: ycbcr`, resized and not letterboxed."""
    return (spec.format == "jpeg" and spec.resize_space == "ycbcr" and image.mode == "RGB"
            and plan.canvas is None and not (plan.is_identity and image.size == plan.source))


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


def read_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8); 1 when absent or unreadable."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a corrupt EXIF block must not lose the image
        return 1
    return value if value in _ORIENTATION_FIX else 1


def upright_size(size: Tuple[int, int], orientation: int) -> Tuple[int, int]:
    """The size once the orientation is applied (5-8 swap width and height)."""
    return (size[1], size[0]) if orientation >= 5 else size


def claimed_format(data: bytes) -> Optional[str]:
    """The allowed format whose magic bytes `data` starts with, if any."""
    prefix = data[:16]
    for name in ALLOWED_FORMATS:
        accept = Image.OPEN[name][1]
        if accept is not None and accept(prefix) is True:
            return name
    return None


def decode(image: Image.Image, data: bytes, spec: ImageSpec,
           orientation: int) -> Tuple[Image.Image, float]:
    """The pixels of `image` (opened from `data`), decoded no larger than the output needs,
    and the scale they were decoded at (1/8, 1/4, 1/2 or 1).

    RGB and greyscale JPEGs go through libjpeg-turbo (transforms/turbo_jpeg), everything
    else, and any JPEG that path declines, through Pillow (in draft mode for JPEG).
    """
    if image.format not in ("JPEG", "MPO"):
        load(image, spec)
        return image, 1.0
    need = decoded_size(image, spec, orientation)
    fast = turbo_jpeg.decode_scaled(data, image.mode, image.size, need)
    if fast is not None:
        return fast
    width = image.width
    drafted = image.draft(None, need)  # -> (mode, the source's extent in decoded pixels)
    load(image, spec)
    return image, drafted[1][2] / width if drafted else 1.0


def decoded_size(image: Image.Image, spec: ImageSpec, orientation: int) -> Tuple[int, int]:
    """The smallest stored (not yet oriented) size the resize can start from."""
    if spec.resize.mode == "none":
        return image.size
    need = scaled_size(*upright_size(image.size, orientation), spec.resize)
    return upright_size(need, orientation)


def load(image: Image.Image, spec: ImageSpec) -> None:
    """Decode the pixels; truncated data fails unless `allow_truncated`."""
    ImageFile.LOAD_TRUNCATED_IMAGES = spec.allow_truncated
    image.seek(0)  # animated and multi-page files: the first frame
    image.load()


def orient(image: Image.Image, orientation: int) -> Image.Image:
    """Apply the EXIF orientation so every reader sees the same upright pixels."""
    fix = _ORIENTATION_FIX.get(orientation)
    return image.transpose(fix) if fix is not None else image


def normalise(image: Image.Image, channels: int, background: Tuple[int, int, int]) -> Image.Image:
    """Bring any mode to L, RGB or RGBA as `channels` asks, colours and alpha handled."""
    image = _to_basic_mode(image)
    if image.mode in ("LA", "RGBA") and channels != 4:
        image = _composite(image, background)
    target = _CHANNEL_MODES[channels]
    return image if image.mode == target else image.convert(target)


def _to_basic_mode(image: Image.Image) -> Image.Image:
    """Any Pillow mode to one of L, LA, RGB, RGBA."""
    mode = image.mode
    if mode in ("L", "LA", "RGB", "RGBA"):
        return image
    if mode == "CMYK":
        return cmyk_to_rgb(image)
    if mode.startswith("I") or mode == "F":
        return high_bit_depth_to_l(image)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode in ("La",):
        return image.convert("LA")
    if mode in ("RGBa",):
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")  # YCbCr, LAB, HSV, RGBX


def cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """CMYK (and YCCK, which libjpeg hands over as CMYK) to RGB via its ICC profile if any."""
    profile = image.info.get("icc_profile")
    if profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            return ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: fall back to the plain formula
    return image.convert("RGB")


def high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit and float greyscale scaled into 8 bits by bit depth, never clipped.

    Values that fit 16 bits are divided by 257 (65535 -> 255); larger integers are
    scaled from the 31-bit range; floats in [0, 1] are scaled by 255, others clipped.
    Rows are scaled a block at a time, so a 100-megapixel image needs no 8-byte copy.
    """
    pixels = np.asarray(image)
    out = np.empty(pixels.shape, np.uint8)
    if pixels.dtype.kind == "f":
        unit = pixels.size and np.nanmin(pixels) >= 0.0 and np.nanmax(pixels) <= 1.0
        scale = lambda block: np.clip(np.rint(np.nan_to_num(block, nan=0.0) * (255.0 if unit else 1.0)), 0, 255)  # noqa: E731
    else:
        peak = int(pixels.max()) if pixels.size else 0
        full = 65535 if peak <= 65535 else 2**31 - 1
        wide = np.uint32 if full == 65535 else np.uint64
        scale = lambda block: (np.clip(block, 0, None).astype(wide) * 255 + full // 2) // full  # noqa: E731
    rows = max(1, (1 << 22) // max(1, pixels.shape[1]))  # about 4 M pixels a block
    for start in range(0, pixels.shape[0], rows):
        out[start:start + rows] = scale(pixels[start:start + rows])
    return Image.fromarray(out, "L")


def _composite(image: Image.Image, background: Tuple[int, int, int]) -> Image.Image:
    """Flatten alpha onto `background`, in RGB (an LA image stays grey)."""
    was_grey = image.mode == "LA"
    rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, tuple(background) + (255,))
    flat.alpha_composite(rgba)
    return flat.convert("L" if was_grey else "RGB")


def resize(image: Image.Image, plan: ResizePlan, resample: int, scale: float = 1.0) -> Image.Image:
    """Apply `plan` (made for `plan.source`) to `image`, decoded at `scale` of the source.

    A scaled decode rounds its size up (a 375-row JPEG at 1/2 has 188 rows, the last one
    half covered), so the crop box is scaled by `scale`, not by the size ratio.
    """
    if plan.is_identity and image.size == plan.source:
        return image
    out = image.resize(plan.size, resample, box=decoded_box(image, plan, scale))
    if plan.canvas is None:
        return out
    canvas = Image.new(out.mode, plan.canvas)  # letterbox in black (and transparent)
    canvas.paste(out, plan.offset)
    return canvas


def decoded_box(image: Image.Image, plan: ResizePlan, scale: float) -> Box:
    """`plan.box` on `image`, decoded at `scale` of the source."""
    left, top, right, bottom = plan.box
    return (left * scale, top * scale, min(right * scale, image.width), min(bottom * scale, image.height))


def encode(image: Image.Image, fmt: str, quality: int) -> bytes:
    """Encode to `fmt`; the output carries no EXIF, so no orientation tag survives."""
    if fmt == "raw":
        return image.tobytes()
    buffer = io.BytesIO()
    if fmt == "jpeg":
        fast = turbo_jpeg.encode(image, quality)  # releases the GIL; Pillow's encoder holds it
        if fast is not None:
            return fast
        image.save(buffer, "JPEG", quality=quality)
    elif fmt == "png":
        image.save(buffer, "PNG")
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=quality)
    else:
        raise ValueError(f"cannot encode to {fmt!r}")
    return buffer.getvalue()


def _pass_through(data: bytes, image: Image.Image) -> EncodedImage:
    """`format: original`: the source bytes untouched, described from the header."""
    channels = len(image.getbands())
    return EncodedImage(data, image.format.lower(), image.height, image.width, channels)


def sniff_format(data: bytes) -> Optional[str]:
    """The allowed format the bytes are in (lower case), or None."""
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
            return image.format.lower()
    except (UnidentifiedImageError, OSError, ValueError):
        return None
