"""JPEG output resized in YCbCr 4:2:0: the planes' geometry, and pixels as faithful as
resizing RGB first (what `resize_space: rgb` and Pillow scripts do)."""
import io
import math

import numpy as np
import pytest
from PIL import Image

from tests.support import imaging
from transforms.image import turbo_jpeg, ycbcr
from transforms.image.conversion import convert, resize, resizes_to_planes
from transforms.image.geometry import ResizePlan, ResizeSpec, plan_resize
from transforms.image.resample import resize_bicubic
from transforms.image.spec import ImageSpec

BICUBIC = Image.Resampling.BICUBIC


def textured(size=(500, 375), seed=3) -> Image.Image:
    """imaging.photo with fine noise on top, so resampling has detail to keep or lose."""
    noise = np.random.default_rng(seed).integers(-24, 25, (size[1], size[0], 3))
    pixels = np.asarray(imaging.photo(size, seed), np.int16) + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float64)


def through_planes(image, size, box) -> bytes:
    return turbo_jpeg.encode_planes(ycbcr.resize_to_planes(image, size, box, BICUBIC), 90)


def through_rgb(image, size, box) -> bytes:
    return turbo_jpeg.encode(resize(image, plan_for(image.size, size, box), BICUBIC), 90)


def float_reference(image, size, box) -> np.ndarray:
    """Each channel resampled in floating point with Lanczos, chroma at full resolution."""
    channels = [Image.fromarray(np.asarray(c, np.float32), "F").resize(size, Image.Resampling.LANCZOS, box=box)
                for c in image.split()]
    return np.stack([np.asarray(c, np.float64) for c in channels], axis=-1)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * math.log10(255 ** 2 / np.mean((a - b) ** 2))


# (source size, output size, box): photo and odd sizes, a centre crop, tall, 1x1, a
# fractional box (a scaled decode), enlarging.
CASES = [((500, 375), (341, 256), (0, 0, 500, 375)),
         ((500, 375), (256, 256), (62.5, 0, 437.5, 375)),
         ((333, 501), (255, 384), (0, 0, 333, 501)),
         ((640, 480), (1, 1), (0, 0, 640, 480)),
         ((97, 61), (31, 19), (3.5, 1.25, 96, 60)),
         ((97, 61), (201, 127), (0, 0, 97, 61))]


