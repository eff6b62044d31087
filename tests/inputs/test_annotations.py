"""The annotation readers on generated files: the quirks real exports have, and one line
naming the file and place for what cannot be read."""
import json
import pickle

import pytest

from transforms.inputs.annotations.coco import read_coco
from transforms.inputs.annotations.csv_boxes import read_csv_boxes
from transforms.inputs.annotations.model import RLE, AnnotatedObject, Annotation, AnnotationError, PackedAnnotation
from transforms.inputs.annotations.voc import read_voc
from transforms.inputs.annotations.yolo import label_path, read_dataset_yaml, read_labels

VOC = """<annotation>
  <filename>2011_000003.jpg</filename>
  <size><width>500</width><height>338</height><depth>3</depth></size>
  <object><name>person</name><pose/><truncated/><difficult/>
    <bndbox><xmin>191.0</xmin><ymin>107.5</ymin><xmax>313</xmax><ymax>338</ymax></bndbox></object>
  <object><name>dog</name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>20</ymax></bndbox></object>
</annotation>"""


def test_voc_as_labelme_and_labelimg_write_it():
    annotation = read_voc(VOC, "2011_000003.jpg", "a.xml")
    assert annotation.size == (500, 338) and annotation.file_name == "2011_000003.jpg"
    person, dog = annotation.objects
    assert person.label == "person" and person.box == (191.0, 107.5, 313.0, 338.0)  # as written
    assert (person.difficult, person.truncated, person.view) == (False, False, "")  # empty tags
    assert dog.box == (1.0, 1.0, 10.0, 20.0) and dog.truncated and dog.view == "Left"


@pytest.mark.parametrize("text, says", [
    ("<annotation><object>", "a.xml: not XML"),
    ("<annotation><object><name>x</name></object></annotation>", "a.xml object 0: needs <name> and <bndbox>"),
    ("<annotation><object><name>x</name><bndbox><xmin>a</xmin></bndbox></object></annotation>",
     "a.xml object 0: <xmin> is 'a', not a number"),
    ("<html><body><object><name>x</name></object></body></html>",  # it was an image with no objects
     "a.xml: not Pascal VOC \\(its root is <html>, not <annotation>\\)"),
    ("<annotation><object><name>x</name>" + 2 * ("<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax>"
                                                  "</bndbox>") + "</object></annotation>",
     "a.xml object 0: 2 <bndbox> in one object"),  # which is its box?
])
def test_voc_errors_name_the_file_and_object(text, says):
    with pytest.raises(AnnotationError, match=says):
        read_voc(text, "k", "a.xml")


def test_coco_polygons_rle_crowds_and_noncontiguous_ids():
    document = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 256, "height": 256},
                   {"id": 9, "file_name": "empty.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "screw"}, {"id": 90, "name": "toothbrush"}],
        "annotations": [
            {"image_id": 7, "category_id": 90, "bbox": [10, 20, 30, 40], "iscrowd": 0, "area": 1000.5,
             "segmentation": [[10, 20, 40, 20, 40, 60], [1, 2]]},
            {"image_id": 7, "category_id": 1, "bbox": [0, 0, 5, 5], "iscrowd": 1,
             "segmentation": {"counts": [0, 3, 7], "size": [2, 5]}},
        ],
    }
    a, empty = read_coco(json.dumps(document), "instances.json")
    assert a.key == "a.jpg" and a.size == (256, 256) and empty.objects == ()
    brush, crowd = a.objects
    assert (brush.label, brush.class_id, brush.box, brush.area) == ("toothbrush", 90, (10.0, 20.0, 40.0, 60.0), 1000.5)
    assert brush.polygons == ((10.0, 20.0, 40.0, 20.0, 40.0, 60.0),)  # a two-number "polygon" is dropped
    assert crowd.crowd and crowd.rle == RLE((0, 3, 7), 2, 5)


