"""YOLO, as Ultralytics lays it out: a dataset YAML (`path`, `train`/`val`/`test`, `names` as
a list or a map) and a label file per image, found by replacing the last `images` folder
of its path with `labels` and its extension with `.txt`; a line per object:
`class cx cy w h`, normalised to the image, or in a segmentation dataset `class x1 y1 x2 y2 ...`
(a polygon: its box is the points' extent, as Ultralytics takes it for detection)."""
from __future__ import annotations

import posixpath
from typing import Any, Dict, Mapping, Optional

import yaml

from transforms.inputs.annotations.model import AnnotatedObject, Annotation, AnnotationError


def read_dataset_yaml(text: str, yaml_dir: str, where: str = "") -> Dict[str, Any]:
    """{"root": folder, "splits": {split: (folder or listing, ...)}, "names": {id: name}, "keypoints":
    bool}, with `path` resolved against the YAML's folder, as Ultralytics does (a split may name a
    list of folders); `keypoints` when the dataset is a pose one (`kpt_shape`): its lines are a box
    and then keypoints. A name given to two ids is refused: their objects could not be told apart."""
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise AnnotationError(f"{where}: not YAML ({exc})") from None
    names = document.get("names")
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not names:
        raise AnnotationError(f"{where}: needs `names`, a list or a map of class names")
    try:
        classes = {int(k): "" if v is None else str(v) for k, v in names.items()}  # null: blank, refused as such
    except ValueError as exc:
        raise AnnotationError(f"{where}: names: a class id that is not a number ({exc})") from None
    seen: Dict[str, int] = {}
    for number, name in sorted(classes.items()):
        if seen.setdefault(name, number) != number:
            raise AnnotationError(f"{where}: names: {name!r} is class {seen[name]} and class {number}")
    root = str(document.get("path") or "")
    root = _under(yaml_dir, root)
    splits = {}
    for split in ("train", "val", "test"):
        value = document.get(split)
        if value:
            sources = value if isinstance(value, list) else [value]
            splits[split] = tuple(_under(root, str(source)) for source in sources)
    return {"root": root, "splits": splits, "names": classes, "keypoints": "kpt_shape" in document}


def _under(folder: str, path: str) -> str:
    """`path` as Ultralytics resolves it: as it is if absolute (or a URL), else under `folder`."""
    return path if path.startswith("/") or "://" in path else posixpath.normpath(posixpath.join(folder, path))


def label_path(image_path: str) -> str:
    """`.../images/train/a.jpg` -> `.../labels/train/a.txt` (the last `images` folder)."""
    folder, name = posixpath.split(image_path)
    parts = folder.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return posixpath.join("/".join(parts), posixpath.splitext(name)[0] + ".txt")


def read_labels(text: Optional[str], key: str, names: Mapping[int, str], where: str = "",
                keypoints: bool = False) -> Annotation:
    """The Annotation of one label file (None: the image has none, so no objects). A line of more
    than six fields is a polygon (a segmentation dataset), unless the dataset has `keypoints`;
    taken as a box, its first points would make a wrong box without a word. A line of six is
    neither (Ultralytics refuses it; predictions saved with their confidence look so)."""
    objects = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 5:
            raise AnnotationError(f"{where}:{number}: expected `class cx cy w h`, got {line.strip()!r}")
        if len(fields) == 6 and not keypoints:  # Ultralytics refuses it too; read as a box, a field would go unsaid
            raise AnnotationError(f"{where}:{number}: 6 fields; a box is `class cx cy w h`, a polygon `class` and "
                                  "3 or more x y pairs (a prediction's confidence is not a label)")
        polygon = len(fields) > 6 and not keypoints
        if polygon and len(fields) % 2 == 0:
            raise AnnotationError(f"{where}:{number}: a polygon needs x y pairs, got {len(fields) - 1} numbers")
        try:
            class_id = int(float(fields[0]))
            values = [float(v) for v in (fields[1:] if polygon else fields[1:5])]
        except (ValueError, OverflowError):  # OverflowError: int() of infinity
            raise AnnotationError(f"{where}:{number}: not numbers: {line.strip()!r}") from None
        if class_id not in names:
            raise AnnotationError(f"{where}:{number}: class {class_id} is not in the dataset's names")
        if polygon:
            xs, ys = values[0::2], values[1::2]
            box = (min(xs), min(ys), max(xs), max(ys))
        else:
            cx, cy, w, h = values
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        objects.append(AnnotatedObject(label=names[class_id], class_id=class_id, box=box))
    return Annotation(key=key, objects=tuple(objects), normalised=True)
