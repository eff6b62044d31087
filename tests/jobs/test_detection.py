"""Detection datasets end to end: boxes from VOC, COCO and CSV land on the pixels they name,
records parse with the Object Detection API decoder's keys, and what is dropped is counted."""
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from beam_jobs.cli import main
from tests.support import imaging
from tests.support.readback import manifest

RED, GREEN = (220, 30, 30), (30, 200, 40)
SIZE = (200, 120)  # upright
RECTS = {"red": (20, 10, 90, 70), "green": (120, 40, 190, 110)}  # upright pixels

# The keys, kinds and defaults of the Object Detection API's TfExampleDecoder (it is not on PyPI).
OD_API_SPEC = {
    "image/encoded": tf.io.FixedLenFeature((), tf.string, default_value=""),
    "image/format": tf.io.FixedLenFeature((), tf.string, default_value="jpeg"),
    "image/filename": tf.io.FixedLenFeature((), tf.string, default_value=""),
    "image/key/sha256": tf.io.FixedLenFeature((), tf.string, default_value=""),
    "image/source_id": tf.io.FixedLenFeature((), tf.string, default_value=""),
    "image/height": tf.io.FixedLenFeature((), tf.int64, default_value=1),
    "image/width": tf.io.FixedLenFeature((), tf.int64, default_value=1),
    "image/object/bbox/xmin": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/xmax": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/ymin": tf.io.VarLenFeature(tf.float32),
    "image/object/bbox/ymax": tf.io.VarLenFeature(tf.float32),
    "image/object/class/label": tf.io.VarLenFeature(tf.int64),
    "image/object/class/text": tf.io.VarLenFeature(tf.string),
    "image/object/area": tf.io.VarLenFeature(tf.float32),
    "image/object/is_crowd": tf.io.VarLenFeature(tf.int64),
    "image/object/difficult": tf.io.VarLenFeature(tf.int64),
    "image/object/group_of": tf.io.VarLenFeature(tf.int64),
    "image/object/weight": tf.io.VarLenFeature(tf.float32),
}


def picture(orientation=1):
    """The upright picture with two rectangles, stored as a camera would with `orientation`."""
    upright = Image.new("RGB", SIZE, (90, 90, 200))
    upright.paste(RED, RECTS["red"])
    upright.paste(GREEN, RECTS["green"])
    return imaging.with_orientation(upright, orientation, "JPEG")


def records(out, spec=None):
    info = manifest(out)
    files = [str(out / s["file"]) for e in info["splits"].values() for s in e["shards"]]
    found = []
    for raw in tf.data.TFRecordDataset(files):
        parsed = tf.io.parse_single_example(raw, spec or OD_API_SPEC)
        found.append({k: tf.sparse.to_dense(v).numpy() if isinstance(v, tf.SparseTensor) else v.numpy()
                      for k, v in parsed.items()})
    return found


def colour_inside(record, i):
    pixels = np.asarray(Image.open(io.BytesIO(record["image/encoded"])).convert("RGB"), int)
    h, w = pixels.shape[:2]
    x0, x1 = record["image/object/bbox/xmin"][i] * w, record["image/object/bbox/xmax"][i] * w
    y0, y1 = record["image/object/bbox/ymin"][i] * h, record["image/object/bbox/ymax"][i] * h
    inner = pixels[int(np.ceil(y0 + 1.5)):int(y1 - 1.5), int(np.ceil(x0 + 1.5)):int(x1 - 1.5)]
    return inner.reshape(-1, 3).mean(axis=0)


def voc_xml(name, size, objects):
    body = "".join(f"<object><name>{label}</name><pose/><truncated/><difficult/><bndbox><xmin>{b[0]}</xmin>"
                   f"<ymin>{b[1]}.0</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
                   for label, b in objects)
    return (f"<annotation><filename>{name}</filename><size><width>{size[0]}</width><height>{size[1]}</height>"
            f"</size>{body}</annotation>")


def convert(*sets):
    args = ["convert"]
    for item in sets:
        args += ["--set", item]
    return main(args)


def test_voc_boxes_follow_exif_orientation_and_the_crop(tmp_path, capsys):
    images, xmls = tmp_path / "JPEGImages", tmp_path / "Annotations"
    for orientation in (1, 6, 3):
        imaging.write(images / f"o{orientation}.jpg", picture(orientation))
        imaging.write(xmls / f"o{orientation}.xml", voc_xml(f"o{orientation}.jpg", SIZE, RECTS.items()).encode())
    imaging.write(xmls / "stray.xml", voc_xml("stray.jpg", SIZE, []).encode())
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", "input.annotations.format=voc",
                   f"input.annotations.path={xmls}", "image.resize.mode=fill", "image.resize.width=100",
                   "image.resize.height=100", "image.format=png") == 0
    printed = capsys.readouterr()
    assert "annotations: 1 annotation names no image in input.path (paired by file stem and path)" in printed.out
    info = manifest(out)
    assert info["task"] == "detection" and info["labels"] == ["", "green", "red"]
    assert info["splits"]["train"]["classes"] == {"green": 3, "red": 3} and info["frames_guessed"] == 1  # o3: flips
    label_map = "item {\n  id: 1\n  name: 'green'\n}\nitem {\n  id: 2\n  name: 'red'\n}\n"
    assert (out / "label_map.pbtxt").read_text() == label_map
    assert "image/class/label" not in info["features"] and "image/object/bbox/xmin" in info["features"]
    assert not (out / "image.class.label.labels.txt").exists()  # TFDS's ClassLabel names: no such feature here
    for record in records(out):
        for i, text in enumerate(record["image/object/class/text"]):
            colour = colour_inside(record, i)
            expected = RED if text == b"red" else GREEN
            assert np.abs(colour - expected).max() < 20, (record["image/filename"], text, colour)
        assert all(0 <= v <= 1 for k in ("xmin", "ymin", "xmax", "ymax") for v in record[f"image/object/bbox/{k}"])
    # input.labels pins VOC's classes and their order, those without objects included.
    names = tmp_path / "classes.txt"
    names.write_text("red\nblue\ngreen\n")
    pinned = tmp_path / "pinned"
    assert convert(f"input.path={images}", f"output.path={pinned}", "input.annotations.format=voc",
                   f"input.annotations.path={xmls}", f"input.labels={names}") == 0
    assert manifest(pinned)["labels"] == ["", "red", "blue", "green"]
    assert {tuple(r["image/object/class/label"]) for r in records(pinned)} == {(1, 3)}  # red, green
    assert "id: 2\n  name: 'blue'" in (pinned / "label_map.pbtxt").read_text()


