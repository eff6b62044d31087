"""Reading a converted dataset back without TensorFlow (nor Beam, for local datasets):
the manifest, framing and CRCs, Examples, pixels.

The readers (transforms/readback/iterable.py, random_access.py) are built on these.
"""
from __future__ import annotations

import io
from typing import Any, BinaryIO, Dict, FrozenSet, List, Optional

import numpy as np
from PIL import Image

from transforms.dataset.manifest import Manifest, parse_manifest
from transforms.dataset.names import MANIFEST
from transforms.errors import DatasetError
from transforms.records.features import (
    KEY_CHANNELS,
    KEY_ENCODED,
    KEY_FORMAT,
    KEY_HEIGHT,
    KEY_LABEL,
    KEY_OBJECT_LABEL,
    KEY_OBJECT_MASK,
    KEY_OBJECT_TEXT,
    KEY_WIDTH,
    KEY_XMAX,
    KEY_XMIN,
    KEY_YMAX,
    KEY_YMIN,
    OBJECT_FEATURES,
)
from transforms.storage import files, transaction
from transforms.storage.lock import read_lock


def load_manifest(path: str) -> Manifest:
    """The Manifest of the dataset at `path` (local or gs://); DatasetError if there is none.

    A commit found cut short (its writer gone) is finished first, so a reader sees the
    previous dataset or the new one, whole (transforms/storage/transaction).
    """
    _finish_commit(path.rstrip("/"))
    return read_manifest(path)


