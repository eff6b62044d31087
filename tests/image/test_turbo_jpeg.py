"""The TurboJPEG fast path gives Pillow's pixels, and declines what it should not handle."""
import io

import numpy as np
import pytest
from PIL import Image

from tests.support import imaging
from transforms.image import turbo_jpeg
from transforms.image.conversion import convert
from transforms.image.geometry import ResizeSpec
from transforms.image.spec import ImageSpec


def jpeg(size=(500, 375), mode="RGB", seed=1, **params) -> bytes:
    image = imaging.photo(size, seed)
    return imaging.encode(image if mode == "RGB" else image.convert(mode), "JPEG", quality=90, **params)


def pillow_decode(data: bytes, need=None) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    if need:
        image.draft(None, need)
    image.load()
    return np.asarray(image, np.int16)


def pixels(image) -> np.ndarray:
    return np.asarray(image, np.int16)


@pytest.mark.parametrize("params", [{}, {"progressive": True}, {"subsampling": 0}])
def test_full_size_decode_equals_pillow(params):
    data = jpeg(**params)
    image, scale, warned = turbo_jpeg.decode_scaled(data, "RGB", (500, 375), (500, 375))
    assert scale == 1.0 and not warned and image.shape == (375, 500, 3) and image.dtype == np.uint8
    assert np.abs(pixels(image) - pillow_decode(data)).max() <= 1


