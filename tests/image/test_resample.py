"""Bicubic through OpenCV: exact geometry for every box it takes, Pillow for the rest, a
faithful filter, and the array path of convert() giving the same bytes as the image path."""
import io
import math

import numpy as np
import pytest
from PIL import Image

from tests.support import imaging
from transforms.image import turbo_jpeg, ycbcr
from transforms.image.conversion import ORIENTATION_FIX, convert, decoded_box, orient, orient_array
from transforms.image.decode import decode, open_image
from transforms.image.geometry import ResizeSpec, plan_resize, upright_size
from transforms.image.resample import MAX_RATIO, prefilter_kernel, resize_bicubic
from transforms.image.spec import ImageSpec

BACKGROUND, PEAK = 100.0, 120.0


def blob(size, centre, sigma=6.0) -> np.ndarray:
    """A Gaussian spot on a grey field (no clipping for the cubic's overshoot to hide)."""
    x = np.arange(size[0]) + 0.5
    y = np.arange(size[1])[:, None] + 0.5
    spot = np.exp(-((x - centre[0]) ** 2 + (y - centre[1]) ** 2) / (2 * sigma ** 2))
    return np.round(BACKGROUND + PEAK * spot).astype(np.uint8)


def centroid(pixels: np.ndarray):
    weight = pixels.astype(np.float64) - BACKGROUND
    ys, xs = np.indices(weight.shape) + 0.5
    return (weight * xs).sum() / weight.sum(), (weight * ys).sum() / weight.sum()


# (source size, spot centre, output size, box): the whole image; a scaled decode's fractional
# far edge; fill's crop starting on a whole output pixel (62.5 * 256 / 375 = 42.67 would not,
# 63.28125 * 256 / 375.0 = 43.2 would not either: 375 * 43 / 256); enlarging; a tall ratio.
CASES = [((500, 375), (180.3, 140.7), (341, 256), (0.0, 0.0, 500.0, 375.0)),
         ((251, 189), (120.2, 90.9), (171, 129), (0.0, 0.0, 250.5, 188.5)),
         ((500, 375), (250.0, 190.0), (256, 256), (375 * 43 / 256, 0.0, 375 * 43 / 256 + 375.0, 375.0)),
         ((97, 61), (40.4, 30.2), (201, 127), (0.0, 0.0, 97.0, 61.0)),
         ((300, 900), (150.5, 400.25), (100, 320), (0.0, 0.0, 300.0, 900.0))]


@pytest.mark.parametrize("source, centre, size, box", CASES)
def test_a_spot_lands_where_the_box_maps_it(source, centre, size, box):
    out = resize_bicubic(blob(source, centre), size, box)
    assert out is not None and out.shape == (size[1], size[0]) and out.dtype == np.uint8
    scale_x, scale_y = size[0] / (box[2] - box[0]), size[1] / (box[3] - box[1])
    expected = ((centre[0] - box[0]) * scale_x, (centre[1] - box[1]) * scale_y)
    got = centroid(out)
    assert abs(got[0] - expected[0]) < 0.02 and abs(got[1] - expected[1]) < 0.02, (got, expected)


