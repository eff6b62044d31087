"""tf.train.Example without TensorFlow: deterministic serialization, and the message classes.

Importing TensorFlow costs every worker process seconds and hundreds of MB, only to
serialize a protobuf. Examples are written here in protobuf's wire format, byte for byte
what protobuf's deterministic serialization gives (docs/decisions.md); the message classes,
built from a descriptor with the same package, names and field numbers as
tensorflow/core/example/{example,feature}.proto in a private pool (so they never clash with
TensorFlow's own when both are loaded), parse them back.
"""
from __future__ import annotations

import functools
import math
import struct
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union, cast

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
    """Serialize a dict of Python values as a tf.train.Example, deterministically: the bytes
    protobuf's `SerializeToString(deterministic=True)` gives (entries in key order), written
    here directly. `kinds` names the list of keys whose values may be empty (an empty list has
    no kind of its own).

    `typed` keys (by default the project's own, records.features.OWN_FEATURES) have a fixed
    kind and hold values of its Python type already (int, float, str or bytes, or a list of
    them): they are written as they are, without a kind guessed and a conversion per value,
    and a value of another type is a TypeError. The converting threads run this for every
    record while holding the GIL; the object lists come written whole (ListBody), which
    protobuf's message classes would take value by value: a record of 6 objects 34 us
    against 44 through them, a plain one the same (docs/performance.md, twelfth session)."""
    written = entries(features, kinds, typed)
    return b"\x0a" + varint(len(written)) + written


def entries(features: Mapping[str, FeatureValue], kinds: Optional[Mapping[str, str]] = None,
            typed: Mapping[str, str] = OWN_FEATURES) -> bytes:
    """The map entries of an Example's features, in key order: what serialize_example frames."""
    parts: List[bytes] = []
    heads = _HEADS
    body: bytes
    for key in _key_order(tuple(features)):
        value = features[key]
        kind = typed.get(key)
        if kind is None:
            if value.__class__ is ListBody or value.__class__ is Entries:
                raise TypeError(f"{key}: a list written ahead needs a key of a fixed kind")
            kind = (kinds.get(key) if kinds else None) or feature_kind(value)
            body = _BODY[kind](_converted(value, kind))
        elif value.__class__ is Entries:  # whole entries, this key's first (records.objects.object_entries)
            parts.append(value)
            continue
        elif value.__class__ is ListBody:  # written already (records.objects.object_features)
            body = value  # type: ignore[assignment]
        elif kind == BYTES and (value.__class__ is str or value.__class__ is bytes):  # the common scalars
            data = value.encode("utf-8") if isinstance(value, str) else cast(bytes, value)
            body = (b"\x0a" + _SHORT[len(data)] if len(data) < 0x80 else b"\x0a" + varint(len(data))) + data
        elif kind == INT64 and value.__class__ is int and 0 <= value < 0x4000:  # type: ignore[operator]
            body = _SMALL_INT[value] if value < 0x80 else b"\x0a\x02" + varint(value)  # type: ignore[index,operator,arg-type]
        else:
            body = _BODY[kind](value)
        head = heads.get((key, kind, len(body)))  # _head, inline: it runs for every key of every record
        parts.append(_head(key, kind, len(body)) if head is None else head)
        parts.append(body)
    return b"".join(parts)


def entry(key: str, kind: str, body: bytes) -> bytes:
    """One map entry: `key` and a Feature whose `kind` list holds `body` (a list's values, framed
    or packed)."""
    return _head(key, kind, len(body)) + body


def _head(key: str, kind: str, body_length: int) -> bytes:
    """_entry_head, kept for short lists: a few lengths per key, made once each."""
    head = _HEADS.get((key, kind, body_length))
    if head is None:
        head = _entry_head(key, kind, body_length)
        if body_length < 0x80 and len(_HEADS) < 16384:
            _HEADS[(key, kind, body_length)] = head
    return head


class ListBody(bytes):
    """A feature's list as it is written (its values, framed or packed: what the list message
    holds), made where its values are at hand in bulk; serialize_example writes it as it is."""

    __slots__ = ()


class Entries(bytes):
    """Whole map entries written ahead (entry(), one after another in key order), given under the
    first of their keys: serialize_example puts them where that key goes. No other key of the
    features may sort among theirs (records.objects writes a detection record's object keys so)."""

    __slots__ = ()


def unit_columns(boxes: Sequence[float], width: float, height: float) -> bytes:
    """Boxes (xmin, ymin, xmax, ymax of each in turn) as fractions of a `width` x `height` frame,
    float32 little-endian, every xmin, then every ymin, xmax, ymax: the record's box lists before
    each is framed (records.build.ObjectLists.unit_boxes)."""
    return _floats(len(boxes)).pack(*[v / width for v in boxes[0::4]], *[v / height for v in boxes[1::4]],
                                    *[v / width for v in boxes[2::4]], *[v / height for v in boxes[3::4]])


def float_body(values: Sequence[float]) -> ListBody:
    return ListBody(_float_list(values))


def int_body(values: Sequence[int]) -> ListBody:
    return ListBody(_int64_list(values))


def flag_body(flags: bytes) -> ListBody:
    """An int64 list of values under 128 given as bytes, one value a byte (0 or 1 flags)."""
    return ListBody(b"\x0a" + varint(len(flags)) + flags if flags else b"")


def text_body(values: Sequence[str]) -> ListBody:
    """A bytes list of strings that repeat from record to record (class names, views): each
    framed once per process."""
    framed = _FRAMED_TEXT
    try:
        return ListBody(b"".join([framed[v] for v in values]))
    except KeyError:
        if len(framed) < 65536:
            framed.update((v, _framed(v)) for v in values)
        return ListBody(b"".join([_framed(v) for v in values]))


