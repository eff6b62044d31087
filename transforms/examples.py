"""tf.train.Example keys and building, without importing TensorFlow.

Importing TensorFlow costs every worker process seconds and hundreds of MB, only to
serialize a protobuf. The message classes here are built from a descriptor with the
same package, names and field numbers as tensorflow/core/example/{example,feature}.proto,
in a private pool (so they never clash with TensorFlow's own when both are loaded),
and serialized deterministically: same features, same bytes.
"""
from __future__ import annotations

import functools
import os
from typing import Dict, Iterable, Mapping, Optional, Sequence, Union

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from transforms.types import ConvertedImage

# The keys of TF's ImageNet and Object Detection tools, so existing parsers work.
KEY_ENCODED = "image/encoded"
KEY_FORMAT = "image/format"
KEY_HEIGHT = "image/height"
KEY_WIDTH = "image/width"
KEY_CHANNELS = "image/channels"
KEY_FILENAME = "image/filename"
KEY_SOURCE_ID = "image/source_id"
KEY_SHA256 = "image/key/sha256"
KEY_LABEL = "image/class/label"
KEY_LABEL_TEXT = "image/class/text"
RESERVED_PREFIX = "image/"

# Feature kinds, as a tf.io.parse_single_example spec would name them.
BYTES, FLOAT, INT64 = "bytes", "float", "int64"
BASE_FEATURES = {
    KEY_ENCODED: BYTES,
    KEY_FORMAT: BYTES,
    KEY_HEIGHT: INT64,
    KEY_WIDTH: INT64,
    KEY_CHANNELS: INT64,
    KEY_FILENAME: BYTES,
    KEY_SOURCE_ID: BYTES,
    KEY_SHA256: BYTES,
}
LABEL_FEATURES = {KEY_LABEL: INT64, KEY_LABEL_TEXT: BYTES}

FeatureValue = Union[bytes, str, int, float, bool, Sequence[Union[bytes, str, int, float, bool]]]


def _field(name: str, number: int, ftype: int, label: int = 1, type_name: str = "",
           packed: bool = False, oneof: Optional[int] = None) -> descriptor_pb2.FieldDescriptorProto:
    field = descriptor_pb2.FieldDescriptorProto(name=name, number=number, type=ftype, label=label)
    if type_name:
        field.type_name = type_name
    if packed:
        field.options.packed = True
    if oneof is not None:
        field.oneof_index = oneof
    return field


@functools.lru_cache(maxsize=None)
def _example_class() -> type:
    """Build tensorflow.Example's message class from its descriptor, once per process."""
    F = descriptor_pb2.FieldDescriptorProto
    repeated = F.LABEL_REPEATED
    proto = descriptor_pb2.FileDescriptorProto(
        name="image2tfrecord/tensorflow_example.proto", package="tensorflow", syntax="proto3"
    )
    proto.message_type.add(name="BytesList").field.append(_field("value", 1, F.TYPE_BYTES, repeated))
    proto.message_type.add(name="FloatList").field.append(
        _field("value", 1, F.TYPE_FLOAT, repeated, packed=True))
    proto.message_type.add(name="Int64List").field.append(
        _field("value", 1, F.TYPE_INT64, repeated, packed=True))
    feature = proto.message_type.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for number, kind in ((1, "BytesList"), (2, "FloatList"), (3, "Int64List")):
        name = kind.replace("List", "_list").lower()
        feature.field.append(_field(name, number, F.TYPE_MESSAGE, type_name=f".tensorflow.{kind}", oneof=0))
    features = proto.message_type.add(name="Features")
    entry = features.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.append(_field("key", 1, F.TYPE_STRING))
    entry.field.append(_field("value", 2, F.TYPE_MESSAGE, type_name=".tensorflow.Feature"))
    features.field.append(
        _field("feature", 1, F.TYPE_MESSAGE, repeated, type_name=".tensorflow.Features.FeatureEntry"))
    proto.message_type.add(name="Example").field.append(
        _field("features", 1, F.TYPE_MESSAGE, type_name=".tensorflow.Features"))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorflow.Example"))