def test_coco_ids_crowds_and_images_without_objects(tmp_path, capsys):
    images = tmp_path / "images"
    imaging.write(images / "a.jpg", picture())
    imaging.write(images / "empty.jpg", picture())
    document = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 120},
                   {"id": 2, "file_name": "empty.jpg", "width": 200, "height": 120}],
        "categories": [{"id": 3, "name": "red"}, {"id": 90, "name": "green"}, {"id": 7, "name": "blue"}],
        "annotations": [
            {"image_id": 1, "category_id": 3, "bbox": [20, 10, 70, 60], "iscrowd": 0, "area": 4200},
            {"image_id": 1, "category_id": 90, "bbox": [120, 40, 70, 70], "iscrowd": 1, "area": 4900},
        ],
    }
    instances = tmp_path / "instances.json"
    instances.write_text(json.dumps(document))
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", "input.annotations.format=coco",
                   f"input.annotations.path={instances}") == 0
    by_name = {r["image/filename"]: r for r in records(out)}
    a, empty = by_name[b"a.jpg"], by_name[b"empty.jpg"]
    assert list(a["image/object/class/label"]) == [3, 90] and list(a["image/object/is_crowd"]) == [0, 1]
    assert list(a["image/object/area"]) == pytest.approx([4200, 4900])
    assert len(empty["image/object/bbox/xmin"]) == 0 and empty["image/height"] == 120
    said = capsys.readouterr()
    assert "annotations: 1 image has no annotation (a record with no objects)" not in said.out + said.err  # listed
    assert "id: 90\n  name: 'green'" in (out / "label_map.pbtxt").read_text()
    # A category no object has stays in the label map with its id: a model's classes do not
    # depend on which ones this subset happens to hold.
    assert "id: 7\n  name: 'blue'" in (out / "label_map.pbtxt").read_text()
    # An image with no objects batches with one that has two: padded, not dropped.
    from transforms.readback import ImageRecords, tf_dataset

    counts = sorted(len(o["boxes"]) for _, o in ImageRecords(str(out), "train", features="objects", decode=False))
    assert counts == [0, 2]
    _, batch = next(iter(tf_dataset(str(out), "train", features="objects", batch_size=2)))
    assert batch["boxes"].shape == (2, 2, 4) and sorted(batch["classes"].numpy().sum(axis=1)) == [0, 93]
    assert convert(f"input.path={images}", f"output.path={tmp_path / 'nocrowd'}", "input.annotations.format=coco",
                   f"input.annotations.path={instances}", "input.annotations.crowd=drop") == 0
    assert manifest(tmp_path / "nocrowd")["boxes_dropped"] == {"crowd (annotations.crowd: drop)": 1}


def od_api_label_map_ids(path):
    """The Object Detection API's label_map_util.load_labelmap checks (reproduced: the API does
    not install from PyPI): ids >= 0, and id 0 only for `background`; {name: id}."""
    items = re.findall(r"item \{\n  id: (-?\d+)\n  name: '([^']*)'\n\}", path.read_text())
    for number, name in items:
        assert int(number) >= 0, "Label map ids should be >= 0."
        assert int(number) != 0 or name == "background", "Label map id 0 is reserved for the background label"
    return {name: int(number) for number, name in items}


@pytest.mark.parametrize("categories, used, ids", [
    # labelme's labelme2coco: category 0 is `_background_`, no object has it
    ([(0, "_background_"), (1, "aeroplane"), (2, "cat")], 2, {"aeroplane": 1, "cat": 2}),
    # Label Studio numbers its categories from 0, and objects use 0
    ([(0, "cat"), (1, "dog")], 0, {"cat": 1, "dog": 2}),
])
def test_coco_exports_with_a_category_0_give_a_label_map_the_api_loads(tmp_path, capsys, categories, used, ids):
    """id 0 is the Object Detection API's background: a label map naming another class 0 is
    refused by label_map_util, and a record's class 0 is trained as background."""
    images = tmp_path / "images"
    imaging.write(images / "a.jpg", picture())
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 120}],
                "categories": [{"id": i, "name": name} for i, name in categories],
                "annotations": [{"image_id": 1, "category_id": used, "bbox": [20, 10, 70, 60]}]}
    (tmp_path / "coco.json").write_text(json.dumps(document))
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", "input.annotations.format=coco",
                   f"input.annotations.path={tmp_path / 'coco.json'}") == 0
    assert od_api_label_map_ids(out / "label_map.pbtxt") == ids
    record, = records(out)
    name = dict(categories)[used]
    assert list(record["image/object/class/text"]) == [name.encode()]
    assert list(record["image/object/class/label"]) == [ids[name]]
    assert manifest(out)["labels"][0] == ""  # labels.txt: line 0, the background, is unnamed
    assert main(["verify", str(out)]) == 0
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0  # the classes named, not the unnamed line 0 (it said one more)
    assert capsys.readouterr().out.startswith(f"{out}: 1 records, 0 failed of 1 listed, 2 classes")
    (out / "label_map.pbtxt").unlink()
    assert main(["verify", str(out)]) == 1 and "label_map.pbtxt: missing" in capsys.readouterr().out


