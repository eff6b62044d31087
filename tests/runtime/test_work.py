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