def feature_kind(value: FeatureValue) -> str:
    """Which Feature list a Python value goes into."""
    first = value[0] if isinstance(value, (list, tuple)) and value else value
    if isinstance(first, (bool, int)):
        return INT64
    if isinstance(first, float):
        return FLOAT
    return BYTES


def _as_list(value: FeatureValue) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def serialize_example(features: Mapping[str, FeatureValue]) -> bytes:
    """Serialize a dict of Python values as a tf.train.Example, deterministically."""
    example = _example_class()()
    feature_map = example.features.feature
    for key, value in features.items():
        values = _as_list(value)
        kind = feature_kind(value)
        if kind == INT64:
            feature_map[key].int64_list.value.extend(int(v) for v in values)
        elif kind == FLOAT:
            feature_map[key].float_list.value.extend(float(v) for v in values)
        else:
            feature_map[key].bytes_list.value.extend(
                v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values)
    return example.SerializeToString(deterministic=True)


def parse_example(serialized: bytes) -> Dict[str, list]:
    """Parse a serialized Example into {key: [values]} (bytes, floats or ints)."""
    example = _example_class()()
    example.ParseFromString(serialized)
    out: Dict[str, list] = {}
    for key, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        out[key] = list(getattr(feature, kind).value) if kind else []
    return out


def image_features(
    image: ConvertedImage, label: Optional[int], kinds: Optional[Mapping[str, str]] = None
) -> Dict[str, FeatureValue]:
    """The features of one record: the standard image keys, the label, the listing extras.

    `kinds` fixes each extra field's kind across the dataset (see `merge_kinds`), so a
    field that is an int in one row and a float in another is a float in every record.
    """
    ref = image.ref
    features: Dict[str, FeatureValue] = {
        KEY_ENCODED: image.encoded,
        KEY_FORMAT: image.format,
        KEY_HEIGHT: image.height,
        KEY_WIDTH: image.width,
        KEY_CHANNELS: image.channels,
        KEY_FILENAME: os.path.basename(ref.uri.rstrip("/")),
        KEY_SOURCE_ID: ref.key,
        KEY_SHA256: image.sha256,
    }
    if ref.label is not None and label is not None:
        features[KEY_LABEL] = label
        features[KEY_LABEL_TEXT] = ref.label
    for name, value in ref.extra:
        features[name] = _coerce(value, (kinds or {}).get(name))
    return features


def _coerce(value: FeatureValue, kind: Optional[str]) -> FeatureValue:
    if kind is None or feature_kind(value) == kind:
        return value
    values = _as_list(value)
    if kind == FLOAT:
        return [float(v) for v in values]
    return [v if isinstance(v, (bytes, str)) else str(v) for v in values]


def build_example(
    image: ConvertedImage, label: Optional[int], kinds: Optional[Mapping[str, str]] = None
) -> bytes:
    """A converted image as a serialized tf.train.Example."""
    return serialize_example(image_features(image, label, kinds))


def feature_spec(extra_kinds: Mapping[str, str], labelled: bool) -> Dict[str, str]:
    """The {key: kind} of every feature a record of this dataset carries."""
    spec = dict(BASE_FEATURES)
    if labelled:
        spec.update(LABEL_FEATURES)
    spec.update(sorted(extra_kinds.items()))
    return spec


def extra_kinds(extra: Iterable[tuple]) -> Dict[str, str]:
    """{name: kind} of a listing row's extra fields."""
    return {name: feature_kind(value) for name, value in extra}


def merge_kinds(a: Mapping[str, str], b: Mapping[str, str]) -> Dict[str, str]:
    """Combine extra-field kinds across rows; a field seen as int and float is float."""
    out = dict(a)
    for name, kind in b.items():
        seen = out.get(name)
        if seen is None or seen == kind:
            out[name] = kind
        elif {seen, kind} == {INT64, FLOAT}:
            out[name] = FLOAT
        else:
            out[name] = BYTES
    return out

