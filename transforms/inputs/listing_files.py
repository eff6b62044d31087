"""Listing files: .txt (a path a line), .csv (a header with `path`) and .jsonl rows, each
with optional `label`, `split` and extra fields kept as features."""
from __future__ import annotations

import codecs
import json
import posixpath
from typing import Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from transforms.elements import ExtraValue, ImageRef
from transforms.inputs.csv_text import dict_reader
from transforms.inputs.errors import ListingError, columns_shown
from transforms.inputs.paths import is_utf8, join_path, shown
from transforms.records.features import RESERVED_PREFIX

LISTING_SUFFIXES = (".txt", ".csv", ".jsonl")


def is_listing_file(path: str) -> bool:
    return path.lower().endswith(LISTING_SUFFIXES)


Row = Mapping[str, object]
Line = Tuple[int, Union[str, ListingError]]


def text_lines(raw_lines: Iterable[bytes]) -> Iterator[Line]:
    """(line number, text) for each line of a listing, read as UTF-8 one line at a time, so
    a line that is not UTF-8 is an error of its own and the lines after it still count."""
    for number, raw in enumerate(raw_lines, start=1):
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, ListingError(f"line is not UTF-8 text ({exc.reason} at byte {exc.start})")


def listing_rows(lines: Iterable[Line], suffix: str) -> Iterator[Tuple[int, Union[Row, ListingError]]]:
    """(line number, row or error) for each entry of a .txt, .csv or .jsonl listing."""
    if suffix == ".csv":
        yield from _csv_rows(lines)
        return
    for number, line in lines:
        if isinstance(line, ListingError):
            yield number, line
            continue
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
        field = _not_text(row) if "\\ud" in line.lower() else None
        if field is not None:
            why = ("; a file name that is not UTF-8 (json.dumps writes one so): rename the file (convmv -f latin1 "
                   "-t utf8) and list it again") if field == "path" else ""
            yield number, ListingError(f"{field!r} holds a lone surrogate escape (\\udcXX), not text{why}")
            continue
        yield number, row


def _not_text(row: Mapping[str, object]) -> Optional[str]:
    """The first field of a JSONL row whose name or strings JSON escapes made unencodable (lone
    surrogates: valid JSON, but no record, label file or Beam coder can write them)."""
    for name, value in row.items():
        values = value if isinstance(value, list) else [value]
        if not is_utf8(name) or any(isinstance(v, str) and not is_utf8(v) for v in values):
            return name if is_utf8(name) else shown(name)
    return None


def _csv_rows(lines: Iterable[Line]) -> Iterator[Tuple[int, Union[Row, ListingError]]]:
    """CSV rows with a header (separated by commas, semicolons or tabs, as the header is); lines
    that are not text are errors, and line numbers stay those of the file."""
    numbers: List[int] = []
    bad: List[Tuple[int, ListingError]] = []

    def good() -> Iterator[str]:
        for number, line in lines:
            if isinstance(line, ListingError):
                bad.append((number, line))
                continue
            numbers.append(number)
            yield line

    reader, _ = dict_reader(good())
    if reader.fieldnames is None or "path" not in reader.fieldnames:
        yield from bad
        yield 1, ListingError(f"CSV listing has no 'path' column (columns: {columns_shown(reader.fieldnames)})")
        return
    for row in reader:
        yield from bad
        bad.clear()
        yield numbers[reader.line_num - 1], {k: v for k, v in row.items() if k is not None}
    yield from bad


def normalise_key(path: str) -> str:
    """One spelling per file: `./a`, `a//b` and `a/../a/b` are the same key (`gs://` kept)."""
    if "://" in path:
        scheme, rest = path.split("://", 1)
        bucket, _, inner = rest.partition("/")
        return f"{scheme}://{bucket}/{posixpath.normpath(inner).lstrip('/')}" if inner else path
    return posixpath.normpath(path)


def ref_from_row(row: Row, listing_dir: str, default_split: Optional[str]) -> ImageRef:
    """An ImageRef from one listing row; its key is the path as written, normalised."""
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
        key=normalise_key(path),
        uri=join_path(listing_dir, path),
        label=None if label in (None, "") else str(label),
        split=str(split) if split not in (None, "") else (default_split or "train"),
        extra=tuple(sorted(extra)),
    )


def _extra_value(name: str, value: object) -> ExtraValue:
    """A scalar, or a list of numbers or of strings (a Feature holds one kind)."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list) and value:
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return tuple(value)
        if all(isinstance(v, str) for v in value):
            return tuple(value)
        kinds = sorted({type(v).__name__ for v in value})
        raise ListingError(f"extra field {name!r} mixes {' and '.join(kinds)} in one list; a feature holds "
                           "numbers or strings")
    raise ListingError(f"extra field {name!r} must be a number, a string or a list of them")