def test_csv_boxes_outside_the_image_are_counted_not_lost(tmp_path, capsys):
    images = tmp_path / "images"
    imaging.write(images / "a.jpg", picture())
    imaging.write(images / "renamed.jpg", picture())  # no row names it: a record with no objects, said
    boxes = tmp_path / "boxes.csv"
    boxes.write_text("filename,width,height,class,xmin,ymin,xmax,ymax\n"
                     "a.jpg,200,120,red,20,10,90,70\na.jpg,200,120,ghost,300,300,350,350\n")
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", "input.annotations.format=csv",
                   f"input.annotations.path={boxes}") == 0
    info = manifest(out)
    assert info["boxes_dropped"] == {"outside the output": 1}
    by_name = {r["image/filename"]: r for r in records(out)}
    assert list(by_name[b"a.jpg"]["image/object/class/text"]) == [b"red"]
    assert len(by_name[b"renamed.jpg"]["image/object/class/text"]) == 0
    said = capsys.readouterr()
    assert "annotations: 1 image has no annotation (a record with no objects)" in said.out + said.err


def test_bad_annotation_files_are_failures_or_one_line(tmp_path, capsys):
    images, xmls = tmp_path / "images", tmp_path / "xml"
    imaging.write(images / "a.jpg", picture())
    imaging.write(images / "b.jpg", picture())
    imaging.write(xmls / "a.xml", b"<annotation><object>")
    imaging.write(xmls / "b.xml", voc_xml("b.jpg", SIZE, [("red", RECTS["red"])]).encode())
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", "input.annotations.format=voc",
                   f"input.annotations.path={xmls}", "errors.max_failed_fraction=0.5") == 0
    failure, = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert failure["stage"] == "list" and failure["error"].startswith("AnnotationError:")
    assert "a.xml" in failure["error"]
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    capsys.readouterr()
    assert convert(f"input.path={images}", f"output.path={tmp_path / 'o2'}", "input.annotations.format=coco",
                   f"input.annotations.path={broken}") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("config error: input.annotations.path:") and "not JSON" in err[0]
    assert not (tmp_path / "o2").exists()
    for fmt, name, text in (("csv", "excel.csv", "filename,width,height,class,xmin,ymin,xmax,ymax\n"
                                                "a.jpg,200,120,caf\u00e9,1,1,5,5\n"),  # Excel on Windows: cp1252
                            ("coco", "latin.json", '{"images": [], "categories": [{"id": 1, "name": "caf\u00e9"}]}')):
        (tmp_path / name).write_bytes(text.encode("cp1252"))
        assert convert(f"input.path={images}", f"output.path={tmp_path / 'o3'}", f"input.annotations.format={fmt}",
                       f"input.annotations.path={tmp_path / name}") == 2
        where, read = (f"{tmp_path / name}:2", text.splitlines()[1]) if fmt == "csv" else (tmp_path / name, text)
        at = read.encode("cp1252").index(b"\xe9")  # the line's byte (CSV, read by line), the file's (COCO)
        assert capsys.readouterr().err.strip().splitlines() == [
            f"config error: input.annotations.path: {where}: not UTF-8 text (invalid continuation byte at byte {at}); "
            "save it as UTF-8"]
    two_lines = tmp_path / "two-lines.json"  # category names labels.txt cannot hold as one line
    # a line break; a lone surrogate escape, as json.dumps writes a Latin-1 name (it crashed once every image
    # was converted)
    for name, problem in (("traffic\nlight", "has a line break"),
                          ("caf\udce9", "is not text (a lone surrogate escape)")):
        two_lines.write_text(json.dumps({"images": [], "categories": [{"id": 3, "name": name}]}))
        assert convert(f"input.path={images}", f"output.path={tmp_path / 'o4'}", "input.annotations.format=coco",
                       f"input.annotations.path={two_lines}") == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            f"config error: input.annotations.path: class 3: class name {name!r} {problem}; labels.txt holds one "
            "name a line: rename it in the annotation file"]
        assert not (tmp_path / "o4").exists()
    boxes = tmp_path / "two-lines.csv"  # a quoted class with a line break: the whole file is refused at launch
    boxes.write_text('filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,200,120,"traffic\nlight",1,1,5,5\n')
    assert convert(f"input.path={images}", f"output.path={tmp_path / 'o5'}", "input.annotations.format=csv",
                   f"input.annotations.path={boxes}") == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"config error: input.annotations.path: {boxes}: class name 'traffic\\nlight' has a line break; labels.txt "
        "holds one name a line: rename it"]
    imaging.write(xmls / "a.xml", voc_xml("a.jpg", SIZE, [("traffic&#10;light", RECTS["red"])]).encode())
    assert convert(f"input.path={images}", f"output.path={tmp_path / 'o6'}", "input.annotations.format=voc",
                   f"input.annotations.path={xmls}", "errors.max_failed_fraction=0.5") == 0
    failure, = [json.loads(line) for line in (tmp_path / "o6" / "failures.jsonl").read_text().splitlines()]
    assert failure["uri"].endswith("a.jpg") and "class name 'traffic\\nlight' has a line break" in failure["error"]


def test_a_voc_record_agrees_with_the_object_detection_apis_own_method(tmp_path):
    """create_pascal_tf_record.py, without resizing: xmin = float(bndbox/xmin) / width, the class
    text as named; ours must give the same boxes and texts within 1e-6."""
    images, xmls = tmp_path / "JPEGImages", tmp_path / "Annotations"
    imaging.write(images / "a.jpg", picture())
    objects = [("red", (20.5, 10, 90, 70.25)), ("green", (120, 40, 190, 110))]
    imaging.write(xmls / "a.xml", voc_xml("a.jpg", SIZE, objects).encode())
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", "input.annotations.format=voc",
                   f"input.annotations.path={xmls}", "image.format=original") == 0
    record, = records(out)
    width, height = SIZE
    expected = {"xmin": [b[0] / width for _, b in objects], "ymin": [b[1] / height for _, b in objects],
                "xmax": [b[2] / width for _, b in objects], "ymax": [b[3] / height for _, b in objects]}
    for key, values in expected.items():
        assert list(record[f"image/object/bbox/{key}"]) == pytest.approx(values, abs=1e-6)
    assert list(record["image/object/class/text"]) == [b"red", b"green"]


