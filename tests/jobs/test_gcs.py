"""gs:// everywhere a path goes, against a real GCS emulator on loopback (no mocks)."""
import json

from beam_jobs.cli import main
from tests.support import imaging
from tests.support.gcs_emulator import BUCKET, client, download_tree, upload_tree
from tests.support.readback import decode, read_split


def convert(*sets):
    args = ["convert", "/dev/null"]
    for item in sets:
        args += ["--set", item]
    return main(args)


def test_class_folders_from_bucket_to_bucket(gcs_emulator, tmp_path, capsys):
    imaging.make_class_folders(tmp_path / "photos", classes=("cat", "dog"), per_class=4)
    upload_tree(tmp_path / "photos", "datasets/pets")
    code = convert(f"input.path=gs://{BUCKET}/datasets/pets", f"output.path=gs://{BUCKET}/shards/pets",
                   "output.shards=2",
                       "output.min_shard_records=1", "image.resize.mode=fit", "image.resize.width=48",
                       "image.resize.height=48")
    assert code == 0, capsys.readouterr()
    assert "layout class_folders" in capsys.readouterr().out
    names = download_tree("shards/pets", tmp_path / "out")
    assert names == ["dataset_info.json", "failures.jsonl", "features.json", "image.class.label.labels.txt",
                     "labels.txt", "manifest.json", "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord"]
    records = read_split(tmp_path / "out", "train")
    assert len(records) == 8
    assert {r["image/class/text"][0] for r in records} == {b"cat", b"dog"}
    assert all(max(decode(r).shape[:2]) == 48 for r in records)
    capsys.readouterr()
    assert main(["verify", f"gs://{BUCKET}/shards/pets"]) == 0  # each shard's bytes read from the bucket
    assert "verify passed: 2 shards, 8 records" in capsys.readouterr().out


def test_listing_in_a_bucket_with_relative_and_gs_entries(gcs_emulator, tmp_path):
    imaging.make_class_folders(tmp_path / "img", classes=("a",), per_class=3)
    upload_tree(tmp_path / "img", "raw")
    local = imaging.write(tmp_path / "local.jpg", imaging.encode(imaging.photo((20, 20)), "JPEG"))
    listing = (f"path,label\n../raw/a/a_00.jpg,x\ngs://{BUCKET}/raw/a/a_01.jpg,y\n{local},z\n"
               f"../raw/a/missing.jpg,x\n")
    client().bucket(BUCKET).blob("lists/train.csv").upload_from_string(listing)
    code = convert(f"input.path=gs://{BUCKET}/lists/train.csv", f"output.path=gs://{BUCKET}/shards/listing",
                   "errors.max_failed_fraction=0.5")
    assert code == 0
    download_tree("shards/listing", tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert (manifest["num_examples"], manifest["num_failed"], manifest["labels"]) == (3, 1, ["x", "y", "z"])
    failure = json.loads((tmp_path / "out" / "failures.jsonl").read_text())
    assert failure["uri"] == f"gs://{BUCKET}/raw/a/missing.jpg" and failure["stage"] == "read"


def test_glob_of_bucket_objects(gcs_emulator, tmp_path):
    imaging.make_class_folders(tmp_path / "g", classes=("k",), per_class=3)
    upload_tree(tmp_path / "g", "globbed")
    assert convert(f"input.path=gs://{BUCKET}/globbed/k/*.jpg", f"output.path=gs://{BUCKET}/shards/glob") == 0
    download_tree("shards/glob", tmp_path / "out")
    assert len(read_split(tmp_path / "out", "train")) == 3


def test_non_empty_bucket_output_is_refused(gcs_emulator, tmp_path, capsys):
    client().bucket(BUCKET).blob("taken/file.txt").upload_from_string("x")
    imaging.make_class_folders(tmp_path / "p", classes=("c",), per_class=1)
    upload_tree(tmp_path / "p", "small")
    assert convert(f"input.path=gs://{BUCKET}/small", f"output.path=gs://{BUCKET}/taken") == 2
    assert "not empty" in capsys.readouterr().err


def test_a_run_over_the_failure_limit_keeps_the_bucket_dataset(gcs_emulator, tmp_path, capsys):
    data = imaging.make_class_folders(tmp_path / "p", classes=("c",), per_class=4)
    out = f"gs://{BUCKET}/shards/held"
    assert convert(f"input.path={data}", f"output.path={out}") == 0
    bucket = client().bucket(BUCKET)
    before = {b.name: b.md5_hash for b in bucket.list_blobs(prefix="shards/held/")}
    sorted(data.rglob("*.jpg"))[0].write_bytes(b"broken")
    assert main(["convert", "/dev/null", "--set", f"input.path={data}", "--set", f"output.path={out}",
                 "--overwrite"]) == 2
    assert f"{out} keeps its dataset; this run is held in {out}/.image2tfrecord-tmp-" in capsys.readouterr().err
    after = {b.name: b.md5_hash for b in bucket.list_blobs(prefix="shards/held/")}
    assert {name: md5 for name, md5 in after.items() if "/.image2tfrecord-" not in name} == before
    assert any(name.endswith("/failures.jsonl") and "/.image2tfrecord-tmp-" in name for name in after)
    assert main(["verify", out]) == 0


def test_voc_boxes_coco_and_masks_from_a_bucket(gcs_emulator, tmp_path, capsys):
    """Annotation files and class-index masks in a bucket, as a Dataflow user keeps them: a
    VOC folder, a COCO file and a masks folder are prefixes and objects, not local folders."""
    import numpy as np
    from PIL import Image

    from tests.jobs.test_detection import voc_xml

    root = tmp_path / "set"
    imaging.write(root / "images" / "a.jpg", imaging.encode(imaging.photo((64, 48)), "JPEG"))
    imaging.write(root / "xml" / "a.xml", voc_xml("a.jpg", (64, 48), [("cat", (4, 4, 30, 30))]).encode())
    mask = np.zeros((48, 64), np.uint8)
    mask[4:30, 4:30] = 1
    imaging.write(root / "masks" / "a.png", imaging.encode(Image.fromarray(mask, "L"), "PNG"))
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [4, 4, 26, 26]}],
            "categories": [{"id": 3, "name": "cat"}]}
    (root / "coco.json").write_text(json.dumps(coco))
    upload_tree(root, "annotated")
    base = f"gs://{BUCKET}/annotated"
    for fmt, path in (("voc", f"{base}/xml"), ("coco", f"{base}/coco.json")):
        out = f"gs://{BUCKET}/shards/annotated-{fmt}"
        assert convert(f"input.path={base}/images", f"output.path={out}", f"input.annotations.format={fmt}",
                       f"input.annotations.path={path}", f"input.masks={base}/masks") == 0, capsys.readouterr()
        download_tree(f"shards/annotated-{fmt}", tmp_path / fmt)
        record, = read_split(tmp_path / fmt, "train")
        assert record["image/object/class/text"] == [b"cat"] and "image/segmentation/class/encoded" in record
    assert convert(f"input.path={base}/images", f"output.path=gs://{BUCKET}/shards/nomasks",
                   f"input.masks={base}/no-such-masks") == 2
    assert capsys.readouterr().err.strip() == f"config error: input.masks: {base}/no-such-masks holds no files"
