"""Examples built without TensorFlow are read by TensorFlow's own parsers, byte-stably."""
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
tf = pytest.importorskip("tensorflow")

from transforms.elements import ConvertedImage, ImageRef  # noqa: E402
from transforms.records import build, features, proto  # noqa: E402
from transforms.records import objects as object_lists  # noqa: E402


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


def _protobufs_bytes(features, kinds):
    """The reference: the Example built with protobuf's message classes, serialized by protobuf."""
    example = proto._example_class()()
    for key, value in features.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        listed = getattr(example.features.feature[key], f"{kinds[key]}_list")
        listed.SetInParent()
        listed.value.extend([v.encode() if isinstance(v, str) else v for v in values])
    return example.SerializeToString(deterministic=True)


def _random_value(rng, kind):
    count = rng.choice([0, 1, 1, 2, 6, 40, 200])
    if kind == features.INT64:
        pick = [0, 1, 127, 128, 300, -1, -128, 2**31, 2**63 - 1, -2**63]
        return [rng.choice(pick) if rng.random() < 0.5 else rng.randrange(-2**40, 2**40) for _ in range(count)]
    if kind == features.FLOAT:
        pick = [0.0, -0.0, 1.5, 1e-45, 1e-39, 3.4028235e38, 3.4028236e38, 1e300, -1e300, float("inf"),
                float("nan"), 0.1]
        return [rng.choice(pick) if rng.random() < 0.5 else rng.uniform(-1e6, 1e6) for _ in range(count)]
    sizes = [0, 1, 127, 128, 16383, 16384, 70000]
    out = [bytes(rng.randrange(256) for _ in range(rng.choice(sizes))) for _ in range(min(count, 3))]
    return out + ["é", "cat", "\U0001f431", ""][:max(0, count - len(out))]


def test_written_bytes_are_protobufs_deterministic_bytes():
    """The record bytes are written by hand (proto.serialize_example, for speed): every byte is
    protobuf's own deterministic serialization, for every kind, empty lists, lengths around each
    varint's byte boundary, negative and extreme ints, floats beyond float32 (infinite, as
    protobuf casts them), NaN, and keys in any script (ordered by their UTF-8 bytes)."""
    import random

    rng = random.Random(7)
    names = ["image/encoded", "image/height", "a", "", "é", "z", "Zebra", "\U0001f431", "image/object/area",
             "image/objectz", "日本", "x" * 200, "ab", "b", "image"]
    for _ in range(300):
        chosen = rng.sample(names, rng.randrange(1, len(names)))
        kinds = {key: rng.choice([features.INT64, features.FLOAT, features.BYTES]) for key in chosen}
        given = {key: _random_value(rng, kind) for key, kind in kinds.items()}
        for key, value in given.items():
            if len(value) == 1 and rng.random() < 0.5:
                given[key] = value[0]  # a scalar is a list of one
        assert proto.serialize_example(given, kinds, typed={}) == _protobufs_bytes(given, kinds), given
        assert proto.serialize_example(given, typed=kinds) == _protobufs_bytes(given, kinds), given


def test_out_of_range_ints_are_refused_as_protobuf_refuses_them():
    for value in (2**63, -2**63 - 1):
        with pytest.raises(ValueError, match="out of range"):
            proto.serialize_example({"n": value})
        with pytest.raises(ValueError, match="out of range"):
            proto.serialize_example({"image/height": value})


def test_ints_at_every_varint_length_boundary():
    values = [0, 1, 127, 128, 16383, 16384, 2**21 - 1, 2**21, 2**28 - 1, 2**28, 2**35, 2**63 - 1, -1, -2**63]
    for value in values:
        for given in ({"n": value}, {"n": [value, 5]}, {"image/height": value}):
            kinds = {key: features.INT64 for key in given}
            assert proto.serialize_example(given) == _protobufs_bytes(given, kinds), given


def test_object_lists_written_whole_are_protobufs_bytes():
    """A detection record's object lists are written whole (objects.object_features, proto.ListBody):
    the record is still protobuf's deterministic serialization of the same values, with and
    without instance masks, beside segmentation keys and a listing's extra field."""
    import struct

    labels, ids = ("person", "dog", "caf\u00e9"), [1, 300, 2]
    boxes = [0.1, 0.2, 0.3, 0.25, 0.5, 0.0, 0.5, 0.5, 0.9, 1.0, 0.75, 1.0]  # xmins, ymins, xmaxs, ymaxs
    objects = object_lists.ObjectLists(labels, ids, struct.pack("<12f", *boxes), [10.5, 200.0, 3e9],
                                       b"\x00\x01\x00", b"\x01\x00\x00", b"\x00\x00\x01", ("", "Left", ""))
    masks = [b"\x89PNG-a", b"\x89PNG-b" * 40, b""]
    for given_masks in (None, masks):
        base = build.image_features(converted(extra=(("zone", "north"), ("a_score", 0.5))), None)
        base.update({"image/segmentation/class/encoded": b"png", "image/segmentation/class/format": "png"})
        written = object_lists.object_features(objects)
        if given_masks is not None:
            written["image/object/mask"] = given_masks
        ours = proto.serialize_example({**base, **written})
        plain = {**base, "image/object/bbox/xmin": boxes[0:3], "image/object/bbox/ymin": boxes[3:6],
                 "image/object/bbox/xmax": boxes[6:9], "image/object/bbox/ymax": boxes[9:12],
                 "image/object/class/text": list(labels), "image/object/class/label": ids,
                 "image/object/area": [10.5, 200.0, 3e9], "image/object/is_crowd": [0, 1, 0],
                 "image/object/difficult": [1, 0, 0], "image/object/truncated": [0, 0, 1],
                 "image/object/view": ["", "Left", ""]}
        if given_masks is not None:
            plain["image/object/mask"] = given_masks
        kinds = {**features.OWN_FEATURES, "zone": features.BYTES, "a_score": features.FLOAT}
        assert ours == _protobufs_bytes(plain, {key: kinds[key] for key in plain})
        if given_masks is None:  # a record that takes the boxes as read: its object keys as one run of entries
            ahead = object_lists.written_lists(labels, objects.unit_boxes, objects.crowd, objects.difficult,
                                               objects.truncated, objects.views)
            run = object_lists.record_objects(objects._replace(written=ahead))
            assert list(run) == ["image/object/area"] and proto.serialize_example({**base, **run}) == ours
    with pytest.raises(TypeError, match="fixed kind"):
        proto.serialize_example({"zone": proto.Entries(b"\x0a\x00")})
