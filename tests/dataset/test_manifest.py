"""The typed, versioned manifest: round trip, and what is refused in one line."""
import json

import pytest

from transforms.dataset.manifest import MANIFEST_VERSION, Manifest, ShardEntry, SplitEntry, parse_manifest
from transforms.errors import DatasetError


def sample() -> Manifest:
    train = SplitEntry(3, 2, 300, {"cat": 2, "dog": 1},
                       (ShardEntry("train-00000-of-00002.tfrecord", 2, "train-00000-of-00002.idx"),
                        ShardEntry("train-00001-of-00002.tfrecord", 1, "train-00001-of-00002.idx")))
    return Manifest({"train": train}, 3, 1, 4, {"decode: CorruptImage": 1}, ("cat", "dog"),
                    {"image/encoded": "bytes"}, {"image": {"format": "jpeg"}}, {"apache-beam": "2"})


def test_round_trip_keeps_every_field_and_the_key_order():
    manifest = sample()
    text = manifest.dumps()
    assert parse_manifest(text, "m") == manifest
    raw = json.loads(text)
    assert list(raw) == ["format_version", "splits", "num_examples", "num_failed", "num_listed", "num_truncated",
                         "accounted",
                         "failures_by_reason", "labels", "features", "config", "versions", "run_id", "tfds",
                         "task", "boxes_dropped", "frames_guessed"]
    assert raw["format_version"] == MANIFEST_VERSION and raw["accounted"] is True
    assert raw["splits"]["train"]["shards"][0] == {"file": "train-00000-of-00002.tfrecord", "num_examples": 2,
                                                   "index": "train-00000-of-00002.idx"}


def test_unknown_version_is_refused_naming_found_and_understood():
    raw = json.loads(sample().dumps())
    raw["format_version"] = 7
    with pytest.raises(DatasetError) as error:
        parse_manifest(json.dumps(raw), "out/manifest.json")
    assert str(error.value) == ("out/manifest.json: format_version 7 is not understood "
                                "(this image2tfrecord reads 1)")


@pytest.mark.parametrize("text, says", [
    ("{", "is not JSON"), ("[]", "is not a manifest"), ('{"format_version": 1}', "is not a complete manifest"),
])
def test_broken_manifests_are_one_line(text, says):
    with pytest.raises(DatasetError, match=says) as error:
        parse_manifest(text, "m.json")
    assert "\n" not in str(error.value)


def test_a_missing_split_names_the_splits():
    with pytest.raises(DatasetError, match="no split 'test' .*splits: train"):
        sample().split("test")
