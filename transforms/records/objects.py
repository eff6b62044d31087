"""A detection record's object lists, written whole: as features (object_features), or as the
record's map entries themselves (object_entries), most of them written where the annotation is
read (written_lists).

A record's object keys sort together (image/object/area, .../bbox/xmax, xmin, ymax, ymin,
.../class/label, .../class/text, .../difficult, .../is_crowd, [.../mask], .../truncated,
.../view) and no other key falls among them: listing extras may not start with "image/"
(records.features.RESERVED_PREFIX), and the segmentation keys sort after them. Where a record
takes an annotation's boxes as they were read (runtime.work.place_objects), only the areas (in
output pixels) and the class ids (the dataset's label map) are its own: the other lists' entries
come written already, so the converting threads, which build every record holding the GIL,
write two entries, not eleven (docs/performance.md, thirteenth session).
"""
from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Sequence, Tuple

from transforms.records.features import (
    FLOAT,
    INT64,
    KEY_OBJECT_AREA,
    KEY_OBJECT_LABEL,
    KEY_OBJECT_TEXT,
    KEY_XMAX,
    KEY_XMIN,
    KEY_YMAX,
    KEY_YMIN,
    FeatureValue,
)
from transforms.records.proto import (
    Entries,
    ListBody,
    entries,
    entry,
    flag_body,
    float_body,
    int_body,
    text_body,
    varint,
)


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
    written: Optional[Tuple[bytes, bytes]] = None  # all but ids' and areas' entries, written ahead (written_lists)


def record_objects(objects: ObjectLists) -> Dict[str, FeatureValue]:
    """What a record holds of its objects: their entries (object_entries) where the other lists
    come written, else each list (object_features)."""
    if objects.written is not None:
        return object_entries(objects.written, objects.ids, objects.areas)
    return object_features(objects)


def object_features(objects: ObjectLists) -> Dict[str, FeatureValue]:
    """The object lists of a record, each list written whole (proto.ListBody), not value by value."""
    o = objects
    return {**_box_lists(o.unit_boxes, len(o.labels)), **_named_lists(o.labels, o.crowd, o.difficult, o.truncated,
                                                                      o.views),
            KEY_OBJECT_LABEL: int_body(o.ids), KEY_OBJECT_AREA: float_body(o.areas)}


def written_lists(labels: Sequence[str], unit_boxes: bytes, crowd: bytes, difficult: bytes, truncated: bytes,
                  views: Sequence[str]) -> Tuple[bytes, bytes]:
    """The map entries of the lists a record takes unchanged from an annotation whose boxes it takes
    as read (ObjectLists' but the ids and areas): (the four box lists', the names', flags' and
    views'), each in key order."""
    return entries(_box_lists(unit_boxes, len(labels))), entries(_named_lists(labels, crowd, difficult, truncated,
                                                                               views))


def object_entries(written: Tuple[bytes, bytes], ids: Sequence[int], areas: Sequence[float]
                   ) -> Dict[str, FeatureValue]:
    """A record's object keys as one run of entries (proto.Entries): the written lists (written_lists)
    with the record's own class ids and areas, each where its key sorts."""
    boxes, named = written
    return {KEY_OBJECT_AREA: Entries(entry(KEY_OBJECT_AREA, FLOAT, float_body(areas)) + boxes
                                     + entry(KEY_OBJECT_LABEL, INT64, int_body(ids)) + named)}


def _box_lists(units: bytes, count: int) -> Dict[str, FeatureValue]:
    size = 4 * count
    head = b"\x0a" + varint(size) if size else b""
    return {KEY_XMIN: ListBody(head + units[:size]), KEY_YMIN: ListBody(head + units[size:2 * size]),
            KEY_XMAX: ListBody(head + units[2 * size:3 * size]), KEY_YMAX: ListBody(head + units[3 * size:])}


def _named_lists(labels: Sequence[str], crowd: bytes, difficult: bytes, truncated: bytes,
                 views: Sequence[str]) -> Dict[str, FeatureValue]:
    return {KEY_OBJECT_TEXT: text_body(labels), "image/object/is_crowd": flag_body(crowd),
            "image/object/difficult": flag_body(difficult), "image/object/truncated": flag_body(truncated),
            "image/object/view": text_body(views)}