@pytest.mark.parametrize("need, divisor", [((341, 256), 4), ((700, 500), 2), ((100, 75), 8), ((1600, 1200), 1)])
def test_scaled_decode_is_pillows_draft(need, divisor):
    data = jpeg((1601, 1201))  # odd sizes: the scaled image's last row and column are partial
    image, scale, _ = turbo_jpeg.decode_scaled(data, "RGB", (1601, 1201), need)
    assert scale == 1 / divisor
    assert image.shape[:2] == (-(-1201 // divisor), -(-1601 // divisor))
    assert np.abs(pixels(image) - pillow_decode(data, need)).max() <= 1


def test_grey_jpeg_decodes_as_grey():
    data = jpeg(mode="L")
    image, _, _ = turbo_jpeg.decode_scaled(data, "L", (500, 375), (500, 375))
    assert image.shape == (375, 500)
    assert np.abs(pixels(image) - pillow_decode(data)).max() <= 1


def test_declines_what_pillow_must_decode():
    cmyk = imaging.encode(imaging.photo((64, 48)).convert("CMYK"), "JPEG")
    assert turbo_jpeg.decode_scaled(cmyk, "CMYK", (64, 48), (64, 48)) is None
    assert turbo_jpeg.decode_scaled(b"\xff\xd8\xff\xe0 not a jpeg", "RGB", (500, 375), (500, 375)) is None


@pytest.mark.parametrize("cut", ["truncated", "truncated_with_eoi", "sof_larger_than_scan"])
def test_a_warning_from_libjpeg_fails_unless_allowed(cut):
    """What Pillow's decoder would paint grey without a word: the data ends early, or the
    header promises more rows than the scan holds."""
    import struct

    data = jpeg()
    broken = {"truncated": data[: len(data) // 2], "truncated_with_eoi": data[: len(data) // 2] + b"\xff\xd9"}
    if cut == "sof_larger_than_scan":
        sof = bytearray(data)
        at = data.index(b"\xff\xc0")
        sof[at + 5:at + 9] = struct.pack(">HH", 3000, 4000)
        broken[cut] = bytes(sof)
    size = (4000, 3000) if cut == "sof_larger_than_scan" else (500, 375)
    with pytest.raises(turbo_jpeg.JpegWarning, match="the JPEG decoder warns"):
        turbo_jpeg.decode_scaled(broken[cut], "RGB", size, size)
    image, _, warned = turbo_jpeg.decode_scaled(broken[cut], "RGB", size, size, allow_warnings=True)
    assert warned and image.shape[:2] == size[::-1]


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_encode_is_as_faithful_as_pillows_encoder(mode):
    """Same quantisation tables and chroma subsampling; libjpeg-turbo builds round a few
    pixels differently, so each is held to the source, not to the other."""
    image = imaging.photo((341, 256)).convert(mode)
    ours = Image.open(io.BytesIO(turbo_jpeg.encode(image, 90)))
    theirs = Image.open(io.BytesIO(imaging.encode(image, "JPEG", quality=90)))
    assert ours.mode == theirs.mode == mode and ours.size == theirs.size
    assert ours.quantization == theirs.quantization and ours.layer == theirs.layer
    ours_error = np.abs(pixels(ours) - pixels(image)).mean()
    theirs_error = np.abs(pixels(theirs) - pixels(image)).mean()
    assert ours_error <= 1.1 * theirs_error + 0.05
    assert turbo_jpeg.encode(image.convert("RGBA"), 90) is None


def test_conversion_through_the_fast_path_matches_pillow_throughout():
    """Decode (scaled) and resize with the exact box: convert()'s raw pixels against a
    Pillow-only pipeline doing the same steps (with a filter that stays on Pillow; bicubic
    through OpenCV is held to its own tests in test_resample)."""
    data = jpeg((1601, 1201))
    result = convert(data, ImageSpec(resize=ResizeSpec("shorter_side", size=256), format="raw", resample="lanczos"))
    reference = Image.open(io.BytesIO(data))
    drafted = reference.draft("RGB", (341, 256))[1]  # 1/4: (0, 0, 400.25, 300.25)
    reference = reference.resize((341, 256), Image.Resampling.LANCZOS, box=drafted)
    ours = np.frombuffer(result.encoded, np.uint8).reshape(256, 341, 3).astype(np.int16)
    assert (result.width, result.height) == (341, 256)
    assert np.abs(ours - pixels(reference)).max() <= 1


def test_grey_jpeg_to_one_channel_stays_a_grey_jpeg():
    result = convert(jpeg(mode="L"), ImageSpec(format="jpeg", channels=1))
    assert result.channels == 1 and Image.open(io.BytesIO(result.encoded)).mode == "L"


def test_mpo_gives_its_first_picture():
    first, second = imaging.photo((200, 150), 1), imaging.photo((200, 150), 2)
    data = imaging.encode(first, "MPO", save_all=True, append_images=[second], quality=95)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = convert(data, ImageSpec(format="raw"))
    ours = np.frombuffer(result.encoded, np.uint8).reshape(150, 200, 3).astype(np.int16)
    frames = Image.open(io.BytesIO(data))
    first_decoded = pixels(frames.convert("RGB"))
    frames.seek(1)
    assert np.abs(ours - first_decoded).max() <= 1
    assert np.abs(ours - pixels(frames.convert("RGB"))).mean() > 10


def test_replicated_chroma_keeps_the_stored_samples():
    """With replicate_chroma, each 2x2 block of a 4:2:0 JPEG shares its stored chroma (up to
    RGB's rounding, where no channel clips), which 2x2 means give back; interpolated chroma
    varies inside blocks."""
    import cv2

    unclipped = np.asarray(imaging.photo((64, 48), 1)) // 2 + 64  # no channel near 0 or 255 to clip
    data = imaging.encode(Image.fromarray(unclipped.astype(np.uint8)), "JPEG", quality=90)
    spread = {}
    for replicate in (False, True):
        rgb, _, _ = turbo_jpeg.decode_scaled(data, "RGB", (64, 48), (64, 48), replicate_chroma=replicate)
        chroma = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)[:, :, 1:].astype(np.int16)
        blocks = chroma.reshape(24, 2, 32, 2, 2)
        spread[replicate] = (blocks.max(axis=(1, 3)) - blocks.min(axis=(1, 3))).max()
    assert spread[True] <= 1 and spread[False] > 10
