"""The geometry the image path returns maps boxes onto the pixels it wrote: for every EXIF
orientation and every resize mode, a rectangle drawn on the stored pixels lies, in the
output, where `map_boxes` puts it (stored frame), and so does its upright box (upright frame)."""
import io

import numpy as np
import pytest
from PIL import Image

from tests.support import imaging
from transforms.image.conversion import ORIENTATION_FIX, convert
from transforms.image.geometry import Geometry, ResizePlan, ResizeSpec, orient_points
from transforms.image.spec import ImageSpec

STORED = (400, 300)
RECT = (60, 40, 200, 130)  # stored pixels: x from 60 to 200, y from 40 to 130
RED = (220, 30, 30)

MODES = {
    "none": ResizeSpec(),
    "exact": ResizeSpec("exact", 90, 160),
    "fit": ResizeSpec("fit", 120, 120),
    "fill": ResizeSpec("fill", 110, 90),
    "pad": ResizeSpec("pad", 128, 128),
    "shorter_side": ResizeSpec("shorter_side", size=75),
    "longer_side": ResizeSpec("longer_side", size=640),
    "no_upscale": ResizeSpec("longer_side", size=640, upscale=False),
}


def stored_pixels() -> Image.Image:
    image = Image.new("RGB", STORED, (40, 160, 60))
    image.paste(RED, RECT)
    return image


def stored_image_with_rect(orientation: int, fmt: str) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return imaging.encode(stored_pixels(), fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {}))


def red_mask(pixels: np.ndarray) -> np.ndarray:
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    return (r > 150) & (g < 100) & (b < 100)


def assert_box_covers_the_rect(pixels: np.ndarray, box: np.ndarray) -> None:
    """Inside the box (less a pixel and a half of resampling) all red; just outside none."""
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = np.clip(box, 0, [w, h, w, h])
    assert x1 - x0 > 3 and y1 - y0 > 3, f"box {box} left nothing inside {w}x{h}"
    mask = red_mask(pixels)
    inner = mask[int(np.ceil(y0 + 1.5)):int(np.floor(y1 - 1.5)), int(np.ceil(x0 + 1.5)):int(np.floor(x1 - 1.5))]
    assert inner.size and inner.mean() > 0.99, f"inside {box}: {inner.mean():.3f} red"
    outside = mask.copy()
    rows = slice(max(0, int(np.floor(y0 - 1.5))), int(np.ceil(y1 + 1.5)))
    outside[rows, max(0, int(np.floor(x0 - 1.5))):int(np.ceil(x1 + 1.5))] = False
    assert outside.sum() == 0, f"{outside.sum()} red pixels outside {box}"


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_stored_rect_lands_where_the_geometry_says(orientation, mode):
    # JPEG: the scaled decode path too; TIFF: Pillow turns it upright itself as it loads it.
    fmt = {"shorter_side": "JPEG", "fit": "JPEG", "exact": "TIFF", "none": "TIFF"}.get(mode, "PNG")
    data = stored_image_with_rect(orientation, fmt)
    result = convert(data, ImageSpec(resize=MODES[mode], format="png"))
    pixels = np.asarray(Image.open(io.BytesIO(result.encoded)).convert("RGB"))
    assert result.geometry.output_size == (pixels.shape[1], pixels.shape[0])
    assert result.geometry.orientation == orientation and result.geometry.stored == STORED
    assert_box_covers_the_rect(pixels, result.geometry.map_boxes([RECT], frame="stored")[0])

    upright = stored_pixels()
    if orientation in ORIENTATION_FIX:
        upright = upright.transpose(ORIENTATION_FIX[orientation])
    ys, xs = np.nonzero(red_mask(np.asarray(upright)))
    upright_box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    assert_box_covers_the_rect(pixels, result.geometry.map_boxes([upright_box], frame="upright")[0])


def test_the_decode_scale_is_recorded_and_changes_no_coordinate():
    data = stored_image_with_rect(6, "JPEG")
    result = convert(data, ImageSpec(resize=ResizeSpec("shorter_side", size=70)))
    assert result.geometry.decode_scale == 0.25  # 300 -> 75 >= 70
    assert result.geometry.output_size == (70, 93)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orienting_points_matches_pillows_transposes(orientation):
    """A single marked pixel's centre goes where Pillow's transpose puts that pixel."""
    image = Image.new("L", (7, 4))
    image.putpixel((5, 1), 255)
    fixed = image.transpose(ORIENTATION_FIX[orientation]) if orientation in ORIENTATION_FIX else image
    ys, xs = np.nonzero(np.asarray(fixed))
    centre = orient_points(np.array([[5.5, 1.5]]), image.size, orientation)[0]
    assert tuple(centre) == (xs[0] + 0.5, ys[0] + 0.5)


def test_identity_geometry_maps_points_to_themselves():
    geometry = Geometry.identity((10, 8))
    assert geometry.map_points([[3, 4]]).tolist() == [[3.0, 4.0]]
    assert geometry.output_size == (10, 8)


def test_letterbox_offset_and_scale():
    plan = ResizePlan(source=(200, 100), size=(100, 50), box=(0.0, 0.0, 200.0, 100.0), canvas=(100, 100),
                      offset=(0, 25))
    geometry = Geometry((200, 100), 1, 1.0, plan)
    assert geometry.map_boxes([[0, 0, 200, 100]]) == [(0.0, 25.0, 100.0, 75.0)]
    with pytest.raises(ValueError, match="frame"):
        geometry.map_points([[0, 0]], frame="sideways")


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("frame", ["stored", "upright"])
def test_map_boxes_is_map_points_on_the_corners(orientation, frame):
    """The plain-float box path and the NumPy point path agree bit for bit."""
    plan = ResizePlan(source=(30, 20), size=(17, 11), box=(2.0, 1.0, 29.0, 19.0), canvas=(17, 17), offset=(0, 3))
    geometry = Geometry((20, 30) if orientation >= 5 else (30, 20), orientation, 0.5, plan)
    boxes = [(1.25, 2.5, 7.75, 9.0), (0.0, 0.0, 20.0, 20.0)]
    corners = geometry.map_points([c for b in boxes for c in (b[:2], b[2:])], frame).reshape(-1, 2, 2)
    expected = [tuple(c.min(axis=0)) + tuple(c.max(axis=0)) for c in corners]
    assert geometry.map_boxes(boxes, frame) == expected
