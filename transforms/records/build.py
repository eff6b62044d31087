"""One converted image (and its label and listing extras) as a serialized tf.train.Example."""
from __future__ import annotations

import os
from typing import Dict, Mapping, Optional, Tuple

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
    KEY_SHA256,
    KEY_SOURCE_ID,
    KEY_WIDTH,
    FeatureValue,
    as_list,
    feature_kind,
)
from transforms.records.proto import serialize_example

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
    """A converted image as a serialized tf.train.Example; with `objects` (records.objects: the
    object lists, or their entries; mask keys), those features too, and (detection, unless
    `keep_label`) no classification label."""
    features = image_features(image, label if objects is None or keep_label else None, kinds)
    if objects is not None:
        features.update(objects)
    return serialize_example(features)
