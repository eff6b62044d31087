"""The feature keys a record carries and their kinds, as TF's ImageNet and Object
Detection tools name them, so existing parsers work."""
from __future__ import annotations

from typing import Dict, Iterable, Mapping, Sequence, Union

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

# Object detection, as the TF Object Detection API's TfExampleDecoder reads them: boxes
# normalised to the output image, 1-based class ids (0 is the background).
KEY_XMIN, KEY_YMIN = "image/object/bbox/xmin", "image/object/bbox/ymin"
KEY_XMAX, KEY_YMAX = "image/object/bbox/xmax", "image/object/bbox/ymax"
KEY_OBJECT_TEXT = "image/object/class/text"
KEY_OBJECT_LABEL = "image/object/class/label"
KEY_OBJECT_AREA = "image/object/area"
KEY_OBJECT_MASK = "image/object/mask"  # a PNG per object, at the output size (0 or 1)
KEY_SEGMENTATION = "image/segmentation/class/encoded"  # as DeepLab's build_voc2012_data writes it
KEY_SEGMENTATION_FORMAT = "image/segmentation/class/format"
SEGMENTATION_FEATURES = {KEY_SEGMENTATION: BYTES, KEY_SEGMENTATION_FORMAT: BYTES}
OBJECT_FEATURES = {
    KEY_XMIN: FLOAT, KEY_YMIN: FLOAT, KEY_XMAX: FLOAT, KEY_YMAX: FLOAT,
    KEY_OBJECT_TEXT: BYTES, KEY_OBJECT_LABEL: INT64, KEY_OBJECT_AREA: FLOAT,
    "image/object/is_crowd": INT64, "image/object/difficult": INT64, "image/object/truncated": INT64,
    "image/object/view": BYTES,
}

# Every key the project itself writes, with its one kind; its values are built as that kind's
# Python type (int, float, str or bytes, or lists of them), never read from a listing.
OWN_FEATURES = {**BASE_FEATURES, **LABEL_FEATURES, **OBJECT_FEATURES, KEY_OBJECT_MASK: BYTES, **SEGMENTATION_FEATURES}

FeatureValue = Union[bytes, str, int, float, bool, Sequence[Union[bytes, str, int, float, bool]]]


def feature_kind(value: FeatureValue) -> str:
    """Which Feature list a Python value goes into."""
    first = value[0] if isinstance(value, (list, tuple)) and value else value
    if isinstance(first, (bool, int)):
        return INT64
    if isinstance(first, float):
        return FLOAT
    return BYTES


def as_list(value: FeatureValue) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]



def feature_spec(extra_kinds: Mapping[str, str], labelled: bool, detection: bool = False,
                 masks: bool = False, instance_masks: bool = False) -> Dict[str, str]:
    """The {key: kind} of every feature a record of this dataset carries (detection records
    carry objects instead of the classification label)."""
    spec = dict(BASE_FEATURES)
    if detection:
        spec.update(OBJECT_FEATURES)
    elif labelled:
        spec.update(LABEL_FEATURES)
    if masks:
        spec.update(SEGMENTATION_FEATURES)
    if instance_masks:
        spec[KEY_OBJECT_MASK] = BYTES
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