def one_red_box(tmp_path):
    """A converted dataset of one image with one CSV box (the red rectangle); its folder."""
    images = tmp_path / "images"
    imaging.write(images / "a.jpg", picture())
    boxes = tmp_path / "boxes.csv"
    boxes.write_text("filename,width,height,class,xmin,ymin,xmax,ymax\na.jpg,200,120,red,20,10,90,70\n")
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", "input.annotations.format=csv",
                   f"input.annotations.path={boxes}") == 0
    return out


def test_verify_checks_the_objects(tmp_path, capsys):
    from transforms.readback.image_records import check_objects

    out = one_red_box(tmp_path)
    assert main(["verify", str(out)]) == 0 and "verify passed" in capsys.readouterr().out
    good = {"image/object/bbox/xmin": [0.1], "image/object/bbox/ymin": [0.1], "image/object/bbox/xmax": [0.5],
            "image/object/bbox/ymax": [0.5], "image/object/class/label": [1], "image/object/class/text": [b"red"]}
    assert check_objects(good, frozenset({1})) is None
    assert "not in the label map" in check_objects(good, frozenset({2}))
    assert "not inside [0, 1]" in check_objects({**good, "image/object/bbox/xmax": [1.5]})
    assert "differ in length" in check_objects({**good, "image/object/class/text": []})


def test_preview_draws_the_boxes(tmp_path):
    out = one_red_box(tmp_path)
    sheet = tmp_path / "sheet.png"
    assert main(["preview", str(out), "--output", str(sheet)]) == 0
    outlined = np.asarray(Image.open(sheet).convert("RGB"), int)
    plain = tmp_path / "plain.png"
    from transforms.readback import ImageRecords, contact_sheet

    record = next(iter(ImageRecords(str(out), "train", features="all")))
    contact_sheet([(record["image"], "1 objects")]).save(plain)
    drawn = np.abs(outlined - np.asarray(Image.open(plain).convert("RGB"), int)).sum(axis=2) > 60
    assert 50 < drawn.sum() < 2000  # an outline and its name, not a filled image


def test_a_yolo_dataset_as_ultralytics_lays_it_out(tmp_path):
    root = tmp_path / "datasets" / "shapes"
    for split, names in (("train", ("a", "b", "c")), ("val", ("d",))):
        for name in names:
            imaging.write(root / "images" / split / f"{name}.jpg", picture())
            if name != "c":  # c has no label file: a record with no objects
                w, h = SIZE
                x0, y0, x1, y1 = RECTS["red"]
                line = f"1 {(x0 + x1) / 2 / w} {(y0 + y1) / 2 / h} {(x1 - x0) / w} {(y1 - y0) / h}\n"
                imaging.write(root / "labels" / split / f"{name}.txt", line.encode())
    imaging.write(root / "labels" / "train" / "b.txt", b"7 0.5 0.5 0.1 0.1\n")  # an id not in names
    config = tmp_path / "cfg" / "shapes.yaml"
    imaging.write(config, b"path: ../datasets/shapes\ntrain: images/train\nval: images/val\nnames: [green, red]\n")
    out = tmp_path / "out"
    assert convert(f"output.path={out}", "input.annotations.format=yolo", f"input.annotations.path={config}",
                   "errors.max_failed_fraction=0.5", "image.format=png") == 0
    info = manifest(out)
    assert {s: e["num_examples"] for s, e in info["splits"].items()} == {"train": 2, "validation": 1}
    # ids kept (YOLO 1 is id 2); green has no object here and keeps its id all the same
    assert info["labels"] == ["", "green", "red"] and info["num_failed"] == 1
    assert "id: 1\n  name: 'green'" in (out / "label_map.pbtxt").read_text()
    failure = json.loads((out / "failures.jsonl").read_text())
    assert "class 7 is not in the dataset's names" in failure["error"]
    by_name = {r["image/filename"]: r for r in records(out)}
    assert len(by_name[b"c.jpg"]["image/object/bbox/xmin"]) == 0
    a = by_name[b"a.jpg"]
    assert list(a["image/object/class/label"]) == [2] and list(a["image/object/class/text"]) == [b"red"]
    assert np.abs(colour_inside(a, 0) - RED).max() < 20


