"""CSV boxes as the TF Object Detection tutorials write them, one row per box:
`filename,width,height,class,xmin,ymin,xmax,ymax` (pixels, 0-based as those scripts use);
headers in any case, with spaces around them, and other columns besides, as spreadsheets export;
separated by semicolons with decimal commas, as Excel writes CSV in much of Europe, or by tabs."""
from __future__ import annotations

from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from transforms.inputs.annotations.model import AnnotatedObject, Annotation, AnnotationError
from transforms.inputs.csv_text import dict_reader
from transforms.inputs.errors import columns_shown

COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")


def read_csv_boxes(lines: Iterable[str], where: str = "") -> Iterator[Annotation]:
    """One Annotation per file name, its rows' boxes in file order. Rows of one file that give it
    two sizes are refused: its boxes were drawn on two copies of it, and placed in one frame
    some would be wrong. A size of 0 x 0 (some tools write it) is no size."""
    reader, delimiter = dict_reader(lines)
    number = _number_with_decimal_comma if delimiter == ";" else float
    if reader.fieldnames:  # `Filename, Width, ...` as spreadsheets export it: the same columns
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise AnnotationError(f"{where}: missing column(s) {', '.join(missing)} "
                              f"(columns: {columns_shown(reader.fieldnames)})")
    per_file: Dict[str, Tuple[Optional[Tuple[int, int]], int, List[AnnotatedObject]]] = {}
    for row in reader:
        try:
            width, height = int(number(row["width"])), int(number(row["height"]))
            box = tuple(number(row[c]) for c in ("xmin", "ymin", "xmax", "ymax"))
        except (TypeError, ValueError, OverflowError):  # OverflowError: int() of infinity
            raise AnnotationError(f"{where}:{reader.line_num}: not numbers in {row}") from None
        name, label = (row["filename"] or "").strip(), (row["class"] or "").strip()
        if not name or not label:  # an empty class would become a class named '' in the label map
            raise AnnotationError(f"{where}:{reader.line_num}: a box needs a filename and a class, got {row}")
        size = (width, height) if width > 0 and height > 0 else None
        first, line, objects = per_file.setdefault(name, (size, reader.line_num, []))
        if size != first:
            raise AnnotationError(f"{where}:{reader.line_num}: {name} is {_shown(size)} here, {_shown(first)} at "
                                  f"line {line}: its boxes were drawn on two copies of it")
        objects.append(AnnotatedObject(label=label, box=box))  # type: ignore[arg-type]
    for name, (size, _, objects) in per_file.items():
        yield Annotation(key=name, objects=tuple(objects), size=size, file_name=name)


def _number_with_decimal_comma(text: str) -> float:
    return float(text.replace(",", "."))


def _shown(size: Optional[Tuple[int, int]]) -> str:
    return "of no size" if size is None else f"{size[0]}x{size[1]}"
