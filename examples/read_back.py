"""Read a converted dataset back with tf.data and say what it holds.

    python examples/read_back.py out/demo
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # quiets a start-up notice; no effect on decoding
import tensorflow as tf  # noqa: E402

from transforms.readback.image_records import load_manifest  # noqa: E402

FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/height": tf.io.FixedLenFeature([], tf.int64),
    "image/width": tf.io.FixedLenFeature([], tf.int64),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64, default_value=-1),
    "image/filename": tf.io.FixedLenFeature([], tf.string),
}


def main(path: str) -> None:
    manifest = load_manifest(path)  # the typed manifest: which shards, labels, counts
    labels = manifest.labels
    print(f"\n{path}: {manifest.num_examples} records, {manifest.num_failed} failures, labels {list(labels)}")
    for split, entry in manifest.splits.items():
        files = [os.path.join(path, shard.file) for shard in entry.shards]
        dataset = tf.data.TFRecordDataset(files).map(lambda r: tf.io.parse_single_example(r, FEATURES))
        count = 0
        for example in dataset:
            image = tf.io.decode_image(example["image/encoded"])
            assert image.shape[:2] == (example["image/height"], example["image/width"])
            if count < 3:
                label = int(example["image/class/label"])
                print(f"  {split}: {example['image/filename'].numpy().decode()} "
                      f"{tuple(image.shape)} label {label} ({labels[label] if label >= 0 else '-'})")
            count += 1
        shards = "shard" if len(files) == 1 else "shards"
        print(f"  {split}: {count} records read back with tf.data from {len(files)} {shards}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/demo")