def test_a_yolo_dataset_with_class_index_masks(tmp_path, capsys):
    """YOLO boxes and semantic masks in one dataset (as COCO-derived YOLO sets ship them):
    each record has its boxes and its mask, both on the drawn rectangle."""
    root = tmp_path / "shapes"
    for split, name in (("train", "a"), ("train", "b"), ("val", "d")):
        imaging.write(root / "images" / split / f"{name}.jpg", picture(6 if name == "a" else 1))
        w, h = SIZE
        x0, y0, x1, y1 = RECTS["red"]
        imaging.write(root / "labels" / split / f"{name}.txt",
                      f"1 {(x0 + x1) / 2 / w} {(y0 + y1) / 2 / h} {(x1 - x0) / w} {(y1 - y0) / h}\n".encode())
        if name != "b":  # b has no mask: counted
            mask = Image.new("L", SIZE, 0)
            mask.paste(2, RECTS["red"])
            imaging.write(root / "masks" / split / f"{name}.png", imaging.encode(mask, "PNG"))
    imaging.write(root / "data.yaml", b"path: .\ntrain: images/train\nval: images/val\nnames: {0: green, 1: red}\n")
    out = tmp_path / "out"
    assert convert(f"output.path={out}", "input.annotations.format=yolo",
                   f"input.annotations.path={root / 'data.yaml'}", f"input.masks={root / 'masks'}",
                   "image.resize.mode=fill", "image.resize.width=90",
                   "image.resize.height=90") == 0
    assert "masks: 1 image has no mask in input.masks (paired by file stem and path)" in capsys.readouterr().out
    spec = {**OD_API_SPEC, "image/segmentation/class/encoded": tf.io.VarLenFeature(tf.string)}
    by_name = {r["image/filename"]: r for r in records(out, spec)}
    for name in (b"a.jpg", b"d.jpg"):
        record = by_name[name]
        mask = np.asarray(Image.open(io.BytesIO(record["image/segmentation/class/encoded"][0])))
        xmin, xmax = record["image/object/bbox/xmin"][0] * 90, record["image/object/bbox/xmax"][0] * 90
        ymin, ymax = record["image/object/bbox/ymin"][0] * 90, record["image/object/bbox/ymax"][0] * 90
        rows, cols = np.nonzero(mask == 2)
        assert abs(cols.min() - xmin) <= 1 and abs(cols.max() + 1 - xmax) <= 1
        assert abs(rows.min() - ymin) <= 1 and abs(rows.max() + 1 - ymax) <= 1
        assert np.abs(colour_inside(record, 0) - RED).max() < 20
    assert len(by_name[b"b.jpg"]["image/object/bbox/xmin"]) == 1
    # A split may name a list of folders, as Ultralytics takes it (it was "no such images folder")
    imaging.write(root / "list.yaml", b"path: .\ntrain: [images/train, images/val]\nnames: {0: green, 1: red}\n")
    assert convert(f"output.path={tmp_path / 'listed'}", "input.annotations.format=yolo",
                   f"input.annotations.path={root / 'list.yaml'}") == 0
    assert manifest(tmp_path / "listed")["splits"]["train"]["classes"] == {"red": 3}
    # a blank name is named as the YAML numbers it (it said "class 2" of names[1], the id records carry)
    imaging.write(root / "blank.yaml", b"path: .\ntrain: images/train\nnames: [green, null]\n")
    capsys.readouterr()
    assert convert(f"output.path={tmp_path / 'blank'}", "input.annotations.format=yolo",
                   f"input.annotations.path={root / 'blank.yaml'}") == 2
    assert capsys.readouterr().err.strip() == ("config error: input.annotations.path: names[1]: class name '' is "
                                               "blank; labels.txt holds one name a line: rename it in the annotation "
                                               "file")


def test_semantic_masks_ride_with_their_images(tmp_path, capsys):
    images, masks = tmp_path / "JPEGImages", tmp_path / "SegmentationClass"
    for name in ("a", "b", "c"):
        imaging.write(images / f"{name}.jpg", picture(6 if name == "a" else 1))
    for name, size in (("a", SIZE), ("b", (10, 10))):  # b's mask fits neither frame; c has none
        mask = Image.new("P", size, 0)
        mask.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)
        mask.paste(1, RECTS["red"])
        imaging.write(masks / "nested" / f"{name}.png", imaging.encode(mask, "PNG"))
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", f"input.masks={masks}",
                   "image.resize.mode=pad", "image.resize.width=100", "image.resize.height=100",
                   "errors.max_failed_fraction=0.5") == 0
    info = manifest(out)
    assert info["num_examples"] == 2 and info["num_failed"] == 1
    assert "image/segmentation/class/encoded" in info["features"]
    said = capsys.readouterr()
    assert "masks: 1 image has no mask in input.masks (paired by file stem and path)" in said.out + said.err
    failure = json.loads((out / "failures.jsonl").read_text())
    assert failure["uri"].endswith("b.png") and "the mask is 10x10" in failure["error"]
    spec = {"image/encoded": tf.io.FixedLenFeature((), tf.string),
            "image/filename": tf.io.FixedLenFeature((), tf.string),
            "image/segmentation/class/encoded": tf.io.VarLenFeature(tf.string)}
    shards = [str(out / s["file"]) for s in info["splits"]["train"]["shards"]]
    for raw in tf.data.TFRecordDataset(shards):
        parsed = tf.io.parse_single_example(raw, spec)
        encoded = tf.sparse.to_dense(parsed["image/segmentation/class/encoded"]).numpy()
        if parsed["image/filename"].numpy() == b"c.jpg":
            assert len(encoded) == 0  # no mask: none in the record
            continue
        image = np.asarray(Image.open(io.BytesIO(parsed["image/encoded"].numpy())).convert("RGB"), int)
        mask = np.asarray(Image.open(io.BytesIO(encoded[0])))
        assert mask.shape == image.shape[:2] == (100, 100)
        assert set(np.unique(mask)) == {0, 1, 255}  # background, red, letterbox
        red = (image[..., 0] > 150) & (image[..., 1] < 100)
        assert ((mask == 1) == red)[mask != 255].mean() > 0.95
    # input.masks naming no folder is one line at launch (it crashed the job in its first step)
    for path, problem in ((tmp_path / "no-such", "does not exist"), (images / "a.jpg", "is a file, not a folder")):
        assert convert(f"input.path={images}", f"output.path={tmp_path / 'o2'}", f"input.masks={path}") == 2
        assert capsys.readouterr().err.strip() == f"config error: input.masks: {path} {problem}"


