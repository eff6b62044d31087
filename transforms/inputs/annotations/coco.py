"""COCO instances JSON: `images` (file_name, width, height), `annotations` (image_id,
category_id, bbox [x, y, w, h] in pixels, iscrowd, area, segmentation as polygons or RLE),
`categories` (id, name; ids need not be contiguous and are kept, from 0 to MAX_CLASS_ID;
without categories, the ids name the classes)."""
from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Mapping, Tuple

import orjson

from transforms.inputs.annotations.model import RLE, AnnotatedObject, Annotation, AnnotationError

MAX_CLASS_ID = 1_000_000  # labels.txt holds a line per id up to the largest (an id of 2**62 ran out of memory)


def categories(document: Mapping[str, Any]) -> Dict[int, str]:
    """{category id: name}, as the file gives them; ValueError for an id out of range, one id
    given two names (which one the objects meant cannot be told), or one name two ids."""
    names: Dict[int, str] = {}
    ids: Dict[str, int] = {}
    for category in document.get("categories", []):
        number, name = class_id(category["id"]), str(category["name"])
        if names.setdefault(number, name) != name:
            raise ValueError(f"id {number} is both {names[number]!r} and {name!r}")
        if ids.setdefault(name, number) != number:  # records name their classes: the two would merge
            raise ValueError(f"{name!r} is both id {ids[name]} and id {number}")
    return names


def class_id(value: Any) -> int:
    """A category id; ValueError unless 0 to MAX_CLASS_ID (the Object Detection API refuses ids
    below 0, and labels.txt holds a line per id)."""
    number = int(value)
    if not 0 <= number <= MAX_CLASS_ID:
        raise ValueError(f"category id {number} is not between 0 and {MAX_CLASS_ID:,}")
    return number


def _undeclared(category: int, names: Mapping[int, str]) -> str:
    """The class name of an object whose category_id the categories do not list: an error
    where there are categories (a file cut down by hand; its boxes would become a class named
    by a number), the id itself where the file lists none."""
    if names:
        raise ValueError(f"category_id {category} is not one of the categories")
    return str(class_id(category))


def _segmentation(value: Any) -> Tuple[Tuple[Tuple[float, ...], ...], Any]:
    if isinstance(value, list):  # polygons
        if any(len(polygon) % 2 for polygon in value):
            raise ValueError("a polygon of an odd number of coordinates (x y pairs are due)")
        return tuple(tuple(float(v) for v in polygon) for polygon in value if len(polygon) >= 6), None
    if isinstance(value, dict) and "counts" in value and "size" in value:
        height, width = (int(v) for v in value["size"])
        counts = value["counts"] if isinstance(value["counts"], str) else tuple(int(c) for c in value["counts"])
        return (), RLE(counts, height, width)
    # anything else (a string, an RLE without its size) left the object without its mask, unsaid
    raise ValueError(f"segmentation is neither polygons nor an RLE with counts and size: {str(value)[:60]!r}")


def load_document(text: str, where: str = "") -> Dict[str, Any]:
    """The parsed COCO file; AnnotationError if it is not a JSON object or its categories are unusable."""
    try:
        document = orjson.loads(text)  # 3x json's speed (docs/performance.md, Annotations)
    except orjson.JSONDecodeError:  # strict JSON only: json also takes NaN, and names the problem as before
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise AnnotationError(f"{where}: not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise AnnotationError(f"{where}: not a COCO file (a JSON {type(document).__name__}, not an object)")
    try:
        categories(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnnotationError(f"{where}: categories: {type(exc).__name__}: {exc}") from None
    return document


def read_coco(text: str, where: str = "") -> Iterator[Annotation]:
    """One Annotation per image of the document (images without annotations: no objects),
    keyed by `file_name`."""
    return annotations_of(load_document(text, where), where)


def annotations_of(document: Mapping[str, Any], where: str = "") -> Iterator[Annotation]:
    """read_coco over a document already loaded."""
    names = categories(document)
    per_image: Dict[int, List[AnnotatedObject]] = {}
    for number, item in enumerate(document.get("annotations", [])):
        try:  # positional and without generators: this loop is most of reading a large file
            x, y, w, h = map(float, item["bbox"])
            category = int(item["category_id"])
            shape = item.get("segmentation")
            polygons, rle = _segmentation(shape) if shape else ((), None)
            label = names[category] if category in names else _undeclared(category, names)
            area = float(item["area"]) if "area" in item else None
            obj = AnnotatedObject._make((label, (x, y, x + w, y + h), category, int(item.get("iscrowd", 0)) != 0,
                                         False, False, "", polygons, rle, area))
            image = int(item["image_id"])
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise AnnotationError(f"{where}: annotations[{number}]: {type(exc).__name__}: {exc}") from None
        per_image.setdefault(image, []).append(obj)
    images, ids = [], set()
    for number, image in enumerate(document.get("images", [])):
        try:
            size = (int(image["width"]), int(image["height"])) if image.get("width") and image.get("height") else None
            key, image_id = str(image["file_name"]), int(image["id"])
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # NaN or infinity too: json reads them
            raise AnnotationError(f"{where}: images[{number}]: {type(exc).__name__}: {exc}") from None
        if image_id in ids:
            raise AnnotationError(f"{where}: images[{number}]: id {image_id} is another image's too")
        ids.add(image_id)
        objects = tuple(per_image.pop(image_id, ()))
        images.append(Annotation(key=key, objects=objects, size=size, file_name=key))
    if per_image:  # objects of no image: they would be lost without a word
        lost = sorted(per_image)
        raise AnnotationError(f"{where}: {sum(map(len, per_image.values()))} annotations name image_id "
                              f"{', '.join(map(str, lost[:5]))}{', ...' if len(lost) > 5 else ''}, not in images")
    yield from images
