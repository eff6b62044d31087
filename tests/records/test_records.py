"""Examples built without TensorFlow are read by TensorFlow's own parsers, byte-stably."""
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")

from transforms.elements import ConvertedImage, ImageRef  # noqa: E402
from transforms.records import build, features, proto  # noqa: E402


def converted(label=None, extra=()):
    ref = ImageRef(key="cats/a.jpg", uri="/data/cats/a.jpg", label=label, extra=extra)
    return ConvertedImage(ref, b"\xff\xd8bytes", "jpeg", 30, 40, 3, "ab" * 32)


def test_tensorflow_parses_every_standard_key():
    record = build.build_example(converted("cats"), 7)
    spec = {
        "image/encoded": tf.io.FixedLenFeature([], tf.string),
        "image/format": tf.io.FixedLenFeature([], tf.string),
        "image/height": tf.io.FixedLenFeature([], tf.int64),
        "image/width": tf.io.FixedLenFeature([], tf.int64),
        "image/channels": tf.io.FixedLenFeature([], tf.int64),
        "image/filename": tf.io.FixedLenFeature([], tf.string),
        "image/source_id": tf.io.FixedLenFeature([], tf.string),
        "image/key/sha256": tf.io.FixedLenFeature([], tf.string),
        "image/class/label": tf.io.FixedLenFeature([], tf.int64),
        "image/class/text": tf.io.FixedLenFeature([], tf.string),
    }
    parsed = tf.io.parse_single_example(record, spec)
    assert parsed["image/encoded"].numpy() == b"\xff\xd8bytes"
    assert parsed["image/format"].numpy() == b"jpeg"
    assert (int(parsed["image/height"]), int(parsed["image/width"]), int(parsed["image/channels"])) == (30, 40, 3)
    assert parsed["image/filename"].numpy() == b"a.jpg"
    assert parsed["image/source_id"].numpy() == b"cats/a.jpg"
    assert int(parsed["image/class/label"]) == 7 and parsed["image/class/text"].numpy() == b"cats"


def test_same_bytes_as_tensorflows_own_serializer():
    features = build.image_features(converted("cats", (("score", 0.5), ("tags", ("a", "b")))), 2)
    ours = proto.serialize_example(features)
    theirs = tf.train.Example.FromString(ours).SerializeToString(deterministic=True)
    assert ours == theirs
    assert proto.serialize_example(features) == ours  # and the same every time


def test_unlabelled_records_have_no_label_keys():
    parsed = proto.parse_example(build.build_example(converted(), None))
    assert "image/class/label" not in parsed and parsed["image/height"] == [30]


def test_extra_kinds_are_fixed_across_records():
    kinds = features.merge_kinds({"score": features.INT64}, {"score": features.FLOAT})
    assert kinds == {"score": features.FLOAT}
    record = build.build_example(converted(extra=(("score", 3),)), None, kinds)
    assert proto.parse_example(record)["score"] == [3.0]
    assert features.merge_kinds({"a": features.INT64}, {"a": features.BYTES}) == {"a": features.BYTES}


def test_feature_spec_names_every_key():
    spec = features.feature_spec({"score": features.FLOAT}, labelled=True)
    assert spec["image/class/label"] == "int64" and spec["score"] == "float"
    assert "image/class/label" not in features.feature_spec({}, labelled=False)


def test_the_projects_keys_refuse_a_value_of_another_type():
    """The project's own keys are taken by their fixed kind without a conversion per value: a
    value of another type is an error (a failed record), never bytes made of it (bytes(3) is
    three zero bytes)."""
    for given in ({"image/encoded": 3}, {"image/object/class/text": ["cat", 3]}, {"image/height": "7"},
                  {"image/object/bbox/xmin": ["0.5"]}):
        with pytest.raises(TypeError):
            proto.serialize_example(given)
    parsed = proto.parse_example(proto.serialize_example({"image/object/class/text": [], "image/height": 7}))
    assert parsed == {"image/object/class/text": [], "image/height": [7]}
