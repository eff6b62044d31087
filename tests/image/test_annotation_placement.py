"""Boxes follow the pixels: for every EXIF orientation and resize mode, a rectangle drawn on
an image, annotated in the stored frame (and, separately, the upright one), lands where the
placed box says after a real conversion; boxes cut away are counted, never lost silently."""
import io

import numpy as np
import pytest
from PIL import Image

from tests.image.test_geometry_mapping import MODES, RECT, STORED, assert_box_covers_the_rect, stored_pixels
from tests.support import imaging
from transforms.image.conversion import ORIENTATION_FIX, convert
from transforms.image.geometry import ResizeSpec
from transforms.image.spec import ImageSpec
from transforms.inputs.annotations.model import AnnotatedObject, Annotation
from transforms.inputs.annotations.placement import (
    DROPPED_EMPTY,
    DROPPED_HIDDEN,
    DROPPED_NOT_FINITE,
    DROPPED_OUTSIDE,
    place,
)


def converted(orientation, mode):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = imaging.encode(stored_pixels(), "PNG", exif=exif)
    result = convert(data, ImageSpec(resize=MODES[mode], format="png"))
    return result, np.asarray(Image.open(io.BytesIO(result.encoded)).convert("RGB"))


def upright_rect(orientation):
    upright = stored_pixels()
    if orientation in ORIENTATION_FIX:
        upright = upright.transpose(ORIENTATION_FIX[orientation])
    ys, xs = np.nonzero(np.asarray(upright)[..., 1] < 100)
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)), upright.size


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("orientation", range(1, 9))
def test_boxes_in_either_frame_land_on_the_rectangle(orientation, mode):
    result, pixels = converted(orientation, mode)
    stored = Annotation("k", (AnnotatedObject("red", tuple(map(float, RECT))),), size=STORED)
    placed = place(stored, result.geometry)
    if orientation in (2, 3, 4):  # flips keep the size: auto cannot tell, and takes the default
        assert placed.frame_guessed and placed.frame == "upright"
        placed = place(Annotation("k", stored.objects, size=STORED, frame="stored"), result.geometry)
    assert placed.frame == "stored" and not placed.frame_guessed and len(placed.objects) == 1
    assert_box_covers_the_rect(pixels, np.array(placed.objects[0].box))
    box, size = upright_rect(orientation)
    upright = Annotation("k", (AnnotatedObject("red", box),), size=size, frame="upright")
    placed = place(upright, result.geometry)
    assert_box_covers_the_rect(pixels, np.array(placed.objects[0].box))


def test_auto_tells_the_frame_from_the_declared_size_when_the_image_turns():
    result, _ = converted(6, "none")  # stored 400 x 300, upright 300 x 400
    box = (0.0, 0.0, 10.0, 10.0)
    assert place(Annotation("k", (AnnotatedObject("a", box),), size=(400, 300)), result.geometry).frame == "stored"
    assert place(Annotation("k", (AnnotatedObject("a", box),), size=(300, 400)), result.geometry).frame == "upright"
    guessed = place(Annotation("k", (AnnotatedObject("a", box),)), result.geometry)
    assert guessed.frame == "upright" and guessed.frame_guessed


def test_normalised_boxes_scale_by_the_frame():
    result, pixels = converted(1, "fit")
    w, h = STORED
    box = (RECT[0] / w, RECT[1] / h, RECT[2] / w, RECT[3] / h)
    placed = place(Annotation("k", (AnnotatedObject("red", box),), normalised=True), result.geometry)
    assert_box_covers_the_rect(pixels, np.array(placed.objects[0].box))


def test_cropped_hidden_and_empty_boxes_are_counted():
    data = imaging.encode(Image.new("RGB", (400, 100)), "PNG")
    result = convert(data, ImageSpec(resize=ResizeSpec("fill", 100, 100), format="png"))  # keeps x 150..250
    objects = (AnnotatedObject("gone", (0, 0, 100, 100)), AnnotatedObject("half", (100, 0, 200, 100)),
               AnnotatedObject("in", (160, 10, 240, 90)), AnnotatedObject("flat", (5, 5, 5, 9)))
    placed = place(Annotation("k", objects), result.geometry, min_visible=0.6)
    assert [p.source.label for p in placed.objects] == ["in"]
    assert placed.objects[0].box == pytest.approx((10.0, 10.0, 90.0, 90.0)) and placed.objects[0].area == 6400
    assert placed.dropped == {DROPPED_OUTSIDE: 1, DROPPED_HIDDEN: 1, DROPPED_EMPTY: 1}


