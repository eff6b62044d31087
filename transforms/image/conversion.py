"""One image's bytes to its encoded output: sniff, decode, orient, normalise, resize, encode.

Every step that can fail raises `StageError` naming its stage, so the caller can turn it
into a failure line. The result carries the `Geometry` applied, from the stored frame of
the source to the output frame, for whatever must follow the pixels.
"""
from __future__ import annotations

import contextlib
import io
from typing import Callable, Dict, Iterator, Optional

import cv2
import numpy as np
from PIL import Image

from transforms.elements import STAGE_DECODE, STAGE_ENCODE, STAGE_TRANSFORM
from transforms.image import turbo_jpeg, ycbcr
from transforms.image.colour import MODE_CHANNELS, normalise
from transforms.image.decode import Decoded, decode, open_image
from transforms.image.geometry import Box, Geometry, ResizePlan, Size, plan_resize, upright_size
from transforms.image.resample import resize_bicubic
from transforms.image.spec import EncodedImage, ImageSpec, OutputTooLarge, StageError

RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}

# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
ORIENTATION_FIX = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@contextlib.contextmanager
def _stage(stage: str) -> Iterator[None]:
    try:
        yield
    except StageError:
        raise
    except Exception as exc:  # noqa: BLE001 - any per-image error becomes a failure line
        raise StageError(stage, exc) from exc


def convert(data: bytes, spec: ImageSpec, name: str = "") -> EncodedImage:
    """Convert one image's source bytes as `spec` asks, raising StageError on failure.
    `name` (the file's) matters only for formats without magic bytes (TGA)."""
    with _stage(STAGE_DECODE):
        image = open_image(data, spec, name)
        if spec.format == "original":
            return _pass_through(data, image)
        decoded = decode(image, data, spec)
        orientation, scale = decoded.orientation, decoded.scale
    with _stage(STAGE_TRANSFORM):
        plan = plan_resize(*upright_size(decoded.stored, orientation), spec.resize)
        check_output_size(plan, spec)
        geometry = Geometry(decoded.stored, orientation, scale, plan)
        planes = _planes_from_array(decoded, plan, spec)
        if planes is None:
            image = decoded.image
            if not decoded.upright:
                image = orient(image, orientation)
            image = normalise(image, spec.channels, spec.alpha_background)
            if resizes_to_planes(image, plan, spec):
                planes = ycbcr.resize_to_planes(image, plan.size, decoded_box(image.size, plan, scale),
                                                RESAMPLE[spec.resample])
            else:
                image = resize(image, plan, RESAMPLE[spec.resample], scale)
    with _stage(STAGE_ENCODE):
        if planes is not None:
            width, height = planes.size
            encoded = turbo_jpeg.encode_planes(planes, spec.quality)
            return EncodedImage(encoded, spec.format, height, width, 3, geometry, decoded.truncated)
        encoded = encode(image, spec)
    return EncodedImage(encoded, spec.format, image.height, image.width, MODE_CHANNELS[image.mode], geometry,
                        decoded.truncated)


# The largest side each encoder writes (JPEG's 16-bit header less libjpeg's margin, WebP's 14 bits).
MAX_SIDE = {"jpeg": 65_500, "webp": 16_383}


def check_output_size(plan: ResizePlan, spec: ImageSpec) -> None:
    """Refuse an output the encoder cannot write, or larger than `image.max_pixels`, before
    any of its pixels is allocated (a 1x20000 PNG to shorter side 256 plans 256x5120000)."""
    width, height = plan.output_size
    side = MAX_SIDE.get(spec.format)
    if width * height > spec.max_pixels:
        raise OutputTooLarge(f"the output would be {width}x{height}, {width * height} pixels, "
                             f"over image.max_pixels={spec.max_pixels}")
    if side is not None and max(width, height) > side:
        raise OutputTooLarge(f"the output would be {width}x{height}; {spec.format} holds at most {side} a side")


def resizes_to_planes(image: Image.Image, plan: ResizePlan, spec: ImageSpec) -> bool:
    """Whether the resize goes straight to JPEG's YCbCr 4:2:0 planes (transforms/image/ycbcr):
    RGB to JPEG with `resize_space: ycbcr`, resized and not letterboxed."""
    return image.mode == "RGB" and _to_planes(plan, spec, image.size)


def _to_planes(plan: ResizePlan, spec: ImageSpec, size: Size) -> bool:
    return (spec.format == "jpeg" and spec.resize_space == "ycbcr" and plan.canvas is None
            and not (plan.is_identity and size == plan.source))


