"""Pascal VOC XML (labelImg, CVAT, labelme exports): `<filename>`, `<size>`, `<object>`s with
`name`, `bndbox`, `difficult`, `truncated`, `pose`. Coordinates are taken as written (floats
tolerated), as the Object Detection API's create_pascal_tf_record does, so records agree
with the ones its users have; empty tags (`<difficult/>`) read as absent."""
from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from typing import Optional, Union

from transforms.inputs.annotations.model import AnnotatedObject, Annotation, AnnotationError


def _text(node: Optional[ElementTree.Element], tag: str) -> str:
    found = node.find(tag) if node is not None else None
    return (found.text or "").strip() if found is not None else ""


def _flag(node: ElementTree.Element, tag: str) -> bool:
    value = _text(node, tag)
    try:
        return bool(int(float(value))) if value else False
    except (ValueError, OverflowError):
        return value.lower() in ("true", "yes")


def _number(node: ElementTree.Element, tag: str, where: str) -> float:
    value = _text(node, tag)
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):  # "nan" and "inf" are floats to Python, not coordinates
        raise AnnotationError(f"{where}: <{tag}> is {value!r}, not a number")
    return number


def read_voc(xml_text: Union[str, bytes], key: str, where: str = "") -> Annotation:
    """The Annotation of one VOC XML document; `where` names the file in errors. Given bytes, the
    encoding is the one the file declares (UTF-8 when it declares none), as XML says."""
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError as exc:
        raise AnnotationError(f"{where}: not XML ({exc})") from None
    if root.tag != "annotation":  # another XML (an HTML page, CVAT's own format) read as VOC had no objects
        raise AnnotationError(f"{where}: not Pascal VOC (its root is <{root.tag}>, not <annotation>)")
    size_node = root.find("size")
    size = None
    if size_node is not None and _text(size_node, "width") and _text(size_node, "height"):
        width, height = int(_number(size_node, "width", f"{where} <size>")), int(_number(size_node, "height",
                                                                                        f"{where} <size>"))
        size = (width, height) if width > 0 and height > 0 else None  # some tools write 0 x 0
    objects = []
    for number, node in enumerate(root.findall("object")):
        boxes = node.findall("bndbox")  # its own: a <part>'s boxes (VOC's person layout) are not the object's
        here = f"{where} object {number}"
        name = _text(node, "name")
        if not name or not boxes:
            raise AnnotationError(f"{here}: needs <name> and <bndbox>")
        if len(boxes) > 1:  # taking the first, the other would be lost without a word
            raise AnnotationError(f"{here}: {len(boxes)} <bndbox> in one object; a box is an object of its own")
        box = boxes[0]
        xmin, ymin = _number(box, "xmin", here), _number(box, "ymin", here)
        xmax, ymax = _number(box, "xmax", here), _number(box, "ymax", here)
        objects.append(AnnotatedObject(
            label=name, box=(xmin, ymin, xmax, ymax),
            difficult=_flag(node, "difficult"), truncated=_flag(node, "truncated"), view=_text(node, "pose")))
    return Annotation(key=key, objects=tuple(objects), size=size, file_name=_text(root, "filename"))