def test_coco_instance_masks_follow_their_objects(tmp_path):
    """A polygon (red) and an RLE (green) on an EXIF-rotated photo, letterboxed: each object's
    mask covers its rectangle in the output, and its area is the mask's pixels."""
    from pycocotools import mask as coco_mask

    images = tmp_path / "images"
    imaging.write(images / "a.jpg", picture(6))
    x0, y0, x1, y1 = RECTS["red"]
    green = np.zeros((SIZE[1], SIZE[0]), np.uint8, order="F")
    gx0, gy0, gx1, gy1 = RECTS["green"]
    green[gy0:gy1, gx0:gx1] = 1
    rle = coco_mask.encode(np.asfortranarray(green))
    document = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": SIZE[0], "height": SIZE[1]}],
        "categories": [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}],
        "annotations": [
            {"image_id": 1, "category_id": 1, "bbox": [x0, y0, x1 - x0, y1 - y0], "iscrowd": 0,
             "segmentation": [[x0, y0, x1, y0, x1, y1, x0, y1]]},
            {"image_id": 1, "category_id": 2, "bbox": [gx0, gy0, gx1 - gx0, gy1 - gy0], "iscrowd": 1,
             "segmentation": {"counts": rle["counts"].decode(), "size": [SIZE[1], SIZE[0]]}},
        ],
    }
    instances = tmp_path / "instances.json"
    instances.write_text(json.dumps(document))
    out = tmp_path / "out"
    assert convert(f"input.path={images}", f"output.path={out}", "input.annotations.format=coco",
                   f"input.annotations.path={instances}", "image.resize.mode=pad", "image.resize.width=120",
                   "image.resize.height=120", "image.format=png") == 0
    assert "image/object/mask" in manifest(out)["features"]
    spec = dict(OD_API_SPEC, **{"image/object/mask": tf.io.VarLenFeature(tf.string)})
    raw = next(iter(tf.data.TFRecordDataset([str(out / "train-00000-of-00001.tfrecord")])))
    parsed = {k: tf.sparse.to_dense(v).numpy() if isinstance(v, tf.SparseTensor) else v.numpy()
              for k, v in tf.io.parse_single_example(raw, spec).items()}
    image = np.asarray(Image.open(io.BytesIO(parsed["image/encoded"])).convert("RGB"), int)
    for i, colour in enumerate((RED, GREEN)):
        mask = np.asarray(Image.open(io.BytesIO(parsed["image/object/mask"][i])))
        assert mask.shape == image.shape[:2] == (120, 120)
        painted = np.abs(image - colour).max(axis=2) < 40
        assert (mask.astype(bool) == painted).mean() > 0.98
        assert parsed["image/object/area"][i] == mask.sum()

    # The readers hand the same objects over as arrays: numpy per record, tf.data padded per batch.
    from transforms.readback import ImageRecords, tf_dataset

    pixels, objects = next(iter(ImageRecords(str(out), "train", features="objects")))
    assert objects["boxes"].shape == (2, 4) and list(objects["classes"]) == [1, 2]
    assert objects["texts"] == ["red", "green"] and objects["masks"].shape == (2, 120, 120)
    assert (objects["masks"][0] == np.asarray(Image.open(io.BytesIO(parsed["image/object/mask"][0])))).all()
    ymin, xmin, ymax, xmax = objects["boxes"][0]
    assert np.allclose(objects["boxes"][:, 0], parsed["image/object/bbox/ymin"])
    assert 0 <= ymin < ymax <= 1 and 0 <= xmin < xmax <= 1
    _, batch = next(iter(tf_dataset(str(out), "train", features="objects", batch_size=2)))
    assert batch["boxes"].shape == (1, 2, 4) and list(batch["classes"].numpy()[0]) == [1, 2]


def test_the_bundled_detection_example_converts_and_verifies(tmp_path, capsys):
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "detection"
    assert main(["convert", str(root / "launch" / "detection.yaml"), "--set", f"output.path={out}",
                 "--set", f"input.path={root / 'examples/detection/JPEGImages'}",
                 "--set", f"input.annotations.path={root / 'examples/detection/Annotations'}",
                 "--set", f"input.masks={root / 'examples/detection/SegmentationClass'}"]) == 0
    info = manifest(out)
    assert info["task"] == "detection" and info["num_examples"] == 12 and not info["boxes_dropped"]
    assert main(["verify", str(out)]) == 0


def test_coco_files_per_split_put_their_images_in_that_split(tmp_path, capsys):
    """`annotations.path: {train: train.json, validation: val.json}`, as COCO ships: each file's
    images go to its split, whatever the split rule would say; categories agree across files."""
    images = tmp_path / "images"
    for split, names in (("train", ("a", "b", "c")), ("validation", ("d", "e"))):
        x0, y0, x1, y1 = RECTS["red"]
        categories = [{"id": 1, "name": "red"}, {"id": 2, "name": "green"}]
        document = {"images": [], "annotations": [], "categories": categories}
        for number, name in enumerate(names, 1):
            imaging.write(images / f"{split}2017" / f"{name}.jpg", picture())
            document["images"].append({"id": number, "file_name": f"{name}.jpg", "width": SIZE[0], "height": SIZE[1]})
            document["annotations"].append({"id": number, "image_id": number, "category_id": 1,
                                            "bbox": [x0, y0, x1 - x0, y1 - y0], "iscrowd": 0})
        (tmp_path / f"{split}.json").write_text(json.dumps(document))
    config = tmp_path / "job.yaml"
    config.write_text(f"input:\n  path: {images}\n  annotations:\n    format: coco\n    path: {{train: "
                      f"{tmp_path}/train.json, validation: {tmp_path}/validation.json}}\n"
                      f"output: {{path: {tmp_path / 'out'}}}\n")
    assert main(["convert", str(config)]) == 0
    info = manifest(tmp_path / "out")
    assert {s: e["num_examples"] for s, e in info["splits"].items()} == {"train": 3, "validation": 2}
    assert info["labels"] == ["", "red", "green"]
    from transforms.readback import ImageRecords

    found = {r["image/filename"][0] for r in ImageRecords(str(tmp_path / "out"), "validation", features="all",
                                                          decode=False)}
    assert found == {b"d.jpg", b"e.jpg"}
    capsys.readouterr()
    # A missing split file, and a map for a format that takes one path: one line naming the key, exit 2.
    missing = config.read_text().replace("validation.json", "nope.json").replace("out}", "out2}")
    config.write_text(missing)
    assert main(["convert", str(config)]) == 2
    said = capsys.readouterr().err
    assert "input.annotations.path.validation" in said and "nope.json does not exist" in said
    assert not (tmp_path / "out2").exists()
    config.write_text(missing.replace("format: coco", "format: voc"))
    assert main(["convert", str(config)]) == 2
    assert "a {split: file} map is for COCO" in capsys.readouterr().err