@pytest.mark.parametrize("categories, annotation, says", [
    ([{"id": -3, "name": "a"}], None, "categories: ValueError: category id -3 is not between 0 and 1,000,000"),
    ([{"id": 2**62, "name": "a"}], None, "categories: ValueError: category id 4611686018427387904 is not between"),
    ([{"id": 1, "name": "cat"}, {"id": 1, "name": "dog"}], None,
     "categories: ValueError: id 1 is both 'cat' and 'dog'"),
    ([{"id": 1, "name": "cat"}, {"id": 2, "name": "cat"}], None,  # it said "id 2 here, 1 in another split's file"
     "categories: ValueError: 'cat' is both id 1 and id 2"),
    ([{"id": 1, "name": "cat"}], 99, r"annotations\[0\]: ValueError: category_id 99 is not one of the categories"),
    ([], -1, r"annotations\[0\]: ValueError: category id -1 is not between 0"),
])
def test_coco_category_ids_that_cannot_serve(categories, annotation, says):
    """An id below 0 (the Object Detection API refuses it) or of 2**62 (labels.txt holds a line
    per id: it ran out of memory when the job wrote it), one id named twice, an object of a
    category the file does not list (it became a class named "99"): one line naming the place."""
    objects = [{"image_id": 1, "category_id": annotation, "bbox": [1, 1, 2, 2]}] if annotation is not None else []
    text = json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": objects, "categories": categories})
    with pytest.raises(AnnotationError, match="c.json: " + says):
        list(read_coco(text, "c.json"))


def test_coco_crowd_flags_and_undeclared_ids():
    """iscrowd as a string ("0" is not a crowd); without categories the ids name the classes."""
    objects = [{"image_id": 1, "category_id": 4, "bbox": [1, 1, 2, 2], "iscrowd": flag} for flag in ("0", "1", 0, 1)]
    text = json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": objects})
    a, = read_coco(text, "c.json")
    assert [o.crowd for o in a.objects] == [False, True, False, True] and {o.label for o in a.objects} == {"4"}


def test_format_ids_keep_a_formats_ids_but_never_give_a_class_id_0():
    """0 is detection's background: the Object Detection API refuses a label map naming another
    class 0. Categories from 0 that objects use (Label Studio) move up by one; an unused category
    0 (labelme's _background_) is left out; other ids are kept as they are."""
    from transforms.dataset.labels import format_ids

    assert format_ids([("_background_", 0), ("cat", 1), ("dog", 17)], {"cat": 1}) == {"cat": 1, "dog": 17}
    assert format_ids([("cat", 0), ("dog", 1)], {"cat": 0}) == {"cat": 1, "dog": 2}
    assert format_ids([], {"dog": 5}) == {"dog": 5}


def test_coco_errors_name_the_annotation():
    with pytest.raises(AnnotationError, match=r"c.json: annotations\[0\]: KeyError"):
        list(read_coco(json.dumps({"images": [], "annotations": [{"image_id": 1}]}), "c.json"))


def test_yolo_dataset_yaml_labels_and_paths():
    spec = read_dataset_yaml("path: ../datasets/coco8\ntrain: images/train\nval: images/val\n"
                             "names:\n  0: person\n  1: bicycle\n", "/data/cfg", "coco8.yaml")
    assert spec["root"] == "/data/datasets/coco8" and spec["names"] == {0: "person", 1: "bicycle"}
    assert spec["splits"] == {"train": ("/data/datasets/coco8/images/train",),
                              "val": ("/data/datasets/coco8/images/val",)}
    assert read_dataset_yaml("names: [a, b]\n", "/d")["names"] == {0: "a", 1: "b"}
    listed = read_dataset_yaml("train: [images/a, /abs/b]\nnames: [a]\n", "/d")  # Ultralytics takes lists too
    assert listed["splits"] == {"train": ("/d/images/a", "/abs/b")}
    with pytest.raises(AnnotationError, match="bad.yaml: names: 'cat' is class 0 and class 2"):
        read_dataset_yaml("names: [cat, dog, cat]\n", "/d", "bad.yaml")  # class 0's objects were class 2's
    assert read_dataset_yaml("names: [null, dog]\n", "/d")["names"] == {0: "", 1: "dog"}  # blank: refused at launch
    assert label_path("/d/images/train/images/x.jpeg") == "/d/images/train/labels/x.txt"
    annotation = read_labels("0 0.5 0.5 0.2 0.4\n\n1 0.1 0.1 0.2 0.2\n", "x.jpg", spec["names"])
    assert annotation.normalised and [o.label for o in annotation.objects] == ["person", "bicycle"]
    assert annotation.objects[0].box == pytest.approx((0.4, 0.3, 0.6, 0.7))
    assert read_labels(None, "y.jpg", spec["names"]).objects == ()  # no label file: no objects
    with pytest.raises(AnnotationError, match="x.txt:1: class 5 is not in the dataset's names"):
        read_labels("5 0.5 0.5 0.1 0.1\n", "x.jpg", spec["names"], "x.txt")
    with pytest.raises(AnnotationError, match="needs `names`"):
        read_dataset_yaml("train: images\n", "/d", "bad.yaml")


