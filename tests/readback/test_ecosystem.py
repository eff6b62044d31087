"""Loading the output with the libraries users train from: TensorFlow Datasets (its real
`builder_from_directory` and `tfds.load`), Keras (cardinality), and a random-access source."""
import json

import numpy as np
import pytest

from beam_jobs.cli import main
from tests.support import imaging

tfds = pytest.importorskip("tensorflow_datasets")


def convert(data, out, *sets):
    args = ["convert", "--set", f"input.path={data}", "--set", f"output.path={out}"]
    for item in sets:
        args += ["--set", item]
    return main(args)


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("eco")
    return imaging.make_class_folders(root / "in", classes=("ant", "bee", "cow"), per_class=4, size=(70, 50))


def check_tfds(builder, out):
    manifest = json.loads((out / "manifest.json").read_text())
    assert {s: builder.info.splits[s].num_examples for s in builder.info.splits} == {
        s: e["num_examples"] for s, e in manifest["splits"].items()}
    assert builder.info.features["image/class/label"].names == manifest["labels"]
    for split in manifest["splits"]:
        for example in builder.as_dataset(split=split):
            image = example["image/encoded"].numpy()
            assert image.shape == (example["image/height"].numpy(), example["image/width"].numpy(), 3)
            label = int(example["image/class/label"])
            assert manifest["labels"][label].encode() == example["image/class/text"].numpy()


def test_builder_from_directory_reads_a_converted_dataset(photos, tmp_path, capsys):
    out = tmp_path / "pets"
    assert convert(photos, out, "splits={train: 0.75, validation: 0.25}", "output.shards=2",
                   "output.min_shard_records=1",
                   "image.resize.mode=fit", "image.resize.width=32", "image.resize.height=32",
                   "output.index=true") == 0
    assert "tfds: tfds.builder_from_directory(" in capsys.readouterr().out
    builder = tfds.builder_from_directory(str(out))
    assert builder.info.name == "pets" and str(builder.info.version) == "1.0.0"
    check_tfds(builder, out)


def test_tfds_load_by_name_from_a_data_dir(photos, tmp_path):
    data_dir = tmp_path / "tensorflow_datasets"
    assert convert(photos, data_dir, "output.tfds_layout=true", "dataset.name=my_pets", "dataset.version=2.1.0",
                   "dataset.description=Three insects and a cow") == 0
    out = data_dir / "my_pets" / "2.1.0"
    assert (out / "manifest.json").exists()
    dataset, info = tfds.load("my_pets", data_dir=str(data_dir), split="train", with_info=True)
    assert info.description == "Three insects and a cow" and len(list(dataset)) == 12
    check_tfds(tfds.builder("my_pets", data_dir=str(data_dir)), out)


def test_a_partly_labelled_dataset_gets_a_placeholder_label(tmp_path):
    for i in range(3):
        imaging.write(tmp_path / f"{i}.jpg", imaging.encode(imaging.photo((30, 20), i), "JPEG"))
    listing = tmp_path / "list.csv"
    listing.write_text("path,label\n0.jpg,cat\n1.jpg,dog\n2.jpg,\n")
    out = tmp_path / "out"
    assert convert(listing, out) == 0
    labels = sorted(int(e["image/class/label"]) for e in tfds.builder_from_directory(str(out)).as_dataset(
        split="train"))
    assert labels == [-1, 0, 1]


@pytest.mark.parametrize("setting, reason", [("output.compression=gzip", "uncompressed shards only"),
                                             ("image.format=webp", "WebP")])
def test_what_tfds_cannot_read_gets_no_metadata_and_says_why(photos, tmp_path, capsys, setting, reason):
    out = tmp_path / "out"
    assert convert(photos, out, setting) == 0
    printed = capsys.readouterr().out
    assert "tfds: no TFDS metadata: " in printed and reason in printed
    assert not (out / "dataset_info.json").exists() and not (out / "features.json").exists()


def test_replacing_a_dataset_removes_metadata_tfds_could_no_longer_read(photos, tmp_path):
    out = tmp_path / "out"
    assert convert(photos, out) == 0 and (out / "dataset_info.json").exists()
    assert main(["convert", "--set", f"input.path={photos}", "--set", f"output.path={out}",
                 "--set", "output.compression=gzip", "--overwrite"]) == 0
    assert not (out / "dataset_info.json").exists() and not (out / "features.json").exists()


