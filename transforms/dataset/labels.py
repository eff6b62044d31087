"""Label ids and labels.txt: class names to ids, and the file where line i names label i."""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, Iterable, List, Mapping, Optional, Tuple, Union

from transforms.elements import STAGE_LIST, Failure, ImageRef


@dataclasses.dataclass(frozen=True)
class LabelRule:
    """How class names become ids: `names` pins the classes and their order (from
    input.labels; None: the names found, sorted), `offset` is the first id (0, or 1 when id
    0 is background), `pattern` takes the name from the file name (input.label_from).
    `declared` classes keep their ids and stay in the label map even when no object has them
    (a model's class count must not depend on which classes this subset happens to hold)."""

    names: Optional[Tuple[str, ...]] = None
    offset: int = 0
    pattern: Optional[str] = None
    declared: Tuple[Tuple[str, int], ...] = ()  # (name, id) an annotation format lists (COCO categories, YOLO names)

    def ids(self, found: Iterable[str]) -> Dict[str, int]:
        if self.names is not None:
            return {name: i + self.offset for i, name in enumerate(self.names)}
        return label_map(found, self.offset)

    def from_name(self, file_name: str) -> Optional[str]:
        """The label in `file_name` by `pattern` (its group `label`), or None if it does not match."""
        match = re.search(self.pattern, file_name) if self.pattern else None
        return match.group("label") if match else None


def format_ids(declared: Iterable[Tuple[str, int]], used: Mapping[str, int]) -> Dict[str, int]:
    """The ids records carry for a format's own class ids (COCO's categories), `declared` or
    `used` by objects: kept, but id 0 is detection's background (the Object Detection API
    refuses a label map naming another class 0). Where objects use 0 (Label Studio's COCO export
    numbers categories from 0) every id is shifted up by one; a category 0 no object uses
    (labelme's `_background_`, Roboflow's dataset name) is left out."""
    shift = 1 if 0 in used.values() else 0
    return {name: number + shift for name, number in dict(declared, **used).items() if number + shift > 0}


def unwritable(label: str) -> Optional[str]:
    """Why a class name cannot be a line of labels.txt, or None: TFDS and labels.txt readers
    split that file on line breaks and strip each line, so a name with a line break, or of
    spaces only, would shift every later id's name (line i names label i)."""
    if "\n" in label or "\r" in label:
        return f"class name {label!r} has a line break"
    if not label.strip():
        return f"class name {label!r} is blank"
    if not label.isascii():
        try:
            label.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape from JSON or YAML: no file can hold it
            return f"class name {label!r} is not text (a lone surrogate escape)"
    return None


def label_ref(ref: ImageRef, labels: LabelRule, from_folder: bool) -> Union[ImageRef, Failure]:
    """The ref with its label by `labels`, or the `list` Failure saying why it has none: from the
    file name (input.label_from; over a folder's label, not over a listing's), checked against
    pinned names (input.labels), and a name labels.txt can hold. The job and the plan both ask."""
    if labels.pattern and (from_folder or ref.label is None):
        name = ref.uri.rsplit("/", 1)[-1]
        label = labels.from_name(name)
        if label is None:
            return Failure.of(ref.uri, STAGE_LIST, "NoLabel", f"file name {name!r} does not match input.label_from")
        ref = dataclasses.replace(ref, label=label)
    if labels.names is not None and ref.label is not None and ref.label not in labels.names:
        return Failure.of(ref.uri, STAGE_LIST, "UnknownLabel", f"label {ref.label!r} is not in input.labels")
    problem = unwritable(ref.label) if ref.label is not None else None
    if problem:
        return Failure.of(ref.uri, STAGE_LIST, "UnwritableLabel", f"{problem}: labels.txt holds one name a line; "
                                                                  "rename it")
    return ref


def read_label_names(text: str) -> Tuple[str, ...]:
    """A labels file: one class name a line, in id order (blank lines and `#` comments skipped)."""
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def label_map(labels: Iterable[str], offset: int = 0) -> Dict[str, int]:
    """Class name -> label id: sorted names, or the numbers themselves when all are integers."""
    names = sorted(set(labels))
    if names and all(n.isdigit() for n in names):
        return {n: int(n) for n in names}
    return {name: index + offset for index, name in enumerate(names)}


def labels_lines(mapping: Mapping[str, int]) -> List[str]:
    """labels.txt: line i is the name of label i."""
    if not mapping:
        return []
    lines = [""] * (max(mapping.values()) + 1)
    for name, index in mapping.items():
        lines[index] = name
    return lines


def labels_txt(lines: Iterable[str]) -> str:
    """labels.txt's text: a line per label id (what Finalize writes and verify expects)."""
    return "".join(f"{line}\n" for line in lines)


LABEL_MAP = "label_map.pbtxt"


def label_map_pbtxt(mapping: Mapping[str, int]) -> str:
    """The Object Detection API's StringIntLabelMap: an `item` per class, ids as given (1-based)."""
    items = sorted(mapping.items(), key=lambda kv: kv[1])
    escaped = [(name.replace("\\", "\\\\").replace("'", "\\'"), index) for name, index in items]
    return "".join(f"item {{\n  id: {index}\n  name: '{name}'\n}}\n" for name, index in escaped)