def test_csv_boxes_as_the_tutorials_write_them():
    lines = ["filename,width,height,class,xmin,ymin,xmax,ymax\n", "a.jpg,640,480,cat,10,20,110,220\n",
             "b.jpg,64,48,dog,1,2,3,4\n", "a.jpg,640,480,dog,0,0,5,5\n"]
    a, b = read_csv_boxes(lines, "boxes.csv")
    assert a.key == "a.jpg" and a.size == (640, 480) and [o.label for o in a.objects] == ["cat", "dog"]
    assert b.objects[0].box == (1.0, 2.0, 3.0, 4.0)
    with pytest.raises(AnnotationError, match="boxes.csv: missing column"):
        list(read_csv_boxes(["filename,class\n"], "boxes.csv"))
    spreadsheet = ["Filename, Width, Height, Class, Xmin, Ymin, Xmax, Ymax, Score\n",
                   "a.jpg, 640, 480, cat, 10, 20, 110, 220, 1\n"]
    c, = read_csv_boxes(spreadsheet, "export.csv")  # headers capitalised, spaces after the commas, a column more
    assert c.key == "a.jpg" and c.size == (640, 480) and c.objects[0].label == "cat"
    assert c.objects[0].box == (10.0, 20.0, 110.0, 220.0)


def test_csv_boxes_as_european_excel_and_tabs_write_them_and_sizes_that_disagree():
    """Excel in much of Europe separates with semicolons and writes decimal commas (it was a
    config error naming every column as missing); tabs too. One file's rows giving two sizes
    was read with the first, and the others' boxes placed in the wrong frame."""
    european = ["filename;width;height;class;xmin;ymin;xmax;ymax\n", "a.jpg;640;480;cat, big;10,5;20;110;220\n"]
    tabbed = ["filename\twidth\theight\tclass\txmin\tymin\txmax\tymax\n",
              "a.jpg\t640\t480\tcat, big\t10.5\t20\t110\t220\n"]
    for lines in (european, tabbed):
        a, = read_csv_boxes(lines, "boxes.csv")
        assert a.size == (640, 480) and a.objects[0].label == "cat, big" and a.objects[0].box == (10.5, 20, 110, 220)
    two = ["filename,width,height,class,xmin,ymin,xmax,ymax\n", "a.jpg,64,48,cat,1,2,30,40\n",
           "b.jpg,64,48,cat,1,2,30,40\n", "a.jpg,640,480,dog,1,2,30,40\n"]
    with pytest.raises(AnnotationError, match="boxes.csv:4: a.jpg is 640x480 here, 64x48 at line 2"):
        list(read_csv_boxes(two, "boxes.csv"))
    zero, = read_csv_boxes(["filename,width,height,class,xmin,ymin,xmax,ymax\n", "a.jpg,0,0,cat,1,2,3,4\n"])
    assert zero.size is None  # as some tools write "no size", and VOC's 0 x 0 is read


