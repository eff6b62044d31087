"""Reading converted datasets back: verify, the tf.data and TF-free readers, index files,
inspect and preview."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from beam_jobs.cli import main
from tests.support import imaging
from transforms.readback.iterable import ImageRecords
from transforms.readback.tfdata import tf_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A small labelled dataset with index files, converted once for this module."""
    root = tmp_path_factory.mktemp("readback")
    imaging.make_class_folders(root / "photos", classes=("ant", "bee", "cow"), per_class=6, size=(90, 70))
    out = root / "out"
    assert main(["convert", "/dev/null", "--set", f"input.path={root / 'photos'}", "--set", f"output.path={out}",
                 "--set", "output.shards=3",
                     "--set", "output.min_shard_records=1", "--set", "output.index=true",  # validation: 1 shard
                 "--set", "splits={train: 0.75, validation: 0.25}"]) == 0
    return out


@pytest.fixture
def copy(dataset, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(dataset, target)
    return target


def verify(path, capsys):
    code = main(["verify", str(path)])
    return code, capsys.readouterr().out


def test_verify_passes_on_good_output(dataset, capsys):
    code, out = verify(dataset, capsys)
    assert code == 0 and "verify passed: 4 shards, 18 records" in out


def test_verify_names_the_shard_with_a_flipped_byte(copy, capsys):
    shard = copy / "train-00001-of-00003.tfrecord"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    code, out = verify(copy, capsys)
    assert code == 1
    assert "train-00001-of-00003.tfrecord: record" in out and "CRC mismatch" in out
    assert "train-00000-of-00003.tfrecord" not in out


def test_verify_names_a_truncated_shard(copy, capsys):
    shard = copy / "validation-00000-of-00001.tfrecord"
    shard.write_bytes(shard.read_bytes()[:-10])
    code, out = verify(copy, capsys)
    assert code == 1 and "validation-00000-of-00001.tfrecord: record" in out and "truncated" in out


def test_verify_names_a_missing_shard(copy, capsys):
    (copy / "train-00002-of-00003.tfrecord").unlink()
    code, out = verify(copy, capsys)
    assert code == 1 and "train-00002-of-00003.tfrecord: missing" in out


def test_verify_names_a_count_mismatch(copy, capsys):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["splits"]["train"]["shards"][0]["num_examples"] += 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, out = verify(copy, capsys)
    assert code == 1 and "train-00000-of-00003.tfrecord: holds" in out and "the manifest says" in out


def test_verify_names_what_beside_the_shards_disagrees_with_the_manifest(copy, capsys):
    """A shard file the manifest does not list (a reader globbing `train-*` reads its records
    twice over), and labels.txt, failures.jsonl or TFDS metadata edited or gone: the shards are
    whole, but the dataset as readers see it is not the one the manifest describes."""
    shutil.copy(copy / "train-00000-of-00003.tfrecord", copy / "train-00003-of-00004.tfrecord")
    with open(copy / "labels.txt", "a") as labels:
        labels.write("zebra\n")
    (copy / "failures.jsonl").write_text("not json\n")
    (copy / "dataset_info.json").unlink()
    code, out = verify(copy, capsys)
    assert code == 1 and "verify failed: 0 of 4 shards have problems (18 records read); 4 problems beside them" in out
    assert "train-00003-of-00004.tfrecord: a shard file the manifest does not list" in out
    assert "labels.txt: does not name the classes the manifest does" in out
    assert "failures.jsonl: holds 1 lines, not the manifest's 0 failures as JSON objects" in out
    assert "dataset_info.json: missing (the manifest says TFDS metadata was written)" in out


def test_verify_passes_an_unlabelled_dataset_which_has_no_tfds_label_names(tmp_path, capsys):
    """TFDS's label names file is written only where there are labels: not one of the files
    an unlabelled dataset must have."""
    photos = tmp_path / "flat"
    for i in range(3):
        imaging.write(photos / f"{i}.jpg", imaging.encode(imaging.photo((30, 20), i), "JPEG"))
    assert main(["convert", "--set", f"input.path={photos}", "--set", f"output.path={tmp_path / 'out'}",
                 "--quiet"]) == 0
    assert not (tmp_path / "out" / "image.class.label.labels.txt").exists()
    assert verify(tmp_path / "out", capsys)[0] == 0


def test_verify_names_a_shard_of_another_run_put_in_its_place(tmp_path, capsys):
    """Same name, same count, every record whole: only the manifest's size and CRC32C of the
    stored bytes tell it is not this dataset's (two runs' folders merged by hand, say)."""
    photos = imaging.make_class_folders(tmp_path / "photos", classes=("ant",), per_class=4, size=(60, 40))
    for quality, out in ((90, tmp_path / "a"), (60, tmp_path / "b")):
        assert main(["convert", "--set", f"input.path={photos}", "--set", f"output.path={out}", "--set",
                     "output.shards=2", "--set", "output.min_shard_records=1", "--set", f"image.quality={quality}",
                     "--quiet"]) == 0
    shutil.copy(tmp_path / "b" / "train-00001-of-00002.tfrecord", tmp_path / "a")
    code, out = verify(tmp_path / "a", capsys)
    assert code == 1 and "verify failed: 1 of 2 shards" in out
    assert "train-00001-of-00002.tfrecord: its bytes are not those the manifest recorded" in out
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    for shard in manifest["splits"]["train"]["shards"]:  # a manifest written before they were recorded
        del shard["size"], shard["crc32c"]
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(manifest))
    assert verify(tmp_path / "a", capsys)[0] == 0


