"""Reading a converted dataset back the way users do: tf.data and tf.io.parse_single_example."""
import json
from pathlib import Path
from typing import Dict, List

import tensorflow as tf

_TYPES = {"bytes": tf.string, "int64": tf.int64, "float": tf.float32}


def manifest(out: Path) -> dict:
    return json.loads((Path(out) / "manifest.json").read_text())


def read_split(out: Path, split: str) -> List[Dict]:
    """Every record of a split, parsed with the feature spec the manifest gives."""
    info = manifest(out)
    spec = {key: tf.io.VarLenFeature(_TYPES[kind]) for key, kind in info["features"].items()}
    files = [str(Path(out) / shard["file"]) for shard in info["splits"][split]["shards"]]
    compression = "GZIP" if files and files[0].endswith(".gz") else ""
    records = []
    for raw in tf.data.TFRecordDataset(files, compression_type=compression):
        parsed = tf.io.parse_single_example(raw, spec)
        records.append({key: tf.sparse.to_dense(value).numpy().tolist() for key, value in parsed.items()})
    return records


def decode(record: Dict):
    """The pixels of a record, decoded by TensorFlow."""
    if record["image/format"][0] == b"raw":
        shape = (record["image/height"][0], record["image/width"][0], record["image/channels"][0])
        return tf.reshape(tf.io.decode_raw(record["image/encoded"][0], tf.uint8), shape).numpy()
    return tf.io.decode_image(record["image/encoded"][0], expand_animations=False).numpy()