@pytest.mark.parametrize("source, size, box", CASES)
def test_planes_have_the_shapes_jpeg_stores(source, size, box):
    planes = ycbcr.resize_to_planes(textured(source), size, box, BICUBIC)
    w, h = size
    assert planes.size == size and planes.y.shape == (h + h % 2, w + w % 2)
    assert planes.cb.shape == planes.cr.shape == ((h + 1) // 2, (w + 1) // 2)
    assert np.array_equal(planes.y[h:], planes.y[h - 1:h][:h % 2])  # edges repeated
    assert np.array_equal(planes.y[:, w:], planes.y[:, w - 1:w][:, :w % 2])
    assert all(p.dtype == np.uint8 for p in planes[:3])
    header = Image.open(io.BytesIO(turbo_jpeg.encode_planes(planes, 90)))
    assert header.size == size and header.mode == "RGB"


@pytest.mark.parametrize("source, size, box", CASES[:3])
def test_luma_is_as_exact_as_the_luma_of_resizing_rgb(source, size, box):
    """Against the same filter in floating point (bicubic through OpenCV where the box
    allows it, Pillow's otherwise): the two round at other steps, and resizing RGB clips
    each channel's overshoot at hard edges before the luma is taken."""
    image = textured(source)
    weights = np.array([0.299, 0.587, 0.114])
    luma = (np.asarray(image, np.float64) @ weights).astype(np.float32)
    exact = resize_bicubic(luma, size, box)
    if exact is None:
        exact = np.asarray(Image.fromarray(luma, "F").resize(size, BICUBIC, box=box), np.float64)
    y = ycbcr.resize_to_planes(image, size, box, BICUBIC).y[:size[1], :size[0]]
    rgb_luma = np.asarray(resize(image, plan_for(source, size, box), BICUBIC).convert("L"), np.float64)
    assert np.abs(y - exact).mean() <= np.abs(rgb_luma - exact).mean() + 0.05
    assert np.abs(y - rgb_luma).mean() < 0.5


def plan_for(source, size, box) -> ResizePlan:
    return ResizePlan(source=source, size=size, box=box)


@pytest.mark.parametrize("source, size, box", CASES[:3] + CASES[4:])
def test_as_faithful_as_resizing_rgb(source, size, box):
    image = textured(source)
    reference = float_reference(image, size, box)
    planes = psnr(decoded(through_planes(image, size, box)), reference)
    rgb = psnr(decoded(through_rgb(image, size, box)), reference)
    assert planes >= rgb - 0.6, (planes, rgb)


def test_flat_colours_keep_their_colour_to_every_edge():
    image = Image.new("RGB", (501, 377), (200, 30, 90))
    out = decoded(through_planes(image, (171, 129), (0, 0, 501, 377)))  # odd both ways
    assert np.abs(out - (200, 30, 90)).max() <= 3


def test_chroma_grid_lines_up_with_luma_to_the_last_column():
    """A red band at the right edge of a grey image: with an odd output width the last
    chroma sample lies half past the image, and must still carry the band's colour."""
    image = Image.new("RGB", (500, 375), (128, 128, 128))
    image.paste((230, 20, 20), (488, 0, 500, 375))
    size, box = (341, 256), (0, 0, 500, 375)
    planes, rgb = decoded(through_planes(image, size, box)), decoded(through_rgb(image, size, box))
    red_planes, red_rgb = planes[:, :, 0].mean(axis=0), rgb[:, :, 0].mean(axis=0)
    assert red_planes[-1] > 200 and red_planes[-12] < 140
    assert np.abs(red_planes - red_rgb).max() < 20


def test_convert_resizes_rgb_jpeg_output_in_planes_unless_told_rgb():
    data = imaging.encode(textured(), "PNG")
    spec = ImageSpec(resize=ResizeSpec("shorter_side", size=256))
    reference = resize(textured(), plan_for((500, 375), (341, 256), (0, 0, 500, 375)), BICUBIC)
    fast, plain = convert(data, spec), convert(data, ImageSpec(spec.resize, resize_space="rgb"))
    assert plain.encoded == turbo_jpeg.encode(reference, 90)
    assert fast.encoded == through_planes(textured(), (341, 256), (0, 0, 500, 375))
    assert (fast.width, fast.height, fast.channels) == (plain.width, plain.height, plain.channels) == (341, 256, 3)


def test_planes_are_for_resized_rgb_jpeg_only():
    rgb, grey = textured((64, 48)), textured((64, 48)).convert("L")
    resized = plan_resize(64, 48, ResizeSpec("exact", width=32, height=24))
    letterboxed = plan_resize(64, 48, ResizeSpec("pad", width=32, height=32))
    same = plan_resize(64, 48, ResizeSpec("none"))
    assert resizes_to_planes(rgb, resized, ImageSpec())
    assert not resizes_to_planes(grey, resized, ImageSpec())
    assert not resizes_to_planes(rgb, resized, ImageSpec(format="png"))
    assert not resizes_to_planes(rgb, resized, ImageSpec(resize_space="rgb"))
    assert not resizes_to_planes(rgb, letterboxed, ImageSpec())
    assert not resizes_to_planes(rgb, same, ImageSpec())


def test_chroma_is_rounded_not_truncated():
    """Pillow's own YCbCr conversion truncates (chroma half a level low on average); JPEG
    encoders round. (0, 22, 0) has Cb 120.71 and Cr 118.79: 121 and 119, not 120 and 118."""
    image = Image.new("RGB", (64, 48), (0, 22, 0))
    planes = ycbcr.resize_to_planes(image, (31, 23), (0, 0, 64, 48), BICUBIC)
    assert (planes.cb == 121).all() and (planes.cr == 119).all() and (planes.y == 13).all()
