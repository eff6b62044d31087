"""Annotation files read into (file stem, Annotation or why it cannot be read) pairs: a COCO
or CSV file, or a folder of VOC XML; a YOLO dataset's images and labels; the masks of a
folder. Read where the job runs (transforms/pipeline) and by `convert --plan`.

The launch reads a COCO or CSV file too, to refuse a broken one in one line before any work
(beam_jobs.inputs.check_annotations). On the local runner the job then runs in the same
process, so the launch hands its read over (`keep=True`) and the job takes it instead of
parsing the file a second time: on 6,000 images with 36,000 COCO boxes, the second parse was
a fifth of all the time annotations added. A read is handed over only while the file is
unchanged (size and modification time), is taken once, and `forget` drops one the job never
took (a Dataflow job reads on its workers).
"""
from __future__ import annotations

import dataclasses
import os
import posixpath
import threading
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Tuple, Union

from transforms.elements import STAGE_LIST, Failure, ImageRef
from transforms.inputs.annotations.coco import annotations_of, categories, load_document
from transforms.inputs.annotations.csv_boxes import read_csv_boxes
from transforms.inputs.annotations.model import Annotation, AnnotationError, PackedAnnotation
from transforms.inputs.annotations.voc import read_voc
from transforms.inputs.annotations.yolo import label_path, read_dataset_yaml, read_labels
from transforms.inputs.layouts import has_image_extension
from transforms.inputs.paths import dirname, is_remote, relative_to
from transforms.runtime.collector import collector_paused
from transforms.storage import files
from transforms.storage.read_bytes import read_bytes

Item = Tuple[str, Union[Annotation, str]]  # (file stem, its annotation or why it cannot be read)


class AnnotationFile(NamedTuple):
    """What one annotation file (or VOC folder) holds."""

    items: Iterable[Item]  # a list, but for a VOC folder: read as it is walked
    classes: Mapping[int, str]  # the classes it declares, by the format's ids (COCO categories)


def stem(path: str) -> str:
    """The join key of images and annotations: the file name without its extension."""
    return posixpath.splitext(posixpath.basename(path))[0]


_kept: Dict[Tuple[str, str], Tuple[Tuple[int, int], AnnotationFile]] = {}
_lock = threading.Lock()


def read_annotations(fmt: str, path: str, keep: bool = False) -> AnnotationFile:
    """Read a `coco` or `csv` file or a `voc` folder; AnnotationError (or UnicodeDecodeError) if a
    COCO or CSV file is broken. `keep`: hand the read over to a job in this process."""
    with _lock:
        kept = _kept.pop((fmt, path), None)
    if kept is not None and kept[0] == _stamp(path):
        return kept[1]
    stamp = _stamp(path) if keep else None  # before the read: a file changed while read is not handed over
    read = _read(fmt, path)
    if stamp is not None:
        with _lock:
            _kept[(fmt, path)] = (stamp, read)
    return read


def forget() -> None:
    """Drop reads no job took."""
    with _lock:
        _kept.clear()


def _stamp(path: str) -> Optional[Tuple[int, int]]:
    if is_remote(path) or not os.path.isfile(path):
        return None
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns


def _read(fmt: str, path: str) -> AnnotationFile:
    if fmt != "voc":
        with collector_paused():
            return _read_file(fmt, path)
    return AnnotationFile(_voc_folder(path), {})


def _read_file(fmt: str, path: str) -> AnnotationFile:
    if fmt == "coco":
        document = load_document(files.read_text(path), path)
        items: List[Item] = [(stem(a.file_name), a) for a in annotations_of(document, path)]
        return AnnotationFile(items, categories(document))
    if fmt == "csv":
        with files.open_read(path) as handle:
            lines = (line.decode("utf-8-sig") for line in handle)
            return AnnotationFile([(stem(a.file_name), a) for a in read_csv_boxes(lines, path)], {})
    raise ValueError(f"no annotation reader for format {fmt!r}")


def _files_below(folder: str) -> Iterator[str]:
    """Every file below `folder`, walked locally (no Beam import: `--plan` reads these too),
    listed in a bucket; hidden files skipped, as the images are."""
    if is_remote(folder):
        yield from files.iter_remote(folder)
    else:
        yield from (path for path, problem in files.walk(folder) if not problem)