def test_a_packed_annotation_knows_its_classes_with_and_without_its_packing():
    """The facts read an annotation's classes where it was packed, and from its bytes after a
    grouping: both say the same (last id of a name wins, shapes seen)."""
    objects = (AnnotatedObject("cat", (0, 0, 1, 1), 17), AnnotatedObject("dog", (0, 0, 2, 2)),
               AnnotatedObject("cat", (1, 1, 2, 2), 18, polygons=((0, 0, 1, 0, 1, 1),)))
    packed = PackedAnnotation.of(Annotation("k", objects))
    travelled = pickle.loads(pickle.dumps(packed))
    assert travelled == packed and travelled.unpack() == packed.unpack()
    for classes in (packed.classes(), travelled.classes()):
        assert classes.labels == {"cat", "dog"} and classes.ids == (("cat", 18),) and classes.shapes
    plain = PackedAnnotation.of(Annotation("k", objects[:2]))
    assert not pickle.loads(pickle.dumps(plain)).classes().shapes and not plain.classes().shapes


@pytest.mark.parametrize("image, annotation, where", [
    ('{"id": 1, "file_name": "a.jpg", "width": NaN, "height": 48}',
     '{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}', r"images\[0\]: ValueError"),
    ('{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}',
     '{"image_id": 1, "category_id": Infinity, "bbox": [1, 1, 2, 2]}', r"annotations\[0\]: OverflowError"),
    ('{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}',
     '{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "segmentation": [[1, 1, 5, 1, 5, 5, 1]]}',
     r"annotations\[0\]: ValueError: a polygon of an odd number of coordinates"),
    ('{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}',  # the object lost its mask without a word
     '{"image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "segmentation": {"counts": [0, 4]}}',
     r"annotations\[0\]: ValueError: segmentation is neither polygons nor an RLE with counts and size"),
])
def test_coco_values_that_cannot_serve_are_named_with_their_place(image, annotation, where):
    """Python's json (the fallback for what orjson refuses) reads NaN and Infinity: where an
    integer is due, the file and the place are named, as for any other unusable value (a
    polygon of an odd number of coordinates too)."""
    text = f'{{"images": [{image}], "annotations": [{annotation}], "categories": [{{"id": 1, "name": "c"}}]}}'
    with pytest.raises(AnnotationError, match=r"c.json: " + where):
        list(read_coco(text, "c.json"))


CSV_HEAD = "filename,width,height,class,xmin,ymin,xmax,ymax"


@pytest.mark.parametrize("read, where", [
    (lambda: list(read_csv_boxes([CSV_HEAD, "a.jpg,inf,10,c,1,1,2,2"], "b.csv")), r"b.csv:2: not numbers"),
    (lambda: read_voc("<annotation><size><width>nan</width><height>5</height></size></annotation>", "k", "x.xml"),
     r"x.xml <size>: <width> is 'nan', not a number"),
    (lambda: read_voc("<annotation><object><name>a</name><bndbox><xmin>inf</xmin><ymin>1</ymin><xmax>3</xmax>"
                      "<ymax>3</ymax></bndbox></object></annotation>", "k", "x.xml"),
     r"x.xml object 0: <xmin> is 'inf', not a number"),
    (lambda: read_labels("inf 0.5 0.5 0.1 0.1", "k", ["a"], "l.txt"), r"l.txt:1: not numbers"),
    (lambda: list(read_csv_boxes([CSV_HEAD, "a.jpg,64,48, ,1,1,2,2"], "b.csv")),
     r"b.csv:2: a box needs a filename and a class"),
])
def test_nan_and_infinity_in_voc_csv_and_yolo_are_named(read, where):
    """Python reads "nan" and "inf" as floats: each reader names the file and the place instead
    of letting a ValueError or OverflowError (int() of infinity) through; a CSV row without a class
    is named too (it made a class called '')."""
    with pytest.raises(AnnotationError, match=where):
        read()


