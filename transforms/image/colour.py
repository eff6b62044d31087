"""Modes and colours: any Pillow mode to L, RGB or RGBA, with CMYK, palettes, alpha and
high bit depths handled so every reader sees the same 8-bit pixels."""
from __future__ import annotations

import io
from typing import Tuple

import numpy as np
from PIL import Image, ImageCms

MODE_CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}
CHANNEL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def normalise(image: Image.Image, channels: int, background: Tuple[int, int, int]) -> Image.Image:
    """Bring any mode to L, RGB or RGBA as `channels` asks, colours and alpha handled."""
    image = to_basic_mode(image)
    if image.mode in ("LA", "RGBA") and channels != 4:
        image = composite(image, background)
    target = CHANNEL_MODES[channels]
    return image if image.mode == target else image.convert(target)


def to_basic_mode(image: Image.Image) -> Image.Image:
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
    if mode == "La":
        return image.convert("LA")
    if mode == "RGBa":
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
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
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


def composite(image: Image.Image, background: Tuple[int, int, int]) -> Image.Image:
    """Flatten alpha onto `background`, in RGB (an LA image stays grey)."""
    was_grey = image.mode == "LA"
    rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, tuple(background) + (255,))
    flat.alpha_composite(rgba)
    return flat.convert("L" if was_grey else "RGB")