def test_keras_sees_the_number_of_steps(photos, tmp_path):
    import tensorflow as tf

    from transforms.readback import tf_dataset

    out = tmp_path / "out"
    assert convert(photos, out, "image.resize.mode=exact", "image.resize.width=16", "image.resize.height=16") == 0
    dataset = tf_dataset(str(out), "train", image_size=(16, 16), batch_size=5)
    assert int(dataset.cardinality()) == 3  # 12 records in batches of 5
    model = tf.keras.Sequential([tf.keras.layers.Input((16, 16, 3)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(3)])
    model.compile("sgd", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(dataset, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    assert int(tf_dataset(str(out), "train").cardinality()) == 12
    assert np.isfinite(history.history["loss"][0])


def test_random_access_by_index_and_grain_shuffles_the_whole_split(photos, tmp_path):
    from transforms.readback import ImageRecords, RecordSource

    out = tmp_path / "out"
    assert convert(photos, out, "output.shards=3", "output.min_shard_records=1", "output.index=true") == 0
    source = RecordSource(str(out), "train", features="all")
    sequential = list(ImageRecords(str(out), "train", features="all"))
    assert len(source) == len(sequential) == 12
    for i in (0, 5, 11, -1):
        assert source[i]["image/source_id"] == sequential[i]["image/source_id"]
        assert np.array_equal(source[i]["image"], sequential[i]["image"])
    with pytest.raises(IndexError):
        source[12]

    grain = pytest.importorskip("grain.python")
    sampler = grain.IndexSampler(len(source), shard_options=grain.NoSharding(), shuffle=True, num_epochs=1, seed=7)
    loader = grain.DataLoader(data_source=RecordSource(str(out), "train", features="record"), sampler=sampler,
                              worker_count=0)
    order = [bytes(record) for record in loader]
    assert sorted(order) == sorted(RecordSource(str(out), "train", features="record")[i] for i in range(12))
    assert order != [RecordSource(str(out), "train", features="record")[i] for i in range(12)]  # shuffled


def test_random_access_needs_the_index(photos, tmp_path, capsys):
    from transforms.errors import DatasetError
    from transforms.readback import RecordSource

    out = tmp_path / "out"
    assert convert(photos, out) == 0
    with pytest.raises(DatasetError, match="output.index: true"):
        RecordSource(str(out))


def test_tfds_reads_detection_and_segmentation_records(tmp_path, capsys):
    """Object lists are variable-length tensors, the class-index mask an image; a record with
    no objects has empty lists. TFDS's values are the records' own."""
    from PIL import Image

    from transforms.readback import ImageRecords

    images, masks = tmp_path / "images", tmp_path / "masks"
    document = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "cat"}, {"id": 4, "name": "dog"}]}
    for number, name in enumerate(("a", "b", "c"), 1):
        imaging.write(images / f"{name}.jpg", imaging.encode(imaging.photo((80, 60), number), "JPEG"))
        imaging.write(masks / f"{name}.png", imaging.encode(Image.new("L", (80, 60), number), "PNG"))
        document["images"].append({"id": number, "file_name": f"{name}.jpg", "width": 80, "height": 60})
        for category in ((1, 4) if name == "a" else (4,) if name == "b" else ()):  # c: no objects
            document["annotations"].append({"id": len(document["annotations"]) + 1, "image_id": number,
                                            "category_id": category, "bbox": [10, 5, 30, 20], "iscrowd": 0,
                                            "segmentation": [[10, 5, 40, 5, 40, 25, 10, 25]]})
    (tmp_path / "coco.json").write_text(json.dumps(document))
    out = tmp_path / "out"
    assert convert(images, out, "input.annotations.format=coco", f"input.annotations.path={tmp_path / 'coco.json'}",
                   f"input.masks={masks}", "image.resize.mode=fit", "image.resize.width=40",
                   "image.resize.height=40") == 0
    assert "tfds: tfds.builder_from_directory(" in capsys.readouterr().out
    builder = tfds.builder_from_directory(str(out))
    assert builder.info.splits["train"].num_examples == 3
    ours = {r["image/filename"][0]: r for r in ImageRecords(str(out), "train", features="all", decode=False)}
    for example in builder.as_dataset(split="train"):
        record = ours[example["image/filename"].numpy()]
        for key in ("image/object/bbox/xmin", "image/object/bbox/ymax", "image/object/class/label",
                    "image/object/class/text"):
            assert list(example[key].numpy()) == list(record[key]), key
        image, mask = example["image/encoded"].numpy(), example["image/segmentation/class/encoded"].numpy()
        assert mask.shape == image.shape[:2] + (1,) and example["image/segmentation/class/format"].numpy() == b"png"
        assert len(example["image/object/mask"].numpy()) == len(record["image/object/class/label"])
    assert [len(e["image/object/bbox/xmin"]) for e in builder.as_dataset(split="train")].count(0) == 1