_FRAMED_TEXT: Dict[str, bytes] = {}


def _converted(value: FeatureValue, kind: str) -> list:
    """A value of a key of no fixed kind, as a list of that kind's Python type."""
    values = value if isinstance(value, (list, tuple)) else (value,)
    if kind == INT64:
        return [int(v) for v in values]
    if kind == FLOAT:
        return [float(v) for v in values]
    return [v if isinstance(v, (bytes, str)) else bytes(v) for v in values]


# The wire format (protobuf's encoding of tensorflow/core/example/{example,feature}.proto):
# Example.features (1) > Features.feature (1, a map entry per key: key 1, value 2) > Feature's
# one list (bytes_list 1, float_list 2, int64_list 3) > its values (1: each bytes value framed,
# floats and ints packed). Tests check every byte against protobuf's own serializer.
_KIND_TAG = {BYTES: b"\x0a", FLOAT: b"\x12", INT64: b"\x1a"}
_SHORT = [bytes((n,)) for n in range(0x80)]  # the varint of a length under 128: one byte


def varint(n: int) -> bytes:
    """Protobuf's varint of an int64 (a negative one in ten bytes)."""
    if 0 <= n < 0x80:
        return _SHORT[n]
    if 0 < n < 0x200000:  # two or three bytes: sizes, lengths of images, ids
        return bytes((n & 0x7F | 0x80, n >> 7)) if n < 0x4000 else \
            bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14))
    if not -(1 << 63) <= n < (1 << 63):
        raise ValueError(f"Value out of range: {n}")
    n &= (1 << 64) - 1  # a negative int64 is its two's complement: ten bytes
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _entry_head(key: str, kind: str, body_length: int) -> bytes:
    """Everything of a map entry before its list's body: they depend on the key, the kind and
    the body's length only (so short lists' are made once per key and length, not per record)."""
    named = _named(key)
    body_varint = varint(body_length)
    feature_length = 1 + len(body_varint) + body_length
    feature_varint = varint(feature_length)
    entry_length = len(named) + len(feature_varint) + feature_length
    return b"\x0a" + varint(entry_length) + named + feature_varint + _KIND_TAG[kind] + body_varint


@functools.lru_cache(maxsize=4096)
def _named(key: str) -> bytes:
    """A map entry's key field and its value's tag: the part of its head that is the key's."""
    name = key.encode("utf-8")
    return b"\x0a" + varint(len(name)) + name + b"\x12"


@functools.lru_cache(maxsize=256)
def _key_order(keys: Tuple[str, ...]) -> Tuple[str, ...]:
    """Keys as protobuf (upb) orders map entries deterministically: by their UTF-8 bytes, but a
    key before any key it is the start of ("ab" before "a"; "" last). UTF-8 has no byte 0xFF:
    one put at the end makes the shorter key the greater where the two agree."""
    return tuple(sorted(keys, key=lambda key: key.encode("utf-8") + b"\xff"))


def _framed(value: Union[bytes, str]) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(data, bytes):
        raise TypeError(f"{value!r} has type {type(value).__name__}, but expected one of: bytes")
    return b"\x0a" + varint(len(data)) + data


def _bytes_list(value: FeatureValue) -> bytes:
    if isinstance(value, (list, tuple)):
        return b"".join([_framed(v) for v in value])  # type: ignore[arg-type]
    return _framed(value)  # type: ignore[arg-type]


def _float_list(value: FeatureValue) -> bytes:
    values = value if isinstance(value, (list, tuple)) else (value,)
    if not values:
        return b""
    try:
        packed = _floats(len(values)).pack(*values)
    except OverflowError:  # beyond float32: protobuf's cast makes it infinite
        packed = b"".join([_floats(1).pack(math.copysign(math.inf, v) if abs(v) > _FLOAT32_MAX else v)
                           for v in values])  # type: ignore[arg-type]
    except struct.error as exc:  # a value that is not a number
        raise TypeError(f"{value!r}: {exc}") from None
    return b"\x0a" + varint(len(packed)) + packed


_FLOAT32_MAX = float.fromhex("0x1.fffffefffffffp+127")  # the largest double the cast rounds to a finite float


@functools.lru_cache(maxsize=None)
def _floats(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}f")


def _int64_list(value: FeatureValue) -> bytes:
    values = value if isinstance(value, (list, tuple)) else (value,)
    if not values:
        return b""
    for v in values:
        if not isinstance(v, int):
            raise TypeError(f"{v!r} has type {type(v).__name__}, but expected one of: int")
    if 0 <= min(values) and max(values) < 0x80:  # type: ignore[type-var]
        packed = bytes(values)  # type: ignore[arg-type]
    else:
        packed = b"".join([varint(v) for v in values])  # type: ignore[arg-type]
    return b"\x0a" + varint(len(packed)) + packed


_BODY = {BYTES: _bytes_list, FLOAT: _float_list, INT64: _int64_list}
_SMALL_INT = [b"\x0a\x01" + bytes((n,)) for n in range(0x80)]  # an int64 list of one int under 128
_HEADS: Dict[Tuple[str, str, int], bytes] = {}  # _entry_head's of short lists, per key, kind and length


def parse_example(serialized: bytes) -> Dict[str, list]:
    """Parse a serialized Example into {key: [values]} (bytes, floats or ints)."""
    example = _example_class()()
    example.ParseFromString(serialized)
    out: Dict[str, list] = {}
    for key, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        out[key] = list(getattr(feature, kind).value) if kind else []
    return out
