"""records_for: a run of refs converted first and built after gives each ref's record_for, byte for byte."""
from tests.support import imaging
from transforms.elements import Failure, ImageRef
from transforms.image.geometry import ResizeSpec
from transforms.image.spec import ImageSpec
from transforms.inputs.annotations.model import AnnotatedObject, Annotation, PackedAnnotation
from transforms.runtime.work import DetectionSpec, RecordSettings, record_for, records_for


def _ref(tmp_path, name, data, objects=()):  # noqa: D103
    path = imaging.write(tmp_path / name, data)
    packed = PackedAnnotation.of(Annotation(name, tuple(objects), (64, 48))) if objects else None
    return ImageRef(name, str(path), None, "train", (), packed)


def test_a_run_gives_each_refs_own_record_and_failure(tmp_path):
    jpeg = imaging.encode(imaging.photo((64, 48), 1), "JPEG")
    refs = [
        _ref(tmp_path, "a.jpg", jpeg, [AnnotatedObject("cat", (4.0, 6.0, 40.0, 30.0)),
                                       AnnotatedObject("dog", (30.0, 2.0, 90.0, 20.0))]),  # clipped at 64
        _ref(tmp_path, "broken.jpg", b"not an image"),
        _ref(tmp_path, "b.jpg", imaging.encode(imaging.photo((64, 48), 2), "PNG")),
        _ref(tmp_path, "c.jpg", jpeg, [AnnotatedObject("cat", (100.0, 100.0, 120.0, 120.0))]),  # outside: dropped
    ]
    settings = RecordSettings(ImageSpec(resize=ResizeSpec("fill", 32, 32)), {"cat": 1, "dog": 2}, {},
                              DetectionSpec((("cat", 1), ("dog", 2))))
    records = records_for(refs, settings)
    assert records == [record_for(ref, settings) for ref in refs]
    assert isinstance(records[1], Failure) and records[1].stage == "decode"
    assert records[0].objects == ("cat", "dog") and records[3].dropped == ("outside the output",)


def _unit(objects):  # noqa: D103 - the record's boxes as floats, per column
    import struct

    return struct.unpack(f"<{len(objects.unit_boxes) // 4}f", objects.unit_boxes)


def test_boxes_read_as_fractions_give_the_placed_boxes_for_every_uncropped_geometry():
    """Boxes wholly inside an image of the size the annotation declares are written as their
    fractions of it, worked out where the annotation is read, when the image is neither cropped,
    letterboxed nor turned from the boxes' frame. For every resize mode and orientation, the
    record's lists are those of placing the boxes through the image's geometry (within 1e-6; in
    72,000 random boxes not one float32 differed), and the fractions are used exactly where the
    geometry allows."""
    import random

    import pytest

    from transforms.image.geometry import Geometry, plan_resize, upright_size
    from transforms.inputs.annotations.placement import resolve_frame, whole_frame
    from transforms.runtime.work import place_objects

    rng = random.Random(3)
    spec = DetectionSpec((("cat", 1), ("dog", 2)))
    modes = [ResizeSpec("none"), ResizeSpec("exact", 50, 70), ResizeSpec("fit", 64, 64), ResizeSpec("fill", 40, 40),
             ResizeSpec("pad", 64, 48), ResizeSpec("shorter_side", size=37), ResizeSpec("longer_side", size=300),
             ResizeSpec("fit", 900, 900, upscale=False)]
    fast = 0
    for orientation in range(1, 9):
        stored = (rng.randrange(20, 400), rng.randrange(20, 400))
        upright = upright_size(stored, orientation)
        for resize in modes:
            geometry = Geometry(stored, orientation, 1.0, plan_resize(*upright, resize))
            for declared, frame in ((stored, "stored"), (upright, "upright")):
                width, height = declared
                objects = []
                for label in ("cat", "dog", "cat"):
                    x0, y0 = rng.uniform(0, width - 2), rng.uniform(0, height - 2)
                    box = (x0, y0, rng.uniform(x0 + 1, width), rng.uniform(y0 + 1, height))
                    objects.append(AnnotatedObject(label, box, crowd=rng.random() < 0.5, view="Left"))
                objects.append(AnnotatedObject("dog", (0.0, 0.0, float(width), float(height)), truncated=True))
                read = PackedAnnotation.of(Annotation("k", tuple(objects), declared, frame=frame))
                placed = PackedAnnotation.of(Annotation("k", tuple(objects), None, frame=frame))  # no size: placed
                assert read.open()[1].unit_boxes is not None and placed.open()[1].unit_boxes is None
                got, dropped, _, _ = place_objects(read, geometry, spec)
                want, placed_dropped, _, _ = place_objects(placed, geometry, spec)
                assert dropped == placed_dropped and (not dropped or resize.mode == "fill")  # a crop can leave one out
                assert _unit(got) == pytest.approx(_unit(want), abs=1e-6)
                assert got.areas == pytest.approx(want.areas, rel=1e-6)
                assert (got.labels, got.ids, got.crowd, got.truncated, got.views) == \
                    (want.labels, want.ids, want.crowd, want.truncated, want.views)
                head = read.open()[0]
                uses = whole_frame(head, resolve_frame(head, True, geometry)[0], geometry)
                turned = frame == "stored" and orientation != 1
                assert uses == (resize.mode not in ("fill", "pad") and not turned), (orientation, resize, frame)
                fast += uses
    assert fast > 30


def test_boxes_not_wholly_inside_are_placed_and_clipped():
    """A box that leaves the declared image, an empty one, or NaN: no fractions are worked out
    where it is read, and placing it clips or drops it with its reason, as before."""
    boxes = [(-5.0, 2.0, 20.0, 20.0), (10.0, 10.0, 10.0, 30.0), (float("nan"), 1.0, 2.0, 3.0), (60.0, 0.0, 70.0, 10.0)]
    for box in boxes:
        packed = PackedAnnotation.of(Annotation("k", (AnnotatedObject("cat", box),), (64, 48)))
        assert packed.open()[1].unit_boxes is None
    from transforms.image.geometry import Geometry
    from transforms.runtime.work import place_objects

    packed = PackedAnnotation.of(Annotation("k", tuple(AnnotatedObject("cat", b) for b in boxes), (64, 48)))
    objects, dropped, _, _ = place_objects(packed, Geometry.identity((64, 48)), DetectionSpec((("cat", 1),)))
    assert sorted(dropped) == ["empty box", "not a finite box"]
    assert [round(v, 4) for v in _unit(objects)] == [0.0, 0.9375, 0.0417, 0.0, 0.3125, 1.0, 0.4167, 0.2083]