def test_verify_catches_pixels_that_do_not_match_their_features(tmp_path, capsys):
    from transforms.dataset.framing import write_record
    from transforms.dataset.manifest import Manifest, ShardEntry, SplitEntry
    from transforms.records.proto import serialize_example

    out = tmp_path / "forged"
    out.mkdir()
    encoded = imaging.encode(Image.new("RGB", (8, 6)), "PNG")
    record = serialize_example({"image/encoded": encoded, "image/format": "png", "image/height": 7,
                                "image/width": 8, "image/channels": 3})
    with open(out / "train-00000-of-00001.tfrecord", "wb") as handle:
        write_record(handle, record)
    split = SplitEntry(1, 1, 0, {}, (ShardEntry("train-00000-of-00001.tfrecord", 1),))
    (out / "manifest.json").write_text(Manifest({"train": split}, 1, 0, 1, {}, (), {}, {}, {}).dumps())
    code, printed = verify(out, capsys)
    assert code == 1 and "record 0 (byte 0): pixels are 6x8x3, features say 7x8x3" in printed


def test_tfdata_and_tf_free_readers_agree(dataset):
    for split in ("train", "validation"):
        from_tf = [(image.numpy(), int(label)) for image, label in tf_dataset(str(dataset), split)]
        plain = list(ImageRecords(str(dataset), split))
        assert len(from_tf) == len(plain) > 0
        for (a, la), (b, lb) in zip(from_tf, plain):
            assert la == lb and a.shape == b.shape and np.array_equal(a, b)


def test_tfdata_reader_resizes_batches_and_gives_all_features(dataset):
    batch = next(iter(tf_dataset(str(dataset), "train", image_size=(32, 32), batch_size=4)))
    assert tuple(batch[0].shape) == (4, 32, 32, 3)
    record = next(iter(tf_dataset(str(dataset), "train", features="all")))
    assert record["image/class/text"].numpy() in (b"ant", b"bee", b"cow")


