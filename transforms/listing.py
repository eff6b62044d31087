"""Turning paths and listing rows into ImageRefs, without Beam.

Layouts: `flat` (no labels), `class_folders` (ROOT/CLASS/file), `split_class_folders`
(ROOT/SPLIT/CLASS/file) and `listing` (.txt, .csv or .jsonl rows with `path` and optional
`label`, `split` and extra fields). `detect_layout` tells the first three apart from a sample.
"""
from __future__ import annotations

import csv
import hashlib
import json
import posixpath
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from transforms.examples import RESERVED_PREFIX
from transforms.types import ImageRef

LISTING_SUFFIXES = (".txt", ".csv", ".jsonl")
DEFAULT_EXTENSIONS = (
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff",
    ".ppm", ".mpo",
)
KNOWN_SPLIT_NAMES = frozenset({"train", "training", "validation", "val", "valid", "test", "eval", "dev"})
_GLOB_CHARS = "*?["


class ListingError(ValueError):
    """A listing row or a path that cannot become an ImageRef."""


def is_remote(path: str) -> bool:
    return "://" in path


def is_glob(path: str) -> bool:
    return any(c in path for c in _GLOB_CHARS)


def is_listing_file(path: str) -> bool:
    return path.lower().endswith(LISTING_SUFFIXES)


def join_path(base: str, path: str) -> str:
    """Resolve a listing entry against the listing's folder (absolute and gs:// kept)."""
    if is_remote(path) or path.startswith("/"):
        return path
    if is_remote(base):
        scheme, rest = base.split("://", 1)
        bucket, _, prefix = rest.partition("/")
        joined = posixpath.normpath(posixpath.join("/" + prefix, path)).lstrip("/")
        return f"{scheme}://{bucket}/{joined}"
    return posixpath.normpath(posixpath.join(base, path))


def dirname(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


def relative_to(root: str, uri: str) -> str:
    """`uri` relative to the folder `root` (both as FileSystems.match spells them)."""
    prefix = root.rstrip("/") + "/"
    if not uri.startswith(prefix):
        raise ListingError(f"{uri} is not under {root}")
    return uri[len(prefix):]


def has_image_extension(path: str, extensions: Sequence[str]) -> bool:
    """Whether a listed folder's file is taken as an input (the bytes decide the format later)."""
    if not extensions:
        return True
    name = path.rsplit("/", 1)[-1]
    return not name.startswith(".") and name.lower().endswith(tuple(extensions))


def detect_layout(relative_paths: Sequence[str]) -> Tuple[str, str]:
    """Pick flat, class_folders or split_class_folders from a sample; say why."""
    if not relative_paths:
        return "flat", "no files found"
    depths = [p.count("/") + 1 for p in relative_paths]
    if min(depths) == 1 and max(depths) == 1:
        return "flat", "all files sit directly in the folder"
    if min(depths) == 1:
        return "flat", "files sit at several depths, so folders are not taken as labels"
    tops = {p.split("/", 1)[0].lower() for p in relative_paths}
    if min(depths) >= 3 and tops <= KNOWN_SPLIT_NAMES:
        return "split_class_folders", f"top folders {sorted(tops)} are split names"
    return "class_folders", "every file sits in a subfolder, taken as its class"


def ref_from_folder(relative: str, uri: str, layout: str, split: Optional[str]) -> ImageRef:
    """An ImageRef for a file found under a folder, labelled by the layout."""
    parts = relative.split("/")
    if layout == "flat":
        return ImageRef(key=relative, uri=uri, split=split or "train")
    if layout == "class_folders":
        if len(parts) < 2:
            raise ListingError(f"{uri} is not inside a class folder (layout class_folders)")
        return ImageRef(key=relative, uri=uri, label=parts[0], split=split or "train")
    if layout == "split_class_folders":
        if len(parts) < 3:
            raise ListingError(f"{uri} is not inside SPLIT/CLASS/ folders (layout split_class_folders)")
        return ImageRef(key=relative, uri=uri, label=parts[1], split=parts[0])
    raise ListingError(f"layout {layout!r} does not come from folders")


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


def hash_unit(key: str, salt: str) -> float:
    """A stable number in [0, 1) from a key (the same on every run and machine)."""
    digest = hashlib.sha256(f"{salt}\0{key}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_split(key: str, fractions: Sequence[Tuple[str, float]]) -> str:
    """Deterministic split from a hash of the key, by the configured fractions."""
    point = hash_unit(key, "split")
    total = 0.0
    for name, fraction in fractions:
        total += fraction
        if point < total:
            return name
    return fractions[-1][0]


def label_map(labels: Iterable[str]) -> Dict[str, int]:
    """Class name -> label id: sorted names, or the numbers themselves when all are integers."""
    names = sorted(set(labels))
    if names and all(n.isdigit() for n in names):
        return {n: int(n) for n in names}
    return {name: index for index, name in enumerate(names)}


def labels_lines(mapping: Mapping[str, int]) -> List[str]:
    """labels.txt: line i is the name of label i."""
    if not mapping:
        return []
    lines = [""] * (max(mapping.values()) + 1)
    for name, index in mapping.items():
        lines[index] = name
    return lines