def test_boxes_with_nan_or_infinity_are_dropped_not_clipped():
    """A reader takes JSON's NaN and "nan" or "inf" in XML or CSV: such a box is dropped and
    counted, never clipped into a box over the whole image (or kept with NaN coordinates)."""
    data = imaging.encode(Image.new("RGB", (200, 100)), "PNG")
    result = convert(data, ImageSpec(resize=ResizeSpec("pad", 100, 100), format="png"))
    nan, inf = float("nan"), float("inf")
    objects = (AnnotatedObject("nan", (nan, 10, 50, 50)), AnnotatedObject("all nan", (nan, nan, nan, nan)),
               AnnotatedObject("inf", (10, 10, inf, 50)), AnnotatedObject("-inf", (-inf, 10, 50, 50)),
               AnnotatedObject("ok", (10, 10, 50, 50)))
    placed = place(Annotation("k", objects), result.geometry)
    assert [p.source.label for p in placed.objects] == ["ok"]
    assert placed.dropped == {DROPPED_NOT_FINITE: 4}


def test_boxes_never_reach_into_the_letterbox():
    data = imaging.encode(Image.new("RGB", (200, 100)), "PNG")
    result = convert(data, ImageSpec(resize=ResizeSpec("pad", 100, 100), format="png"))  # image rows 25..75
    placed = place(Annotation("k", (AnnotatedObject("a", (-50, -50, 250, 150)),)), result.geometry)
    assert placed.objects[0].box == pytest.approx((0.0, 25.0, 100.0, 75.0))


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("orientation", range(1, 9))
def test_instance_masks_land_on_the_rectangle(orientation, mode):
    """A polygon around the rectangle, in the stored frame: its mask in the output covers what
    the red pixels cover (for orientations 2-4 the frame is said, as auto cannot tell)."""
    from transforms.inputs.annotations.model import PackedAnnotation
    from transforms.runtime.work import DetectionSpec, place_objects

    result, pixels = converted(orientation, mode)
    x0, y0, x1, y1 = RECT
    obj = AnnotatedObject("red", tuple(map(float, RECT)), polygons=((x0, y0, x1, y0, x1, y1, x0, y1),))
    spec = DetectionSpec((("red", 1),), frame="stored", instance_masks=True)
    packed = PackedAnnotation.of(Annotation("k", (obj,), size=STORED))
    objects, dropped, _, masks = place_objects(packed, result.geometry, spec)
    assert not dropped and len(masks) == 1
    mask = masks[0].astype(bool)
    red = np.asarray(pixels)[..., 0] > 150
    assert mask.shape == red.shape and (mask == red).mean() > 0.97
    assert objects.areas[0] == mask.sum()  # the area is the mask's pixels


def test_boxes_drawn_on_another_copy_of_the_image_are_refused():
    """An annotation that declares another size (a thumbnail it was drawn on, a resized file):
    placed on this image its boxes would be wrong, so the image fails naming both sizes. The
    Object Detection API's VOC script divides by the declared size and writes them anyway."""
    from transforms.inputs.annotations.model import AnnotationError

    result = convert(imaging.encode(Image.new("RGB", (200, 100)), "PNG"), ImageSpec(format="png"))
    thumbnail = Annotation("k", (AnnotatedObject("a", (10, 10, 20, 20)),), size=(100, 50))
    with pytest.raises(AnnotationError, match="for a 100x50 image; this one is 200x100"):
        place(thumbnail, result.geometry)
    assert place(Annotation("k", thumbnail.objects, size=(200, 100)), result.geometry).objects
    assert place(Annotation("k", (), size=(100, 50)), result.geometry).objects == ()  # nothing to misplace