def _voc_folder(folder: str) -> Iterator[Item]:
    for xml in _files_below(folder):
        if not xml.lower().endswith(".xml"):
            continue
        try:  # bytes: the parser follows the file's declared encoding (labelImg on Windows writes Latin-1)
            yield stem(xml), read_voc(read_bytes(xml), stem(xml), xml)
        except AnnotationError as exc:
            yield stem(xml), str(exc)


Found = Union[Tuple[str, PackedAnnotation], str]  # (split, the annotation packed), or why it cannot be read


def packed_items(spec: Tuple[str, str, str]) -> Iterator[Tuple[str, Found]]:
    """(format, path, split) -> (file stem, (split, the annotation packed) or why it cannot be
    read): what the job's join and the plan's match images with."""
    fmt, path, split = spec
    for key, annotation in read_annotations(fmt, path).items:
        yield key, annotation if isinstance(annotation, str) else (split, PackedAnnotation.of(annotation))


def with_annotation(ref: ImageRef, key: str, found: List[Found]) -> Union[ImageRef, Failure]:
    """`ref` with the annotation found for its file stem `key` (none: a record with no objects;
    an annotation file's split wins over the split rule's), or the `list` Failure saying why not."""
    if len(found) > 1:
        return Failure.of(ref.uri, STAGE_LIST, "DuplicateAnnotation",
                          f"{len(found)} annotations are for file stem {key!r}")
    if found and isinstance(found[0], str):
        return Failure.of(ref.uri, STAGE_LIST, "AnnotationError", found[0])
    split, annotation = found[0] if found else ("", PackedAnnotation.of(Annotation(ref.key)))
    return ImageRef(ref.key, ref.uri, ref.label, split or ref.split, ref.extra, annotation)


def with_mask(ref: ImageRef, key: str, masks: List[str]) -> Union[ImageRef, Failure]:
    """`ref` with the class-index mask found for its file stem `key` (or none), or the `list`
    Failure of two masks for one stem."""
    if len(masks) > 1:
        return Failure.of(ref.uri, STAGE_LIST, "DuplicateMask", f"{len(masks)} masks are for file stem {key!r}")
    return dataclasses.replace(ref, mask=masks[0] if masks else None)


Join = Callable[[ImageRef, str, list], Union[ImageRef, Failure]]  # with_annotation or with_mask


YOLO_SPLITS = {"train": "train", "val": "validation", "test": "test"}


def yolo_refs(yaml_path: str, extensions: Tuple[str, ...]) -> Iterator[Union[ImageRef, Failure]]:
    """A YOLO dataset YAML -> an ImageRef per image of its splits with its label file's objects
    packed (ids from 1: Ultralytics' 0 is a class, the Object Detection API's 0 the background),
    or a `list` Failure for a label file that cannot be read."""
    spec = read_dataset_yaml(files.read_text(yaml_path), dirname(yaml_path), yaml_path)
    names = spec["names"]
    for split, source in spec["splits"].items():
        for path in _yolo_images(source, spec["root"]):
            if not has_image_extension(path, extensions):
                continue
            key = relative_to(spec["root"], path) if path.startswith(spec["root"] + "/") else path
            labels = label_path(path)
            try:
                text = files.read_text(labels) if files.exists(labels) else None
                annotation = read_labels(text, key, names, labels, spec["keypoints"])
            except (AnnotationError, UnicodeDecodeError) as exc:
                yield Failure.of(path, STAGE_LIST, "AnnotationError", str(exc))
                continue
            objects = tuple(o._replace(class_id=(o.class_id or 0) + 1) for o in annotation.objects)
            packed = PackedAnnotation.of(dataclasses.replace(annotation, objects=objects))
            yield ImageRef(key, path, None, YOLO_SPLITS[split], (), packed)


def _yolo_images(source: str, root: str) -> Iterator[str]:
    """A split's images: a folder (walked), or a .txt listing of paths (relative to the root)."""
    if source.lower().endswith(".txt"):
        for line in files.read_text(source).splitlines():
            line = line.strip()
            if line:
                yield line if line.startswith("/") or "://" in line else posixpath.normpath(posixpath.join(root, line))
        return
    yield from _files_below(source)


def mask_files(folder: str) -> Iterator[Tuple[str, str]]:
    """(file stem, path) of every PNG under `folder`: the class-index masks (input.masks)."""
    for path in _files_below(folder):
        if path.lower().endswith(".png"):
            yield stem(path), path