def test_padded_batches_pad_smaller_images_with_zeros(tmp_path):
    """Images of different sizes in one batch: each padded at the bottom and right to the largest."""
    for name, size in (("wide.png", (40, 10)), ("tall.png", (12, 30))):
        imaging.write(tmp_path / "in" / name, imaging.encode(Image.new("RGB", size, (200, 100, 50)), "PNG"))
    out = tmp_path / "out"
    assert main(["convert", "--set", f"input.path={tmp_path / 'in'}", "--set", f"output.path={out}",
                 "--set", "image.format=png"]) == 0
    images, _ = next(iter(tf_dataset(str(out), "train", batch_size=2)))
    assert tuple(images.shape) == (2, 30, 40, 3)
    for image in images.numpy():
        filled = (image != 0).any(axis=2)
        h, w = filled.sum(axis=0).max(), filled.sum(axis=1).max()
        assert {(h, w)} <= {(10, 40), (30, 12)} and not filled[h:, :].any() and not filled[:, w:].any()
        assert (image[:h, :w] == (200, 100, 50)).all()


def test_verify_names_an_index_that_does_not_match(copy, capsys):
    index = sorted(copy.glob("index/train-*.idx"))[0]
    lines = index.read_text().splitlines()
    index.write_text("\n".join(lines[:-1] + ["0 12"]) + "\n")
    code, printed = verify(copy, capsys)
    assert code == 1 and f"{index.name} does not match the records" in printed


def test_tf_free_reader_yields_writable_arrays(dataset):
    image, _ = next(iter(ImageRecords(str(dataset), "train")))
    assert image.flags.writeable and image.dtype == np.uint8


def test_tf_free_reader_shards_for_workers(dataset):
    whole = ImageRecords(str(dataset), "train")
    parts = [whole.shard(2, i) for i in range(2)]
    assert len(whole) == sum(len(p) for p in parts) == len(list(whole))
    labels = sorted(label for p in parts for _, label in p)
    assert labels == sorted(label for _, label in whole)


TFRECORD_PACKAGE_CHECK = """
import io, json, sys
from PIL import Image
from tfrecord.reader import tfrecord_loader
root = sys.argv[1]
manifest = json.load(open(f"{root}/manifest.json"))
for shard in manifest["splits"]["train"]["shards"]:
    path = f"{root}/{shard['file']}"
    plain = list(tfrecord_loader(path, None, {"image/encoded": "byte", "image/class/label": "int"}))
    assert len(plain) == shard["num_examples"], (path, len(plain))
    assert Image.open(io.BytesIO(bytes(plain[0]["image/encoded"]))).format == "JPEG"
    index = f"{root}/{shard['index']}"
    halves = [list(tfrecord_loader(path, index, {"image/class/label": "int"}, shard=(i, 2))) for i in range(2)]
    assert sum(len(h) for h in halves) == shard["num_examples"], (index, [len(h) for h in halves])
print("ok")
"""