def test_voc_files_are_read_in_the_encoding_they_declare(tmp_path):
    """labelImg on Windows writes Latin-1 with its declaration: read as declared, not refused
    (decoded as UTF-8, one such file stopped the whole job)."""
    from transforms.runtime.annotation_files import packed_items

    xml = ('<?xml version="1.0" encoding="ISO-8859-1"?><annotation><filename>a.jpg</filename>'
           "<object><name>caf\u00e9</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>3</ymax>"
           "</bndbox></object></annotation>")
    (tmp_path / "a.xml").write_bytes(xml.encode("latin-1"))
    (tmp_path / "b.xml").write_bytes(xml.replace("ISO-8859-1", "UTF-8").encode("utf-8"))
    (tmp_path / "c.xml").write_bytes(b"<annotation><object><name>\xe9</name></object></annotation>")  # no declaration
    found = {name: item for _, (name, item) in packed_items(("voc", str(tmp_path), ""))}
    assert [o.label for o in found["a.xml"][1].unpack().objects] == ["caf\u00e9"]
    assert [o.label for o in found["b.xml"][1].unpack().objects] == ["caf\u00e9"]
    assert isinstance(found["c.xml"], str) and "c.xml" in found["c.xml"] and "not XML" in found["c.xml"]


def test_items_whose_names_are_not_utf8_wait_unpaired_under_a_key_no_image_has(tmp_path):
    """A Latin-1 XML or mask file name (or a COCO file_name with a lone surrogate escape) can
    pair with no image (such images fail as NameNotUtf8), and Beam's coders carry only UTF-8:
    the distributed join crashed on one. It is an unpaired item, its name escaped."""
    import json
    import os

    from transforms.runtime.annotation_files import UNPAIRABLE, mask_files, packed_items

    xml = "<annotation><filename>x.jpg</filename></annotation>"
    (tmp_path / "xml").mkdir()
    for name in (b"ok.xml", b"caf\xe9.xml"):
        with open(os.fsencode(tmp_path / "xml") + b"/" + name, "w") as handle:
            handle.write(xml)
    found = dict(packed_items(("voc", str(tmp_path / "xml"), "")))
    assert set(found) == {"ok", UNPAIRABLE} and found[UNPAIRABLE] == ("caf\\xe9.xml", "its name is not UTF-8")
    coco = {"images": [{"id": 1, "file_name": "caf\udce9.jpg", "width": 4, "height": 4}], "annotations": [],
            "categories": [{"id": 1, "name": "a"}]}
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    assert [key for key, _ in packed_items(("coco", str(tmp_path / "coco.json"), ""))] == [UNPAIRABLE]
    (tmp_path / "masks").mkdir()
    with open(os.fsencode(tmp_path / "masks") + b"/caf\xe9.png", "wb") as handle:
        handle.write(b"")
    shown = ("caf\\xe9.png", f"{tmp_path}/masks/caf\\xe9.png")
    assert list(mask_files(str(tmp_path / "masks"))) == [(UNPAIRABLE, shown)]


def test_yolo_segmentation_lines_are_boxes_of_their_polygons():
    """Ultralytics segmentation labels are `class x1 y1 x2 y2 ...`: the box is the polygon's
    extent (read as `class cx cy w h`, its first points made a wrong box without a word); a
    pose dataset's lines are a box and then keypoints."""
    names = {0: "a", 1: "b"}
    line = "1 0.1 0.2 0.5 0.25 0.4 0.8 0.15 0.6\n0 0.5 0.5 0.2 0.4\n"
    segment, box = read_labels(line, "x.jpg", names, "x.txt").objects
    assert segment.label == "b" and segment.box == pytest.approx((0.1, 0.2, 0.5, 0.8))
    assert box.box == pytest.approx((0.4, 0.3, 0.6, 0.7))
    pose = read_labels("0 0.5 0.5 0.2 0.4 0.45 0.5 2 0.55 0.5 2", "x.jpg", names, "x.txt", keypoints=True)
    assert pose.objects[0].box == pytest.approx((0.4, 0.3, 0.6, 0.7))
    assert read_dataset_yaml("names: [a]\nkpt_shape: [17, 3]\n", "/d")["keypoints"]
    with pytest.raises(AnnotationError, match=r"x.txt:1: a polygon needs x y pairs, got 7 numbers"):
        read_labels("0 0.1 0.2 0.5 0.25 0.4 0.8 0.15", "x.jpg", names, "x.txt")
    with pytest.raises(AnnotationError, match=r"x.txt:2: 6 fields; a box is `class cx cy w h`"):
        read_labels("0 0.5 0.5 0.2 0.4\n1 0.5 0.5 0.2 0.4 0.93\n", "x.jpg", names, "x.txt")  # a confidence


