"""tf.train.Example without TensorFlow: the message classes and deterministic serialization.

Importing TensorFlow costs every worker process seconds and hundreds of MB, only to
serialize a protobuf. The message classes here are built from a descriptor with the
same package, names and field numbers as tensorflow/core/example/{example,feature}.proto,
in a private pool (so they never clash with TensorFlow's own when both are loaded),
and serialized deterministically: same features, same bytes.
"""
from __future__ import annotations

import functools
from typing import Dict, Mapping, Optional

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from transforms.records.features import BYTES, FLOAT, INT64, OWN_FEATURES, FeatureValue, feature_kind


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


def serialize_example(features: Mapping[str, FeatureValue], kinds: Optional[Mapping[str, str]] = None,
                      typed: Mapping[str, str] = OWN_FEATURES) -> bytes:
    """Serialize a dict of Python values as a tf.train.Example, deterministically; `kinds`
    names the list of keys whose values may be empty (an empty list has no kind of its own).

    `typed` keys (by default the project's own, records.features.OWN_FEATURES) have a fixed
    kind and hold values of its Python type already (int, float, str or bytes, or a list of
    them): protobuf takes them as they are, without a kind guessed and a conversion per
    value. The converting threads run this for every record while holding the GIL
    (docs/performance.md): a record of 6 objects took 40 us through the general path and
    takes 31 this way; a labelled record 26 and 15."""
    example = _example_class()()
    feature_map = example.features.feature
    for key, value in features.items():
        kind = typed.get(key)
        if kind is not None:
            feature = feature_map[key]
            if kind == BYTES:  # str encoded, bytes as they are (anything else is refused, never made bytes)
                if isinstance(value, str):
                    feature.bytes_list.value.append(value.encode("utf-8"))
                elif not isinstance(value, (list, tuple)):
                    feature.bytes_list.value.append(value)  # type: ignore[arg-type]
                elif value:
                    feature.bytes_list.value.extend([v.encode("utf-8") if isinstance(v, str) else v for v in value])
                else:  # an empty list still says its kind
                    feature.bytes_list.SetInParent()
                continue
            listed = feature.int64_list if kind == INT64 else feature.float_list
            if not isinstance(value, (list, tuple)):
                listed.value.append(value)
            elif value:
                listed.value.extend(value)
            else:
                listed.SetInParent()
            continue
        values = value if isinstance(value, (list, tuple)) else (value,)
        kind = (kinds.get(key) if kinds else None) or feature_kind(value)
        feature = feature_map[key]
        if kind == INT64:
            listed = feature.int64_list
            listed.SetInParent()  # an empty list still says its kind
            listed.value.extend(map(int, values))
        elif kind == FLOAT:
            listed = feature.float_list
            listed.SetInParent()
            listed.value.extend(map(float, values))
        else:
            listed = feature.bytes_list
            listed.SetInParent()
            listed.value.extend([v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values])
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
