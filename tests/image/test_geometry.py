"""Resize geometry: every mode, exact integer sizes, upscale off."""
import pytest

from transforms.image.geometry import ResizeSpec, plan_resize, scaled_size


@pytest.mark.parametrize("size,spec,expected", [
    ((400, 300), ResizeSpec("none"), (400, 300)),
    ((400, 300), ResizeSpec("exact", 64, 32), (64, 32)),
    ((400, 300), ResizeSpec("fit", 200, 200), (200, 150)),
    ((300, 400), ResizeSpec("fit", 200, 200), (150, 200)),
    ((400, 300), ResizeSpec("shorter_side", size=256), (341, 256)),
    ((300, 400), ResizeSpec("shorter_side", size=256), (256, 341)),
    ((400, 300), ResizeSpec("longer_side", size=100), (100, 75)),
    ((500, 375), ResizeSpec("shorter_side", size=256), (341, 256)),
    ((3, 1000), ResizeSpec("longer_side", size=10), (1, 10)),  # never below one pixel
])
def test_scaled_sizes(size, spec, expected):
    assert plan_resize(*size, spec).output_size == expected


def test_fill_covers_then_crops_the_centre():
    plan = plan_resize(400, 200, ResizeSpec("fill", 100, 100))
    assert plan.size == (100, 100)
    assert plan.box == (100.0, 0.0, 300.0, 200.0)
    assert scaled_size(400, 200, ResizeSpec("fill", 100, 100)) == (200, 100)


def test_pad_fits_then_letterboxes():
    plan = plan_resize(400, 200, ResizeSpec("pad", 100, 100))
    assert plan.size == (100, 50) and plan.canvas == (100, 100) and plan.offset == (0, 25)
    assert plan.output_size == (100, 100)


@pytest.mark.parametrize("spec,expected", [
    (ResizeSpec("fit", 200, 200, upscale=False), (50, 40)),
    (ResizeSpec("shorter_side", size=256, upscale=False), (50, 40)),
    (ResizeSpec("exact", 100, 30, upscale=False), (50, 30)),
    (ResizeSpec("fill", 100, 100, upscale=False), (50, 40)),
    (ResizeSpec("pad", 100, 100, upscale=False), (100, 100)),
])
def test_upscale_off_keeps_small_images_small(spec, expected):
    plan = plan_resize(50, 40, spec)
    assert plan.output_size == expected
    assert plan.size[0] <= 50 and plan.size[1] <= 40


def test_identity_plan_for_none():
    assert plan_resize(7, 5, ResizeSpec("none")).is_identity


def test_zero_sized_image_is_refused():
    with pytest.raises(ValueError):
        plan_resize(0, 5, ResizeSpec("fit", 3, 3))


@pytest.mark.parametrize("size, box", [((500, 375), (224, 224)), ((333, 501), (224, 224)), ((640, 480), (300, 200)),
                                       ((1001, 999), (64, 48)), ((97, 61), (31, 19))])
def test_fill_crops_from_an_even_output_pixel_within_a_pixel_of_the_centre(size, box):
    """So the resize can run on the whole image and cut the output (transforms/image/resample)."""
    plan = plan_resize(*size, ResizeSpec("fill", *box))
    left, top, right, bottom = plan.box
    scale_x, scale_y = plan.size[0] / (right - left), plan.size[1] / (bottom - top)
    for start, scale, extent, out in ((left, scale_x, size[0], plan.size[0]), (top, scale_y, size[1], plan.size[1])):
        assert abs(start * scale - round(start * scale)) < 1e-9 and round(start * scale) % 2 == 0  # 4:2:0 too
        centred = (extent * scale - out) / 2  # the exact centre's start, in output pixels
        assert abs(centred - start * scale) <= 1 + 1e-9
    assert plan.size == box
