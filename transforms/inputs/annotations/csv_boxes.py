"""CSV boxes as the TF Object Detection tutorials write them, one row per box:
`filename,width,height,class,xmin,ymin,xmax,ymax` (pixels, 0-based as those scripts use);
headers in any case, with spaces around them, and other columns besides, as spreadsheets export."""
from __future__ import annotations

import csv
from typing import Dict, Iterable, Iterator, List, Tuple

from transforms.inputs.annotations.model import AnnotatedObject, Annotation, AnnotationError

COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")


def read_csv_boxes(lines: Iterable[str], where: str = "") -> Iterator[Annotation]:
    """One Annotation per file name, its rows' boxes in file order."""
    reader = csv.DictReader(lines)
    if reader.fieldnames:  # `Filename, Width, ...` as spreadsheets export it: the same columns
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise AnnotationError(f"{where}: missing column(s) {', '.join(missing)} (columns: {reader.fieldnames})")
    per_file: Dict[str, Tuple[Tuple[int, int], List[AnnotatedObject]]] = {}
    for row in reader:
        try:
            size = (int(float(row["width"])), int(float(row["height"])))
            box = tuple(float(row[c]) for c in ("xmin", "ymin", "xmax", "ymax"))
        except (TypeError, ValueError, OverflowError):  # OverflowError: int() of infinity
            raise AnnotationError(f"{where}:{reader.line_num}: not numbers in {row}") from None
        name, label = (row["filename"] or "").strip(), (row["class"] or "").strip()
        if not name or not label:  # an empty class would become a class named '' in the label map
            raise AnnotationError(f"{where}:{reader.line_num}: a box needs a filename and a class, got {row}")
        per_file.setdefault(name, (size, []))[1].append(AnnotatedObject(label=label, box=box))  # type: ignore[arg-type]
    for name, (size, objects) in per_file.items():
        yield Annotation(key=name, objects=tuple(objects), size=size, file_name=name)