def read_manifest(path: str) -> Manifest:
    """The Manifest at `path` as it is, without finishing a commit found cut short (what a writer,
    or a plan that writes nothing, reads); DatasetError if there is none."""
    where = f"{path.rstrip('/')}/{MANIFEST}"
    try:
        text = files.read_text(where)
    except FileNotFoundError:
        raise DatasetError(f"{path} is not a dataset: no {MANIFEST} (no such file)") from None
    except (IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        raise DatasetError(f"{path} is not a readable dataset: {exc.strerror} ({where})") from None
    except OSError as exc:  # a bucket's not-found comes through Beam as an OSError (BeamIOError)
        if not files.exists(where):
            raise DatasetError(f"{path} is not a dataset: no {MANIFEST}") from None
        raise DatasetError(f"cannot read {where}: {exc}") from None
    except UnicodeDecodeError:
        raise DatasetError(f"{where} is not a manifest: not UTF-8 text") from None
    return parse_manifest(text, where)


def _finish_commit(root: str) -> None:
    if not transaction.pending(root):
        return
    holder = read_lock(root)
    if holder is not None and holder.alive_here() is not False:
        raise DatasetError(f"{root} is being committed by another conversion ({holder.describe()}); "
                           "read it when that run has finished")
    try:
        transaction.roll_forward(root)
    except OSError as exc:
        raise DatasetError(f"{root}: a conversion's commit was cut short and cannot be finished from here "
                           f"({exc.strerror or exc}); rerun that conversion") from None


def shard_paths(path: str, manifest: Manifest, split: str) -> List[str]:
    return [f"{path.rstrip('/')}/{s.file}" for s in manifest.split(split).shards]


def open_shard(path: str) -> BinaryIO:
    """A shard's bytes, gunzipped when its name ends in .gz."""
    return files.open_read(path, gzip=path.endswith(".gz"))


def decode_pixels(features: Dict[str, list]) -> np.ndarray:
    """The record's image as a writable H x W x C uint8 array (raw reshaped, others decoded by Pillow)."""
    encoded = features[KEY_ENCODED][0]
    fmt = features[KEY_FORMAT][0].decode()
    if fmt == "raw":
        shape = (features[KEY_HEIGHT][0], features[KEY_WIDTH][0], features[KEY_CHANNELS][0])
        return np.frombuffer(encoded, np.uint8).reshape(shape).copy()
    with Image.open(io.BytesIO(encoded)) as image:
        image.load()
        pixels = np.array(image)
    return pixels if pixels.ndim == 3 else pixels[:, :, None]


def check_objects(features: Dict[str, list], class_ids: Optional[FrozenSet[int]] = None) -> Optional[str]:
    """What is wrong with a record's objects, or None: one length for every object list,
    boxes inside [0, 1] with min <= max, class ids in the label map."""
    lists = {key: features[key] for key in OBJECT_FEATURES if key in features}
    if len({len(values) for values in lists.values()}) > 1:
        lengths = ", ".join(f"{key.split('/')[-1]} {len(values)}" for key, values in lists.items())
        return f"object lists differ in length ({lengths})"
    for i, box in enumerate(zip(*(lists.get(k, []) for k in (KEY_XMIN, KEY_YMIN, KEY_XMAX, KEY_YMAX)))):
        if not all(0.0 <= v <= 1.0 for v in box) or box[0] > box[2] or box[1] > box[3]:
            return f"object {i}: box {tuple(round(v, 4) for v in box)} is not inside [0, 1] with min <= max"
    if class_ids is not None:
        unknown = sorted(set(lists.get(KEY_OBJECT_LABEL, [])) - class_ids)
        if unknown:
            return f"class ids {unknown} are not in the label map"
    return None


def check_record(features: Dict[str, list], class_ids: Optional[FrozenSet[int]] = None) -> Optional[str]:
    """What is wrong with a parsed record, or None: keys present, pixels match the header,
    objects (detection) consistent."""
    if KEY_XMIN in features:
        issue = check_objects(features, class_ids)
        if issue:
            return issue
    missing = [k for k in (KEY_ENCODED, KEY_FORMAT, KEY_HEIGHT, KEY_WIDTH, KEY_CHANNELS) if not features.get(k)]
    if missing:
        return f"missing features {', '.join(missing)}"
    try:
        pixels = decode_pixels(features)
    except Exception as exc:  # noqa: BLE001 - any decode error is this record's problem
        return f"image does not decode ({type(exc).__name__}: {exc})"
    declared = (features[KEY_HEIGHT][0], features[KEY_WIDTH][0], features[KEY_CHANNELS][0])
    if pixels.shape != declared:
        return f"pixels are {pixels.shape[0]}x{pixels.shape[1]}x{pixels.shape[2]}, features say " \
               f"{declared[0]}x{declared[1]}x{declared[2]}"
    return None


def item_of(features: Dict[str, list], kind: str, decode: bool) -> Any:
    """What a reader yields for a parsed record: `(image, label)`; (`kind="all"`) a dict of
    every feature plus `image`; (`kind="objects"`) `(image, objects)` for detection, see
    `objects_of`. The image decoded to pixels, or its encoded bytes."""
    image = decode_pixels(features) if decode else features[KEY_ENCODED][0]
    if kind == "all":
        return dict(features, image=image)
    if kind == "objects":
        return image, objects_of(features)
    return image, features.get(KEY_LABEL, [-1])[0]


def objects_of(features: Dict[str, list]) -> Dict[str, Any]:
    """A detection record's objects as arrays: `boxes` N x 4 float32 [ymin, xmin, ymax, xmax]
    normalised (the Object Detection API's order), `classes` int64, `texts`, and `masks`
    N x H x W uint8 (0 or 1) when the dataset has instance masks."""
    boxes = np.stack([np.asarray(features.get(k, []), np.float32) for k in (KEY_YMIN, KEY_XMIN, KEY_YMAX, KEY_XMAX)],
                     axis=1) if features.get(KEY_XMIN) else np.zeros((0, 4), np.float32)
    out = {"boxes": boxes, "classes": np.asarray(features.get(KEY_OBJECT_LABEL, []), np.int64),
           "texts": [t.decode("utf-8", "replace") for t in features.get(KEY_OBJECT_TEXT, [])]}
    if KEY_OBJECT_MASK in features:
        masks = [np.array(Image.open(io.BytesIO(m))) for m in features[KEY_OBJECT_MASK]]
        height, width = features[KEY_HEIGHT][0], features[KEY_WIDTH][0]
        out["masks"] = np.stack(masks) if masks else np.zeros((0, height, width), np.uint8)
    return out