def test_the_plan_counts_what_a_detection_job_then_writes(tmp_path, capsys):
    """--plan joins COCO files per split, masks and a YOLO dataset as the job does: the same
    records per split, objects per class, failures and unpaired files, before any work."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    x0, y0, x1, y1 = RECTS["red"]
    categories = [{"id": 1, "name": "red"}, {"id": 3, "name": "green"}]
    for split, names in (("train", ("a", "b", "c")), ("validation", ("d", "stray"))):
        document = {"images": [], "annotations": [], "categories": categories}
        for number, name in enumerate(names, 1):
            if name != "stray":
                imaging.write(images / f"{name}.jpg", picture())
            document["images"].append({"id": number, "file_name": f"{name}.jpg", "width": SIZE[0], "height": SIZE[1]})
            for category in (1, 3) if name in ("a", "d") else (1,) if name == "b" else ():
                document["annotations"].append({"id": len(document["annotations"]) + 1, "image_id": number,
                                                "category_id": category, "bbox": [x0, y0, x1 - x0, y1 - y0]})
        (tmp_path / f"{split}.json").write_text(json.dumps(document))
    imaging.write(images / "e.jpg", picture())  # in no annotation file: the split rule places it
    for name in ("a", "d", "again/b", "other/b"):  # two for b that fit it equally; a's is its own
        imaging.write(masks / f"{name}.png", imaging.encode(Image.new("L", SIZE, 1), "PNG"))
    imaging.write(masks / "nested" / "a.png", imaging.encode(Image.new("L", SIZE, 1), "PNG"))
    sets = ["--set", f"input.path={images}", "--set", "input.annotations.format=coco", "--set",
            f"input.annotations.path={{train: {tmp_path}/train.json, validation: {tmp_path}/validation.json}}",
            "--set", f"input.masks={masks}", "--set", "errors.max_failed_fraction=1",
            "--set", f"output.path={tmp_path / 'out'}"]
    assert main(["convert", *sets, "--plan"]) == 0
    planned = capsys.readouterr().out
    assert not (tmp_path / "out").exists()
    assert "would fail: 1 (list: DuplicateMask)" in planned
    assert "unpaired: 1 image has no annotation (a record with no objects)" in planned  # e (c: an empty one)
    assert "unpaired: 1 annotation names no image in input.path" in planned  # stray
    assert "unpaired: 2 images have no mask in input.masks" in planned  # c and e
    assert "4 images (2 with no objects), 4 objects in 2 classes:" in planned
    assert "       2  green" in planned and "       2  red" in planned
    assert main(["convert", *sets, "--quiet"]) == 0
    info = manifest(tmp_path / "out")
    for split, entry in info["splits"].items():
        assert f"{split}: {entry['num_examples']} records in {entry['num_shards']} shard" in planned
    assert sum(e["num_examples"] for e in info["splits"].values()) == 4 and info["num_failed"] == 1

    root = tmp_path / "yolo"  # YOLO: its YAML names the images and splits; an unknown id fails
    for split, name, line in (("train", "p", "1 0.5 0.5 0.2 0.2"), ("train", "q", "9 0.5 0.5 0.2 0.2"),
                              ("val", "r", "0 0.5 0.5 0.2 0.2")):
        imaging.write(root / "images" / split / f"{name}.jpg", picture())
        imaging.write(root / "labels" / split / f"{name}.txt", f"{line}\n".encode())
    imaging.write(root / "data.yaml", b"path: .\ntrain: images/train\nval: images/val\nnames: [green, red]\n")
    sets = ["--set", "input.annotations.format=yolo", "--set", f"input.annotations.path={root / 'data.yaml'}",
            "--set", "errors.max_failed_fraction=1", "--set", f"output.path={tmp_path / 'yolo-out'}"]
    assert main(["convert", *sets, "--plan"]) == 0
    planned = capsys.readouterr().out
    assert "would fail: 1 (list: AnnotationError)" in planned and "2 images (0 with no objects), 2 objects" in planned
    assert "train: 1 records" in planned and "validation: 1 records" in planned


@pytest.mark.parametrize("listed", ["folder", "glob", "listing"])
def test_the_local_lookup_sees_every_image_of_a_stem_before_it_pairs_them(tmp_path, capsys, listed):
    """Locally, images not at an annotation's own path are paired when the listing's bundle
    ends, with every image of their stem seen: a bare `1.xml` fits `cats/1.jpg` and
    `dogs/1.jpg` equally, so both fail (had they been paired one by one, the first would have
    taken it). Whatever the input (folder, glob, listing file), the runner lists in one bundle."""
    images, xmls = tmp_path / "images", tmp_path / "xml"
    for name in ("cats/1", "dogs/1", "birds/2", "x/3"):
        imaging.write(images / f"{name}.jpg", picture())
    imaging.write(xmls / "1.xml", voc_xml("1.jpg", SIZE, [("cat", (10, 10, 50, 50))]).encode())
    imaging.write(xmls / "2.xml", voc_xml("2.jpg", SIZE, [("bird", (10, 10, 50, 50))]).encode())
    (tmp_path / "list.txt").write_text("".join(f"{images}/{n}.jpg\n" for n in ("x/3", "cats/1", "birds/2", "dogs/1")))
    source = {"folder": str(images), "glob": f"{images}/*/*.jpg", "listing": str(tmp_path / "list.txt")}[listed]
    assert main(["convert", "--set", f"input.path={source}", "--set", "input.annotations.format=voc",
                 "--set", f"input.annotations.path={xmls}", "--set", "errors.max_failed_fraction=1",
                 "--set", f"output.path={tmp_path / 'out'}", "--quiet"]) == 0
    failed = [json.loads(line) for line in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()]
    assert sorted((f["uri"].split("/images/")[1], f["error"].split(":")[0]) for f in failed) == [
        ("cats/1.jpg", "AmbiguousAnnotation"), ("dogs/1.jpg", "AmbiguousAnnotation")]
    info = manifest(tmp_path / "out")
    assert info["num_examples"] == 2 and info["splits"]["train"]["classes"] == {"bird": 1}


def test_the_command_line_reads_coco_on_another_core_with_the_same_records_and_errors(tmp_path):
    """The command line reads COCO files in forked children while it imports Beam
    (transforms/runtime/forked), one per split's file: the records, and a broken file's one
    line and exit 2, are those of a read in the process (the in-process runs of the tests above)."""
    import subprocess
    import sys

    from tests.support.readback import read_split

    images = tmp_path / "images"
    for name in ("a", "b"):
        imaging.write(images / f"{name}.jpg", picture())
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 120},
                           {"id": 2, "file_name": "b.jpg", "width": 200, "height": 120}],
                "categories": [{"id": 3, "name": "red"}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [20, 10, 70, 60]}]}
    good, broken = tmp_path / "good.json", tmp_path / "broken.json"
    good.write_text(json.dumps(document))
    broken.write_text(json.dumps(document).replace('"width": 200', '"width": NaN', 1))
    (tmp_path / "train.json").write_text(json.dumps({**document, "images": document["images"][:1]}))
    (tmp_path / "val.json").write_text(json.dumps({**document, "images": document["images"][1:], "annotations": [
        {"id": 1, "image_id": 2, "category_id": 3, "bbox": [40, 10, 70, 60]}]}))

    def cli(path, out):
        return subprocess.run([sys.executable, "-m", "beam_jobs.cli", "convert", "--quiet", "--set",
                               f"input.path={images}", "--set", "input.annotations.format=coco", "--set",
                               f"input.annotations.path={path}", "--set", f"output.path={out}"],
                              capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=300)

    done = cli(good, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    boxes = {r["image/filename"][0]: list(r["image/object/bbox/xmin"]) for r in read_split(tmp_path / "out", "train")}
    assert boxes == {b"a.jpg": [pytest.approx(0.1)], b"b.jpg": []}
    done = cli(f"{{train: {tmp_path / 'train.json'}, validation: {tmp_path / 'val.json'}}}", tmp_path / "split")
    assert done.returncode == 0, done.stderr
    assert [list(r["image/object/bbox/xmin"]) for r in read_split(tmp_path / "split", "validation")] == [
        [pytest.approx(0.2)]]  # b.jpg, in the validation file
    done = cli(broken, tmp_path / "broken-out")
    assert done.returncode == 2 and done.stderr.splitlines() == [
        f"config error: input.annotations.path: {broken}: images[0]: ValueError: cannot convert float NaN to integer"]


def test_a_detection_export_with_split_folders_keeps_its_splits(tmp_path, capsys):
    """Roboflow's Pascal VOC export: ROOT/train/x.jpg + x.xml, ROOT/valid/... The folders are
    the splits (they were taken as classes named "train" and "valid", and the split rule
    mixed the sets)."""
    for split, names in (("train", ("a", "b", "c")), ("valid", ("d",))):
        for name in names:
            imaging.write(tmp_path / "export" / split / f"{name}.jpg", picture())
            imaging.write(tmp_path / "export" / split / f"{name}.xml",
                          voc_xml(f"{name}.jpg", SIZE, [("red", RECTS["red"])]).encode())
    assert convert(f"input.path={tmp_path / 'export'}", f"output.path={tmp_path / 'out'}",
                   "input.annotations.format=voc", f"input.annotations.path={tmp_path / 'export'}") == 0
    said = capsys.readouterr().out
    assert "layout split_folders (the folders ['train', 'valid'] are split names, not classes)" in said
    info = manifest(tmp_path / "out")
    assert {s: e["num_examples"] for s, e in info["splits"].items()} == {"train": 3, "valid": 1}
    assert info["labels"] == ["", "red"] and info["splits"]["valid"]["classes"] == {"red": 1}


def test_class_folders_with_annotations_say_the_classes_are_the_objects(tmp_path, capsys):
    """VOC images kept in folders (cats/1.jpg, dogs/2.jpg): the folders name no class in a
    detection dataset, and the classes counted are the objects' (not the background's empty
    id 0): the first and last lines said "taken as its class" and "2 classes" for one."""
    for folder, name in (("cats", "1"), ("dogs", "2")):
        imaging.write(tmp_path / "images" / folder / f"{name}.jpg", picture())
        (tmp_path / "xml").mkdir(exist_ok=True)
        (tmp_path / "xml" / f"{name}.xml").write_text(voc_xml(f"{name}.jpg", SIZE, [("red", RECTS["red"])]))
    assert convert(f"input.path={tmp_path / 'images'}", f"output.path={tmp_path / 'out'}",
                   "input.annotations.format=voc", f"input.annotations.path={tmp_path / 'xml'}") == 0
    said = capsys.readouterr().out
    assert "layout class_folders (every file sits in a subfolder; with annotations the classes are the objects', " \
           "not the folders)" in said
    assert "  labels: 1 class in labels.txt" in said.splitlines()
    assert manifest(tmp_path / "out")["labels"] == ["", "red"]