def test_coco_annotations_of_no_image_and_images_sharing_an_id_are_named():
    """Objects whose image_id no image has would be lost without a word; two images with one id
    would share (or lose) objects: both are named."""
    categories = '"categories": [{"id": 1, "name": "c"}]'
    lost = ('{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [{"image_id": 1, "category_id": 1, '
            '"bbox": [1, 1, 2, 2]}, {"image_id": 7, "category_id": 1, "bbox": [1, 1, 2, 2]}], ' + categories + "}")
    with pytest.raises(AnnotationError, match=r"c.json: 1 annotations name image_id 7, not in images"):
        list(read_coco(lost, "c.json"))
    twice = ('{"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"}], "annotations": [], '
             + categories + "}")
    with pytest.raises(AnnotationError, match=r"c.json: images\[1\]: id 1 is another image's too"):
        list(read_coco(twice, "c.json"))


def test_a_byte_order_mark_is_not_content(tmp_path):
    """Windows tools start UTF-8 files with a byte-order mark: COCO and YOLO files read as without
    (every text file is read through `files.read_text`, which drops it)."""
    from transforms.storage import files

    coco, labels = tmp_path / "c.json", tmp_path / "x.txt"
    coco.write_bytes('\ufeff{"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": [], '
                     '"categories": []}'.encode("utf-8"))
    labels.write_bytes("\ufeff0 0.5 0.5 0.2 0.4".encode("utf-8"))
    assert list(read_coco(files.read_text(str(coco)), "c.json"))[0].key == "a.jpg"
    assert read_labels(files.read_text(str(labels)), "x.jpg", {0: "a"}, "x.txt").objects[0].label == "a"


def test_a_yolo_label_file_that_is_not_utf8_fails_its_image_naming_the_file(tmp_path):
    from transforms.elements import Failure
    from transforms.runtime.annotation_files import yolo_refs

    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "images" / "a.jpg").write_bytes(b"")
    (tmp_path / "labels" / "a.txt").write_bytes("0 0.5 0.5 0.2 0.2 # caf\u00e9\n".encode("cp1252"))
    (tmp_path / "data.yaml").write_text("path: .\ntrain: images\nnames: [x]\n")
    failure, = yolo_refs(str(tmp_path / "data.yaml"), (".jpg",))
    assert isinstance(failure, Failure) and failure.error == (
        f"AnnotationError: {tmp_path}/labels/a.txt: not UTF-8 text (invalid continuation byte at byte 23); "
        "save it as UTF-8")


def test_a_yolo_image_whose_name_is_not_utf8_fails_naming_it_escaped(tmp_path):
    import os

    from transforms.elements import Failure
    from transforms.runtime.annotation_files import yolo_refs

    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "b.jpg").write_bytes(b"")
    with open(os.fsencode(tmp_path / "images") + b"/caf\xe9.jpg", "wb"):
        pass
    (tmp_path / "data.yaml").write_text("path: .\ntrain: images\nnames: [x]\n")
    found = sorted(yolo_refs(str(tmp_path / "data.yaml"), (".jpg",)), key=lambda item: isinstance(item, Failure))
    assert [ref.key for ref in found[:-1]] == ["images/b.jpg"]
    assert found[-1].uri == f"{tmp_path}/images/caf\\xe9.jpg" and found[-1].error.startswith("NameNotUtf8:")
