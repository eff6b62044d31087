"""One converted image (and its label and listing extras) as a serialized tf.train.Example."""
from __future__ import annotations

import os
from typing import Dict, Mapping, NamedTuple, Optional, Sequence, Tuple

from transforms.elements import ConvertedImage
from transforms.records.features import (
    FLOAT,
    KEY_CHANNELS,
    KEY_ENCODED,
    KEY_FILENAME,
    KEY_FORMAT,
    KEY_HEIGHT,
    KEY_LABEL,
    KEY_LABEL_TEXT,
    KEY_OBJECT_AREA,
    KEY_OBJECT_LABEL,
    KEY_OBJECT_TEXT,
    KEY_SHA256,
    KEY_SOURCE_ID,
    KEY_WIDTH,
    KEY_XMAX,
    KEY_XMIN,
    KEY_YMAX,
    KEY_YMIN,
    FeatureValue,
    as_list,
    feature_kind,
)
from transforms.records.proto import ListBody, flag_body, float_body, int_body, serialize_example, text_body, varint

Box = Tuple[float, float, float, float]


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
    if label is not None:  # -1 and "" for an unlabelled image of a labelled dataset
        features[KEY_LABEL] = label
        features[KEY_LABEL_TEXT] = ref.label or ""
    for name, value in ref.extra:
        features[name] = _coerce(value, (kinds or {}).get(name))
    return features


def _coerce(value: FeatureValue, kind: Optional[str]) -> FeatureValue:
    if kind is None or feature_kind(value) == kind:
        return value
    values = as_list(value)
    if kind == FLOAT:
        return [float(v) for v in values]
    return [v if isinstance(v, (bytes, str)) else str(v) for v in values]


def build_example(
    image: ConvertedImage, label: Optional[int], kinds: Optional[Mapping[str, str]] = None,
    objects: Optional[Mapping[str, FeatureValue]] = None, keep_label: bool = False,
) -> bytes:
    """A converted image as a serialized tf.train.Example; with `objects` (object_features,
    mask keys), those features too, and (detection, unless `keep_label`) no classification label."""
    features = image_features(image, label if objects is None or keep_label else None, kinds)
    if objects is not None:
        features.update(objects)
    return serialize_example(features)


class ObjectLists(NamedTuple):
    """A record's objects, as its lists hold them: names, label map ids, boxes as fractions of
    the output image (proto.unit_columns), areas in output pixels, the flags (a 0 or 1 byte per object), and views."""

    labels: Sequence[str]
    ids: Sequence[int]
    unit_boxes: bytes
    areas: Sequence[float]
    crowd: bytes
    difficult: bytes
    truncated: bytes
    views: Sequence[str]


def object_features(objects: ObjectLists) -> Dict[str, FeatureValue]:
    """The object lists of a record, each list written whole (proto.ListBody), not value by value."""
    units, size = objects.unit_boxes, 4 * len(objects.labels)
    head = b"\x0a" + varint(size) if size else b""
    return {
        KEY_XMIN: ListBody(head + units[:size]), KEY_YMIN: ListBody(head + units[size:2 * size]),
        KEY_XMAX: ListBody(head + units[2 * size:3 * size]), KEY_YMAX: ListBody(head + units[3 * size:]),
        KEY_OBJECT_TEXT: text_body(objects.labels), KEY_OBJECT_LABEL: int_body(objects.ids),
        KEY_OBJECT_AREA: float_body(objects.areas), "image/object/is_crowd": flag_body(objects.crowd),
        "image/object/difficult": flag_body(objects.difficult), "image/object/truncated": flag_body(objects.truncated),
        "image/object/view": text_body(objects.views),
    }
