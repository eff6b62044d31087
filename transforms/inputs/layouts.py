"""Folder layouts: which files are inputs, and how their place names their label and split.

Layouts: `flat` (no labels), `class_folders` (ROOT/CLASS/file), `split_folders` (ROOT/SPLIT/file,
no labels: detection exports lay images out so), `split_class_folders` (ROOT/SPLIT/CLASS/file).
`detect_layout` tells them apart from a sample of paths.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

from transforms.elements import ImageRef
from transforms.inputs.errors import ListingError

DEFAULT_EXTENSIONS = (
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".dib", ".webp", ".tif", ".tiff",
    ".ppm", ".pgm", ".pbm", ".pnm", ".mpo", ".avif", ".heic", ".heif", ".jp2", ".j2k", ".jpx", ".jpf",
    ".tga", ".ico", ".cur", ".psd", ".qoi", ".sgi", ".rgb", ".bw", ".pcx", ".dds",
)
KNOWN_SPLIT_NAMES = frozenset({"train", "training", "validation", "val", "valid", "test", "eval", "dev"})
SPLIT_LAYOUTS = ("split_folders", "split_class_folders")  # the first folder names the split
FOLDER_DEPTH = {"class_folders": 2, "split_folders": 2, "split_class_folders": 3}  # a file's least parts
CLASS_FOLDER = {"class_folders": "its folder", "split_class_folders": "the second folder"}  # names a file's class


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
    if max(depths) == 2 and tops <= KNOWN_SPLIT_NAMES:  # a class named "train" is not one
        return "split_folders", f"the folders {sorted(tops)} are split names, not classes"
    return "class_folders", "every file sits in a subfolder"


def describe_layout(layout: str, reason: str, detection: bool) -> str:
    """A layout and why it was chosen, as the run's first line says it; with annotations the
    classes are the objects' (the folders only group the images), so a class layout says so."""
    folder = CLASS_FOLDER.get(layout)
    if folder and detection:
        reason += "; with annotations the classes are the objects', not the folders"
    elif folder:
        reason += f"; {folder} is each file's class"
    return f"layout {layout} ({reason})"


def ref_from_folder(relative: str, uri: str, layout: str, split: Optional[str]) -> ImageRef:
    """An ImageRef for a file found under a folder, labelled by the layout."""
    parts = relative.split("/")
    if layout == "flat":
        return ImageRef(key=relative, uri=uri, split=split or "train")
    if layout == "class_folders":
        if len(parts) < 2:
            raise ListingError(f"{uri} is not inside a class folder (layout class_folders)")
        return ImageRef(key=relative, uri=uri, label=parts[0], split=split or "train")
    if layout == "split_folders":
        if len(parts) < 2:
            raise ListingError(f"{uri} is not inside a SPLIT/ folder (layout split_folders)")
        return ImageRef(key=relative, uri=uri, split=parts[0])
    if layout == "split_class_folders":
        if len(parts) < 3:
            raise ListingError(f"{uri} is not inside SPLIT/CLASS/ folders (layout split_class_folders)")
        return ImageRef(key=relative, uri=uri, label=parts[1], split=parts[0])
    raise ListingError(f"layout {layout!r} does not come from folders")
