"""TensorFlow Datasets metadata, written from the manifest without importing TFDS:
`dataset_info.json`, `features.json` and the label names file, which is what
`tfds.builder_from_directory(path)` and `tfds.load(name, data_dir=...)` need to read our
shards as they are (file template `{SPLIT}-{SHARD_X_OF_Y}.tfrecord`).

The JSON is the form TFDS itself writes (tfds.folder_dataset.write_metadata); a test
loads what this writes with the real TFDS. Where TFDS cannot read a choice, nothing is
written and `blocker` says why in one line.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from transforms.dataset.framing import FRAMING_BYTES
from transforms.dataset.manifest import Manifest
from transforms.records.features import (
    BASE_FEATURES,
    BYTES,
    FLOAT,
    INT64,
    KEY_ENCODED,
    KEY_LABEL,
    KEY_LABEL_TEXT,
    KEY_SEGMENTATION,
    KEY_SEGMENTATION_FORMAT,
)

DATASET_INFO = "dataset_info.json"
FEATURES = "features.json"
LABEL_NAMES = KEY_LABEL.replace("/", ".") + ".labels.txt"  # TFDS names it after the feature
FILES = (DATASET_INFO, FEATURES, LABEL_NAMES)
TEMPLATE = "{SPLIT}-{SHARD_X_OF_Y}.tfrecord"
_TFDS = "tensorflow_datasets.core.features."
_DTYPES = {INT64: "int64", FLOAT: "float32", BYTES: "string"}


def blocker(image: Mapping[str, Any], compression: str) -> Optional[str]:
    """Why TFDS cannot read this dataset, or None."""
    if compression != "none":
        return "TFDS reads uncompressed shards only (output.compression: none)"
    fmt = image.get("format")
    if fmt == "webp":
        return "TFDS decodes WebP as 4-D frames (image.format: jpeg or png)"
    if fmt == "raw":
        return "raw pixels are not an image TFDS decodes (image.format: jpeg or png)"
    if fmt == "original":
        return "source bytes may mix formats TFDS does not decode (image.format: jpeg or png)"
    return None


def _text() -> Dict[str, Any]:
    return {"pythonClassName": _TFDS + "text_feature.Text", "text": {}}


def _tensor(kind: str, variable: bool) -> Dict[str, Any]:
    return {"pythonClassName": _TFDS + "tensor_feature.Tensor",
            "tensor": {"dtype": _DTYPES[kind], "encoding": "none",
                       "shape": {"dimensions": ["-1"]} if variable else {}}}


def features_json(manifest: Manifest) -> Dict[str, Any]:
    """features.json: the image (and a class-index mask) decoded by TFDS, labels as a ClassLabel,
    object lists as variable-length tensors (one PNG string per object for instance masks),
    the rest as given."""
    image = manifest.image_config
    features: Dict[str, Any] = {}
    for key, kind in manifest.features.items():
        if key == KEY_ENCODED:
            features[key] = {"pythonClassName": _TFDS + "image_feature.Image", "image": {
                "dtype": "uint8", "encodingFormat": image.get("format", "jpeg"),
                "shape": {"dimensions": ["-1", "-1", str(image.get("channels", 3))]}}}
        elif key == KEY_SEGMENTATION:  # one PNG of class indices: TFDS decodes it to (h, w, 1)
            features[key] = {"pythonClassName": _TFDS + "image_feature.Image", "image": {
                "dtype": "uint8", "encodingFormat": "png", "shape": {"dimensions": ["-1", "-1", "1"]}}}
        elif key == KEY_LABEL:
            features[key] = {"pythonClassName": _TFDS + "class_label_feature.ClassLabel",
                             "classLabel": {"numClasses": str(len(manifest.labels))}}
        elif kind == BYTES and (key in BASE_FEATURES or key in (KEY_LABEL_TEXT, KEY_SEGMENTATION_FORMAT)):
            features[key] = _text()
        else:
            features[key] = _tensor(kind, variable=key not in BASE_FEATURES)
    return {"featuresDict": {"features": dict(sorted(features.items()))},
            "pythonClassName": _TFDS + "features_dict.FeaturesDict"}


def dataset_info_json(manifest: Manifest, name: str, version: str, description: str) -> Dict[str, Any]:
    """dataset_info.json: name, version, and per split its shard lengths and example bytes
    (TFDS counts a record's bytes without the 16 of its framing)."""
    splits = [{"filepathTemplate": TEMPLATE, "name": split,
               "numBytes": str(entry.num_bytes - FRAMING_BYTES * entry.num_examples),
               "shardLengths": [str(shard.num_examples) for shard in entry.shards]}
              for split, entry in manifest.splits.items()]
    return {"description": description, "fileFormat": "tfrecord", "name": name, "splits": splits,
            "version": version}


def label_names(labels: List[str]) -> str:
    """The ClassLabel names, one a line; ids no class uses (integer labels with gaps) get a
    placeholder name, since TFDS wants them distinct."""
    return "".join(f"{name or f'unused_{i}'}\n" for i, name in enumerate(labels))


def render(manifest: Manifest, name: str, version: str, description: str) -> Dict[str, str]:
    """{file name: text} of the metadata files."""
    out = {DATASET_INFO: json.dumps(dataset_info_json(manifest, name, version, description), indent=2) + "\n",
           FEATURES: json.dumps(features_json(manifest), indent=4) + "\n"}
    if manifest.labels and KEY_LABEL in manifest.features:  # a ClassLabel's names; detection records have none
        out[LABEL_NAMES] = label_names(list(manifest.labels))
    return out