def test_the_tfrecord_package_reads_the_shards_with_and_without_index(dataset):
    # In a fresh interpreter: the package registers its own tensorflow.Example protos, which
    # clash with TensorFlow's when both are loaded (its users, on PyTorch, never load TF).
    done = subprocess.run([sys.executable, "-c", TFRECORD_PACKAGE_CHECK, str(dataset)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_inspect_and_preview(dataset, tmp_path, capsys):
    assert main(["inspect", str(dataset)]) == 0
    out = capsys.readouterr().out
    assert "18 records" in out and "train" in out and "validation" in out
    assert any(line.startswith("ant ") and line.split()[-1] == "6" for line in out.splitlines())
    manifest = json.loads((dataset / "manifest.json").read_text())  # the counts inspect used
    assert sum(manifest["splits"][s]["classes"].get("ant", 0) for s in manifest["splits"]) == 6
    sheet = tmp_path / "sheet.png"
    assert main(["preview", str(dataset), "--split", "train", "--n", "9", "--output", str(sheet)]) == 0
    with Image.open(sheet) as image:
        assert image.size == (3 * 128, 3 * 144)
        colours = np.asarray(image.convert("RGB")).reshape(-1, 3)
        assert len(np.unique(colours, axis=0)) > 100  # photos, not an empty grid


@pytest.mark.parametrize("command", [["preview", "DATASET", "--n", "-3", "--output", "x.png"],
                                     ["preview", "DATASET", "--n", "0", "--output", "x.png"],
                                     ["convert", "--limit", "0", "--set", "input.path=DATASET"]])
def test_a_count_under_one_is_refused_by_the_command_line(dataset, command, capsys):
    with pytest.raises(SystemExit) as done:  # preview --n -3 was a ValueError from islice (exit 1)
        main([str(dataset) if part == "DATASET" else part for part in command])
    assert done.value.code == 2 and "is not a whole number of 1 or more" in capsys.readouterr().err


def test_reading_a_missing_split_is_one_line(dataset, tmp_path, capsys):
    assert main(["preview", str(dataset), "--split", "test", "--output", str(tmp_path / "x.png")]) == 2
    assert "no split 'test'" in capsys.readouterr().err


def test_verify_and_readers_handle_gzip_shards(tmp_path, capsys):
    imaging.make_class_folders(tmp_path / "p", classes=("a", "b"), per_class=3)
    out = tmp_path / "gz"
    assert main(["convert", "/dev/null", "--set", f"input.path={tmp_path / 'p'}", "--set", f"output.path={out}",
                 "--set", "output.compression=gzip", "--set", "output.shards=2",
                 "--set", "output.min_shard_records=1"]) == 0
    capsys.readouterr()
    code, printed = verify(out, capsys)
    assert code == 0 and "6 records" in printed
    plain = list(ImageRecords(str(out), "train"))
    from_tf = [(i.numpy(), int(label)) for i, label in tf_dataset(str(out), "train")]
    assert len(plain) == len(from_tf) == 6
    assert all(np.array_equal(a, b) and la == lb for (a, la), (b, lb) in zip(from_tf, plain))
    shard = out / "train-00001-of-00002.tfrecord.gz"
    shard.write_bytes(shard.read_bytes()[:-20])  # a cut gzip stream
    code, printed = verify(out, capsys)
    assert code == 1 and "train-00001-of-00002.tfrecord.gz:" in printed


def test_indexes_always_hold_two_lines_so_the_tfrecord_package_reads_them(tmp_path):
    """Its loader reads a one-line .idx as 1-D and fails; indexed shards hold two records or more
    (3 records asked in 2 shards: one shard of 3)."""
    imaging.make_class_folders(tmp_path / "p", classes=("a",), per_class=3)
    out = tmp_path / "out"
    assert main(["convert", "--set", f"input.path={tmp_path / 'p'}", "--set", f"output.path={out}",
                 "--set", "output.shards=2", "--set", "output.min_shard_records=1", "--set", "output.index=true"]) == 0
    shards = json.loads((out / "manifest.json").read_text())["splits"]["train"]["shards"]
    assert [s["num_examples"] for s in shards] == [3]
    assert all(len((out / s["index"]).read_text().splitlines()) >= 2 for s in shards)
    check = TFRECORD_PACKAGE_CHECK.replace('== "JPEG"', 'in ("JPEG",)')
    done = subprocess.run([sys.executable, "-c", check, str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_tfx_style_read_of_train_star_reads_only_shards(dataset, pipeline):
    """ImportExampleGen reads `ReadFromTFRecord(input_base/pattern)` + `Example.FromString`: with
    indexes written, `train-*` must match the shards only."""
    import apache_beam as beam
    import tensorflow as tf
    from apache_beam.testing.util import assert_that, equal_to

    manifest = json.loads((dataset / "manifest.json").read_text())
    with pipeline as p:
        for split in ("train", "validation"):
            examples = (p | f"Read{split}" >> beam.io.ReadFromTFRecord(f"{dataset}/{split}-*")
                        | f"Parse{split}" >> beam.Map(tf.train.Example.FromString))
            count = examples | f"Count{split}" >> beam.combiners.Count.Globally()
            assert_that(count, equal_to([manifest["splits"][split]["num_examples"]]), label=f"count_{split}")