def _planes_from_array(decoded: Decoded, plan: ResizePlan, spec: ImageSpec) -> Optional[ycbcr.Planes]:
    """The path of most photos: RGB from TurboJPEG to JPEG, resized with bicubic, goes from
    the decoded array to the planes with no Pillow image made (a copy each way). None where
    it does not apply; the caller takes the general path."""
    pixels = decoded.pixels
    if not (isinstance(pixels, np.ndarray) and pixels.ndim == 3 and spec.channels == 3
            and spec.resample == "bicubic"):
        return None
    stored = (pixels.shape[1], pixels.shape[0])
    size = stored if decoded.upright else upright_size(stored, decoded.orientation)
    if not _to_planes(plan, spec, size):  # decided before turning the pixels upright
        return None
    if not decoded.upright:
        pixels = orient_array(pixels, decoded.orientation)
    return ycbcr.bicubic_planes(pixels, plan.size, decoded_box(size, plan, decoded.scale))


def orient(image: Image.Image, orientation: int) -> Image.Image:
    """Apply the EXIF orientation so every reader sees the same upright pixels."""
    fix = ORIENTATION_FIX.get(orientation)
    return image.transpose(fix) if fix is not None else image


# EXIF orientation -> `orient` on an array (OpenCV's copies release the GIL).
_ORIENT_ARRAY: Dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: cv2.flip(a, 1),
    3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
    4: lambda a: cv2.flip(a, 0),
    5: cv2.transpose,
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),
    7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def orient_array(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """`orient` for an H x W (x C) array."""
    fix = _ORIENT_ARRAY.get(orientation)
    return fix(pixels) if fix is not None else pixels


def resize(image: Image.Image, plan: ResizePlan, resample: int, scale: float = 1.0) -> Image.Image:
    """Apply `plan` (made for `plan.source`) to `image`, decoded at `scale` of the source.

    A scaled decode rounds its size up (a 375-row JPEG at 1/2 has 188 rows, the last one
    half covered), so the crop box is scaled by `scale`, not by the size ratio.
    """
    if plan.is_identity and image.size == plan.source:
        return image
    box = decoded_box(image.size, plan, scale)
    out = _opencv_bicubic(image, plan.size, box) if resample == Image.Resampling.BICUBIC else None
    if out is None:
        out = image.resize(plan.size, resample, box=box)
    if plan.canvas is None:
        return out
    canvas = Image.new(out.mode, plan.canvas)  # letterbox in black (and transparent)
    canvas.paste(out, plan.offset)
    return canvas


def _opencv_bicubic(image: Image.Image, size: Size, box: Box) -> Optional[Image.Image]:
    """Bicubic through OpenCV (transforms/image/resample) for L and RGB; None for other modes
    (Pillow premultiplies alpha while it resamples RGBA) or where the box does not allow it."""
    if image.mode not in ("L", "RGB"):
        return None
    out = resize_bicubic(np.asarray(image), size, box)
    return None if out is None else Image.fromarray(out, image.mode)


def decoded_box(size: Size, plan: ResizePlan, scale: float) -> Box:
    """`plan.box` on an image of `size`, decoded at `scale` of the source."""
    left, top, right, bottom = plan.box
    return (left * scale, top * scale, min(right * scale, size[0]), min(bottom * scale, size[1]))


def encode(image: Image.Image, spec: ImageSpec) -> bytes:
    """Encode to `spec.format` (JPEG and WebP at `quality`, PNG at zlib level `png_compression`,
    WebP with libwebp's effort `webp_method`); the output carries no EXIF, so no orientation
    tag survives."""
    fmt, quality = spec.format, spec.quality
    if fmt == "raw":
        return image.tobytes()
    buffer = io.BytesIO()
    if fmt == "jpeg":
        fast = turbo_jpeg.encode(image, quality)  # releases the GIL; Pillow's encoder holds it
        if fast is not None:
            return fast
        image.save(buffer, "JPEG", quality=quality)
    elif fmt == "png":
        image.save(buffer, "PNG", compress_level=spec.png_compression)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=quality, method=spec.webp_method)
    else:
        raise ValueError(f"cannot encode to {fmt!r}")
    return buffer.getvalue()


def _pass_through(data: bytes, image: Image.Image) -> EncodedImage:
    """`format: original`: the source bytes untouched (EXIF too), described from the header."""
    channels = len(image.getbands())
    return EncodedImage(data, (image.format or "").lower(), image.height, image.width, channels,
                        Geometry.identity(image.size))