@pytest.mark.parametrize("source, centre, size, box", CASES)
def test_three_channels_resample_like_one(source, centre, size, box):
    grey = blob(source, centre)
    colour = np.stack([grey, 255 - grey, grey // 2], axis=-1)
    out = resize_bicubic(colour, size, box)
    assert np.array_equal(out[:, :, 0], resize_bicubic(grey, size, box))
    assert np.array_equal(out[:, :, 1], resize_bicubic(np.ascontiguousarray(colour[:, :, 1]), size, box))


@pytest.mark.parametrize("size, box", [((171, 129), (0.0, 0.0, 501.0, 377.0)), ((86, 65), (0.0, 0.0, 250.75, 189.0)),
                                       ((640, 480), (0.0, 0.0, 501.0, 377.0))])
def test_flat_colour_stays_flat_to_every_edge(size, box):
    """Including a box reaching past the pixels (4:2:0 chroma of an odd output): the edge repeats."""
    flat = np.full((377, 250 if box[2] < 300 else 501, 3), (200, 30, 90), np.uint8)
    out = resize_bicubic(flat, size, box)
    assert (out == (200, 30, 90)).all()


def test_declines_boxes_it_cannot_place_exactly_and_large_reductions():
    pixels = blob((500, 375), (250, 190))
    assert resize_bicubic(pixels, (256, 256), (62.5, 0.0, 437.5, 375.0)) is None  # starts at 42.67 output pixels
    assert resize_bicubic(pixels, (100, 75), (0.0, 0.0, 500.0, 375.0)) is None  # 5x: Pillow is as fast there
    assert resize_bicubic(pixels, (int(500 / MAX_RATIO) + 1, 125), (0.0, 0.0, 500.0, 375.0)) is not None
    strip = np.zeros((20000, 1), np.uint8)  # fill to 256 x 256 crops the middle pixel of a 1 x 20000 strip
    plan = plan_resize(1, 20000, ResizeSpec("fill", 256, 256))
    assert resize_bicubic(strip, plan.size, plan.box) is None  # Pillow resizes only the crop
    filled = convert(imaging.encode(Image.fromarray(strip), "PNG"), ImageSpec(resize=ResizeSpec("fill", 256, 256)))
    assert (filled.width, filled.height) == (256, 256)


def test_prefilter_only_when_reducing_and_keeps_the_level():
    assert prefilter_kernel(1.0) is None and prefilter_kernel(0.5) is None
    for ratio in (1.2, 1.5, 1.99, 3.0):
        taps = prefilter_kernel(ratio)
        assert taps is not None and len(taps) % 2 == 1
        assert np.allclose(taps, taps[::-1]) and abs(float(taps.sum()) - 1.0) < 1e-6
    assert len(prefilter_kernel(3.0)) > len(prefilter_kernel(1.2))


def float_lanczos(pixels: np.ndarray, size, box) -> np.ndarray:
    return np.asarray(Image.fromarray(pixels.astype(np.float32), "F").resize(size, Image.Resampling.LANCZOS, box=box),
                      np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(255 ** 2 / np.mean((a.astype(np.float64) - np.clip(b, 0, 255)) ** 2))


@pytest.mark.parametrize("size", [(455, 341), (341, 256), (263, 197), (201, 151)])
def test_as_close_to_a_float_lanczos_as_pillows_bicubic_on_a_photo(size):
    """Ratios 1.1 to 2.5 on a photo-like image: aliasing would show as a loss here."""
    grey = np.asarray(imaging.photo((500, 375), 7).convert("L"))
    box = (0.0, 0.0, 500.0, 375.0)
    reference = float_lanczos(grey, size, box)
    ours = psnr(resize_bicubic(grey, size, box), reference)
    pillows = psnr(np.asarray(Image.fromarray(grey).resize(size, Image.Resampling.BICUBIC, box=box)), reference)
    assert ours >= pillows - 0.3, (ours, pillows)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orienting_an_array_is_orienting_the_image(orientation):
    pixels = np.asarray(imaging.asymmetric((7, 5)).convert("RGB"))
    expected = np.asarray(orient(Image.fromarray(pixels), orientation))
    assert np.array_equal(orient_array(pixels, orientation), expected)
    assert ORIENTATION_FIX.get(orientation) is not None or orientation == 1


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("resize", [ResizeSpec("shorter_side", size=96), ResizeSpec("fill", 80, 80)])
def test_the_array_path_writes_the_bytes_the_image_path_does(orientation, resize):
    """convert() takes TurboJPEG's array straight to the planes; through a Pillow image,
    oriented and resized in the same planes, the JPEG is the same."""
    data = imaging.with_orientation(imaging.photo((301, 203), 4), orientation, fmt="JPEG")
    spec = ImageSpec(resize=resize)
    result = convert(data, spec)
    decoded = decode(open_image(data, spec), data, spec)
    assert isinstance(decoded.pixels, np.ndarray)
    image = orient(decoded.image, orientation)
    plan = plan_resize(*upright_size(decoded.stored, orientation), resize)
    planes = ycbcr.resize_to_planes(image, plan.size, decoded_box(image.size, plan, decoded.scale),
                                    Image.Resampling.BICUBIC)
    assert result.encoded == turbo_jpeg.encode_planes(planes, spec.quality)
    assert Image.open(io.BytesIO(result.encoded)).size == plan.output_size


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_letterboxed_png_output_is_the_opencv_resize_pasted_on_black(mode):
    """The general path (no planes): RGB and grey go through OpenCV too, then the letterbox."""
    source = imaging.photo((180, 120), 5).convert(mode)
    spec = ImageSpec(resize=ResizeSpec("pad", 96, 96), format="png", channels=3 if mode == "RGB" else 1)
    result = convert(imaging.encode(source, "PNG"), spec)
    plan = plan_resize(180, 120, spec.resize)  # 96 x 64 at (0, 16) on 96 x 96
    inner = resize_bicubic(np.asarray(source), plan.size, plan.box)
    expected = np.zeros((96, 96) + inner.shape[2:], np.uint8)
    expected[plan.offset[1]:plan.offset[1] + plan.size[1], plan.offset[0]:plan.offset[0] + plan.size[0]] = inner
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(result.encoded))), expected)
