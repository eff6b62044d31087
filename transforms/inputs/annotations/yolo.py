"""YOLO, as Ultralytics lays it out: a dataset YAML (`path`, `train`/`val`/`test`, `names` as
a list or a map) and a label file per image, found by replacing the last `images` folder
of its path with `labels` and its extension with `.txt`; a line per object:
`class cx cy w h`, normalised to the image."""
from __future__ import annotations

import posixpath
from typing import Any, Dict, Mapping, Optional

import yaml

from transforms.inputs.annotations.model import AnnotatedObject, Annotation, AnnotationError


def read_dataset_yaml(text: str, yaml_dir: str, where: str = "") -> Dict[str, Any]:
    """{"root": folder, "splits": {split: folder or listing}, "names": {id: name}}, with
    `path` resolved against the YAML's folder, as Ultralytics does."""
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise AnnotationError(f"{where}: not YAML ({exc})") from None
    names = document.get("names")
    if isinstance(names, list):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not names:
        raise AnnotationError(f"{where}: needs `names`, a list or a map of class names")
    root = str(document.get("path") or "")
    root = root if root.startswith("/") or "://" in root else posixpath.normpath(posixpath.join(yaml_dir, root))
    splits = {}
    for split in ("train", "val", "test"):
        value = document.get(split)
        if value:
            path = str(value)
            splits[split] = path if path.startswith("/") or "://" in path else posixpath.join(root, path)
    return {"root": root, "splits": splits, "names": {int(k): str(v) for k, v in names.items()}}


def label_path(image_path: str) -> str:
    """`.../images/train/a.jpg` -> `.../labels/train/a.txt` (the last `images` folder)."""
    folder, name = posixpath.split(image_path)
    parts = folder.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return posixpath.join("/".join(parts), posixpath.splitext(name)[0] + ".txt")


def read_labels(text: Optional[str], key: str, names: Mapping[int, str], where: str = "") -> Annotation:
    """The Annotation of one label file (None: the image has none, so no objects)."""
    objects = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 5:
            raise AnnotationError(f"{where}:{number}: expected `class cx cy w h`, got {line.strip()!r}")
        try:
            class_id = int(float(fields[0]))
            cx, cy, w, h = (float(v) for v in fields[1:5])
        except (ValueError, OverflowError):  # OverflowError: int() of infinity
            raise AnnotationError(f"{where}:{number}: not numbers: {line.strip()!r}") from None
        if class_id not in names:
            raise AnnotationError(f"{where}:{number}: class {class_id} is not in the dataset's names")
        objects.append(AnnotatedObject(label=names[class_id], class_id=class_id,
                                       box=(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)))
    return Annotation(key=key, objects=tuple(objects), normalised=True)
