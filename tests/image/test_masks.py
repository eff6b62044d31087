"""Class-index masks follow the pixels: for every EXIF orientation and resize mode, the class
painted where a rectangle is drawn covers that rectangle in the output, by nearest neighbour
(no new class appears), with the letterbox as the ignore class."""
import io

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

from tests.image.test_geometry_mapping import MODES, RECT, STORED, red_mask, stored_pixels
from tests.support import imaging
from transforms.elements import Failure, ImageRef
from transforms.image.conversion import ORIENTATION_FIX, convert
from transforms.image.masks import IGNORE, MaskError, polygon_mask, read_mask, rle_mask, transform_mask
from transforms.image.spec import ImageSpec, ResizeSpec
from transforms.inputs.annotations.model import RLE, AnnotatedObject, Annotation, PackedAnnotation
from transforms.runtime.work import DetectionSpec, build_record

FILL = ImageSpec(resize=ResizeSpec("fill", 100, 100), format="png")


def class_mask(frame, orientation):
    """Class 3 where the rectangle is, 1 elsewhere, as a palette PNG in the given frame."""
    mask = Image.new("P", STORED, 1)
    mask.putpalette([0, 0, 0, 10, 10, 10, 0, 0, 0, 200, 0, 0] + [0] * 756)
    mask.paste(3, RECT)
    if frame == "upright" and orientation in ORIENTATION_FIX:
        mask = mask.transpose(ORIENTATION_FIX[orientation])
    return imaging.encode(mask, "PNG")


@pytest.mark.parametrize("frame", ["stored", "upright"])
@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("orientation", [1, 3, 6, 7])
def test_a_mask_covers_what_its_image_shows(orientation, mode, frame):
    exif = Image.Exif()
    exif[0x0112] = orientation
    result = convert(imaging.encode(stored_pixels(), "PNG", exif=exif), ImageSpec(resize=MODES[mode], format="png"))
    pixels = np.asarray(Image.open(io.BytesIO(result.encoded)).convert("RGB"))
    # Without a quarter turn both frames have one size, and a mask is taken as stored (mask_frame).
    given = frame if orientation >= 5 else "stored"
    mask = np.asarray(transform_mask(read_mask(class_mask(given, orientation)), result.geometry))
    assert mask.shape == pixels.shape[:2]
    assert set(np.unique(mask)) <= {1, 3, IGNORE}
    red = red_mask(pixels)
    agree = (mask == 3) == red
    inside = mask != IGNORE
    assert agree[inside].mean() > 0.97, agree[inside].mean()  # all but the resampled edge
    content = np.zeros_like(inside)
    (ox, oy), (w, h) = result.geometry.plan.offset, result.geometry.plan.size
    content[oy:oy + h, ox:ox + w] = True
    assert np.array_equal(inside, content)  # the letterbox, and only it, is the ignore class


def test_a_one_bit_mask_holds_classes_0_and_1():
    """Binary segmentation datasets store masks as 1-bit PNGs: the bits are the classes (Pillow's
    conversion to greyscale would make them 0 and 255, and 255 is the ignore class)."""
    bits = np.zeros((6, 8), bool)
    bits[2:4, 3:7] = True
    mask = read_mask(imaging.encode(Image.fromarray(bits), "PNG"))
    assert Image.open(io.BytesIO(imaging.encode(Image.fromarray(bits), "PNG"))).mode == "1"
    assert mask.mode == "L" and np.array_equal(np.asarray(mask), bits.astype(np.uint8))


def test_masks_that_cannot_serve_are_named():
    with pytest.raises(MaskError, match="palette, greyscale or 1-bit image, not RGB"):
        read_mask(imaging.encode(Image.new("RGB", (4, 4)), "PNG"))
    with pytest.raises(MaskError, match="does not decode"):
        read_mask(b"not a png")
    with pytest.raises(MaskError, match="the mask is JPEG, not a PNG: a class-index mask must be lossless"):
        read_mask(imaging.encode(Image.new("L", (8, 8), 3), "JPEG"))  # a JPEG named .png: its edges made classes
    result = convert(imaging.encode(Image.new("RGB", (40, 30)), "PNG"), ImageSpec(format="png"))
    with pytest.raises(MaskError, match="the mask is 20x20, the image 40x30"):
        transform_mask(Image.new("L", (20, 20)), result.geometry)



def _fill_geometry():
    """A 400x100 image centre-cropped to 100x100 (fill): what was at x 0..150 lies outside."""
    return convert(imaging.encode(Image.new("RGB", (400, 100)), "PNG"), FILL).geometry


def test_a_polygon_reaching_far_outside_is_clipped_to_the_same_pixels():
    """A point far beyond the output (here 4,000 px left of a 100 px crop) is clipped before
    pycocotools rasterises: the pixels inside are those of the polygon as given."""
    geometry = _fill_geometry()
    polygon = (-4000.0, 10.0, 240.0, 20.0, 230.0, 90.0, 170.0, 70.0)  # source pixels
    mask = polygon_mask((polygon,), geometry, "stored")
    mapped = geometry.map_points(np.asarray(polygon).reshape(-1, 2), "stored").ravel().tolist()
    as_given = np.asarray(coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects([mapped], 100, 100))))
    assert mask.shape == (100, 100) and mask.sum() > 1000
    assert np.count_nonzero(mask != as_given) <= 2  # at most a boundary pixel's rounding
    absurd = polygon_mask(((-1e12, 10.0) + polygon[2:],), geometry, "stored")  # unclipped: memory without end
    assert absurd.shape == (100, 100) and absurd.sum() > 1000


def test_a_polygon_with_nan_fails_its_image_with_a_reason(tmp_path):
    """Python's json reads NaN in a COCO file; pycocotools given one allocated all the memory
    there was. The image becomes a Failure that says why."""
    path = tmp_path / "a.png"
    path.write_bytes(imaging.encode(Image.new("RGB", (400, 100)), "PNG"))
    obj = AnnotatedObject("a", (160.0, 10.0, 240.0, 90.0), polygons=((160.0, 10.0, float("nan"), 10.0, 240.0, 90.0),))
    ref = ImageRef("a.png", str(path), annotation=PackedAnnotation.of(Annotation("a.png", (obj,))))
    failed = build_record(ref, FILL, None, {}, DetectionSpec((("a", 1),), instance_masks=True))
    assert isinstance(failed, Failure) and "NaN" in failed.error


@pytest.mark.parametrize("counts", ["", "abc", (5, 10), (-5, 105), (5, 10**9)])
def test_an_rle_whose_counts_do_not_cover_the_mask_is_refused(counts):
    """Given counts that fall short, pycocotools leaves the rest of the mask as it found the
    memory (an empty string decoded to values up to 255): refused, never a garbage mask."""
    with pytest.raises(MaskError, match="do not cover its 10x10 pixels"):
        rle_mask(RLE(counts, 10, 10), (10, 10))


def test_rle_strings_decode_as_pycocotools_encodes_them():
    rng = np.random.default_rng(3)
    for _ in range(50):
        height, width = (int(v) for v in rng.integers(1, 40, 2))
        mask = np.asfortranarray((rng.random((height, width)) > rng.random()).astype(np.uint8))
        counts = coco_mask.encode(mask)["counts"].decode("ascii")
        assert (rle_mask(RLE(counts, height, width), (width, height)) == mask).all()
