"""A tf.data reader for converted datasets: one call, the feature spec from the manifest.

    ds = tf_dataset("out/photos", "train")                         # (image uint8 HWC, label)
    ds = tf_dataset("out/photos", "train", image_size=(224, 224), batch_size=32)
    ds = tf_dataset("out/photos", "validation", features="all")    # dicts of every feature

TensorFlow is imported when this is called, never by the conversion job.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from transforms.dataset.manifest import Manifest
from transforms.readback.image_records import load_manifest, shard_paths
from transforms.records.features import (
    BASE_FEATURES,
    BYTES,
    FLOAT,
    KEY_CHANNELS,
    KEY_ENCODED,
    KEY_FORMAT,
    KEY_HEIGHT,
    KEY_LABEL,
    KEY_OBJECT_LABEL,
    KEY_OBJECT_TEXT,
    KEY_WIDTH,
    KEY_XMAX,
    KEY_XMIN,
    KEY_YMAX,
    KEY_YMIN,
    LABEL_FEATURES,
)


def feature_spec(manifest: Manifest) -> dict:
    """tf.io parsing spec: fixed-length for the standard keys, variable for listing extras."""
    import tensorflow as tf

    types = {BYTES: tf.string, FLOAT: tf.float32, "int64": tf.int64}
    spec = {}
    for key, kind in manifest.features.items():
        if key in BASE_FEATURES:
            spec[key] = tf.io.FixedLenFeature([], types[kind])
        elif key in LABEL_FEATURES:
            spec[key] = tf.io.FixedLenFeature([], types[kind], default_value=-1 if kind == "int64" else b"")
        else:
            spec[key] = tf.io.VarLenFeature(types[kind])
    return spec


def decode(features: dict, channels: int) -> Any:
    """The image of parsed features as uint8 H x W x C (raw reshaped, others decoded)."""
    import tensorflow as tf

    def raw():
        shape = tf.stack([features[KEY_HEIGHT], features[KEY_WIDTH], features[KEY_CHANNELS]])
        return tf.reshape(tf.io.decode_raw(features[KEY_ENCODED], tf.uint8), shape)

    def jpeg():  # the accurate IDCT (TF defaults to the fast one), as Pillow and libjpeg default
        return tf.io.decode_jpeg(features[KEY_ENCODED], channels=channels, dct_method="INTEGER_ACCURATE")

    def other():
        return tf.io.decode_image(features[KEY_ENCODED], channels=channels, expand_animations=False)

    fmt = features[KEY_FORMAT]
    return tf.case([(tf.equal(fmt, b"raw"), raw), (tf.equal(fmt, b"jpeg"), jpeg)], default=other)


def tf_dataset(path: str, split: str = "train", features: str = "image_label",
               image_size: Optional[Tuple[int, int]] = None, batch_size: Optional[int] = None,
               parallel_reads: Optional[int] = None) -> Any:
    """A tf.data.Dataset of one split: `(image, label)`, (`features="all"`) dicts, or
    (`features="objects"`, detection) `(image, {boxes N x 4, classes N, texts N})`; its
    cardinality is the manifest's count. Batches of objects are padded (class 0, the background).

    `image_size` resizes (bilinear, float32); without it images keep their sizes and
    `batch_size` pads each batch to its largest image. gzip shards are handled.
    """
    import tensorflow as tf

    manifest = load_manifest(path)
    files = shard_paths(path, manifest, split)
    channels = int(manifest.image_config["channels"])
    if manifest.image_config["format"] == "original":
        channels = 0  # as stored
    spec = feature_spec(manifest)
    compression = "GZIP" if files and files[0].endswith(".gz") else ""

    def parse(record):
        parsed = tf.io.parse_single_example(record, spec)
        parsed = {k: tf.sparse.to_dense(v) if isinstance(v, tf.sparse.SparseTensor) else v
                  for k, v in parsed.items()}
        image = decode(parsed, channels)
        if image_size is not None:
            image = tf.image.resize(image, image_size)
        if features == "all":
            return dict(parsed, image=image)
        if features == "objects":  # detection: boxes [ymin, xmin, ymax, xmax], as the OD API orders them
            boxes = tf.stack([parsed[k] for k in (KEY_YMIN, KEY_XMIN, KEY_YMAX, KEY_XMAX)], axis=1)
            return image, {"boxes": tf.reshape(boxes, [-1, 4]), "classes": parsed[KEY_OBJECT_LABEL],
                           "texts": parsed[KEY_OBJECT_TEXT]}
        return image, parsed.get(KEY_LABEL, tf.constant(-1, tf.int64))

    dataset = tf.data.TFRecordDataset(files, compression_type=compression, num_parallel_reads=parallel_reads)
    # The manifest knows the count: Keras then shows real steps and never warns of running out.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(manifest.split(split).num_examples))
    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if batch_size:
        dataset = dataset.batch(batch_size) if image_size else dataset.padded_batch(batch_size)
    return dataset
