"""Listing files: .txt (a path a line), .csv (a header with `path`) and .jsonl rows, each
with optional `label`, `split` and extra fields kept as features."""
from __future__ import annotations

import csv
import json
from typing import Iterable, Iterator, Mapping, Optional, Tuple, Union

from transforms.elements import ImageRef
from transforms.inputs.errors import ListingError
from transforms.inputs.paths import join_path
from transforms.records.features import RESERVED_PREFIX

LISTING_SUFFIXES = (".txt", ".csv", ".jsonl")


def is_listing_file(path: str) -> bool:
    return path.lower().endswith(LISTING_SUFFIXES)


Row = Mapping[str, object]


def listing_rows(text_lines: Iterable[str], suffix: str) -> Iterator[Tuple[int, Union[Row, ListingError]]]:
    """(line number, row or error) for each entry of a .txt, .csv or .jsonl listing."""
    if suffix == ".csv":
        reader = csv.DictReader(text_lines)
        if reader.fieldnames is None or "path" not in reader.fieldnames:
            yield 1, ListingError(f"CSV listing has no 'path' column (columns: {reader.fieldnames})")
            return
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if k is not None}
        return
    for number, line in enumerate(text_lines, start=1):
        line = line.strip()
        if not line or (suffix == ".txt" and line.startswith("#")):
            continue
        if suffix == ".txt":
            yield number, {"path": line}
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, ListingError(f"not JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            yield number, ListingError("a JSONL row must be an object")
            continue
        yield number, row


def ref_from_row(row: Row, listing_dir: str, default_split: Optional[str]) -> ImageRef:
    """An ImageRef from one listing row; its key is the path as written."""
    path = row.get("path")
    if not isinstance(path, str) or not path.strip():
        raise ListingError("row has no 'path'")
    path = path.strip()
    label = row.get("label")
    split = row.get("split")
    extra = []
    for name, value in row.items():
        if name in ("path", "label", "split") or value is None or value == "":
            continue
        if name.startswith(RESERVED_PREFIX):
            raise ListingError(f"extra field {name!r} would clash with the image/ features")
        extra.append((name, _extra_value(name, value)))
    return ImageRef(
        key=path,
        uri=join_path(listing_dir, path),
        label=None if label in (None, "") else str(label),
        split=str(split) if split not in (None, "") else (default_split or "train"),
        extra=tuple(sorted(extra)),
    )


def _extra_value(name: str, value: object):
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list) and value and all(isinstance(v, (int, float, str)) for v in value):
        return tuple(value)
    raise ListingError(f"extra field {name!r} must be a number, a string or a list of them")
