"""Annotation files read into (name, Annotation or why it cannot be read) pairs: a COCO
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
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

from transforms.dataset.labels import unwritable
from transforms.elements import STAGE_LIST, Failure, ImageRef
from transforms.errors import not_utf8
from transforms.inputs.annotations.coco import annotations_of, categories, load_document
from transforms.inputs.annotations.csv_boxes import read_csv_boxes
from transforms.inputs.annotations.model import Annotation, AnnotationError, PackedAnnotation
from transforms.inputs.annotations.voc import read_voc
from transforms.inputs.annotations.yolo import label_path, read_dataset_yaml, read_labels
from transforms.inputs.layouts import has_image_extension
from transforms.inputs.pairing import Choice, Conflict, accounted, pair, stem
from transforms.inputs.paths import dirname, is_remote, is_utf8, name_not_utf8, relative_to, shown
from transforms.runtime.collector import collector_paused
from transforms.runtime.forked import Forked
from transforms.storage import files
from transforms.storage.read_bytes import read_bytes

Item = Tuple[str, Union[Annotation, PackedAnnotation, str]]  # (the image it names, its annotation or why not)


class AnnotationFile(NamedTuple):
    """What one annotation file (or VOC folder) holds."""

    items: Iterable[Item]  # a list, but for a VOC folder: read as it is walked
    classes: Mapping[int, str]  # the classes it declares, by the format's ids (COCO categories)


_kept: Dict[Tuple[str, str], Tuple[Tuple[int, int], AnnotationFile]] = {}
_prefetched: Dict[Tuple[str, str], Tuple[Optional[Tuple[int, int]], Forked]] = {}
_lock = threading.Lock()


def prefetch(fmt: str, path: str) -> None:
    """Begin reading a local COCO or CSV file in a forked process (transforms/runtime/forked),
    parsed, checked and packed as the job takes it, while this one imports Beam; the launch's
    read_annotations takes it from there. On 4,000 images with 24,000 boxes that was 0.2-0.3 s
    of a 10 s run (docs/performance.md, Annotations)."""
    if fmt in ("coco", "csv") and not is_remote(path) and os.path.isfile(path):
        with _lock:
            if (fmt, path) not in _prefetched:  # one file named for two splits: read once
                _prefetched[(fmt, path)] = (_stamp(path), Forked(_read_packed, fmt, path))


def read_annotations(fmt: str, path: str, keep: bool = False) -> AnnotationFile:
    """Read a `coco` or `csv` file or a `voc` folder; AnnotationError (or UnicodeDecodeError) if a
    COCO or CSV file is broken. `keep`: hand the read over to a job in this process."""
    with _lock:
        kept = _kept.pop((fmt, path), None)
        prefetched = _prefetched.pop((fmt, path), None)
    if kept is not None and kept[0] == _stamp(path):
        return kept[1]
    stamp = _stamp(path) if keep else None  # before the read: a file changed while read is not handed over
    if prefetched is not None and prefetched[0] == _stamp(path):
        read = _unpacked(prefetched[1].result())
    else:
        if prefetched is not None:
            prefetched[1].cancel()
        read = _read(fmt, path)
    if stamp is not None:
        with _lock:
            _kept[(fmt, path)] = (stamp, read)
    return read


def forget() -> None:
    """Drop reads no job took, and stop a prefetch no launch took."""
    with _lock:
        _kept.clear()
        prefetched = list(_prefetched.values())
        _prefetched.clear()
    for _, forked in prefetched:
        forked.cancel()


def _read_packed(fmt: str, path: str) -> Tuple[List[Tuple[str, Any]], Dict[int, str]]:
    """A file read as prefetch's child sends it: each annotation packed, with its classes
    (which PackedAnnotation's pickling leaves out)."""
    read = _read(fmt, path)
    return [(name, found if isinstance(found, str) else _sendable(_packed(found)))
            for name, found in read.items], dict(read.classes)


def _sendable(packed: PackedAnnotation) -> Tuple[bytes, Any]:
    return packed.data, packed.classes()


def _packed(annotation: Union[Annotation, PackedAnnotation]) -> PackedAnnotation:
    return annotation if isinstance(annotation, PackedAnnotation) else PackedAnnotation.of(annotation)


def _unpacked(sent: Tuple[List[Tuple[str, Any]], Dict[int, str]]) -> AnnotationFile:
    items, classes = sent
    return AnnotationFile([(name, found if isinstance(found, str) else PackedAnnotation(*found))
                           for name, found in items], classes)


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
        items: List[Item] = [(a.file_name, a) for a in annotations_of(document, path)]
        return AnnotationFile(items, categories(document))
    if fmt == "csv":
        with files.open_read(path) as handle:
            return AnnotationFile([(a.file_name, _writable(a, path))
                                   for a in read_csv_boxes(_text_lines(handle, path), path)], {})
    raise ValueError(f"no annotation reader for format {fmt!r}")


def _text_lines(handle: Iterable[bytes], path: str) -> Iterator[str]:
    """A CSV's lines as text; AnnotationError naming the line that is not UTF-8."""
    for number, line in enumerate(handle, start=1):
        try:
            yield line.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AnnotationError(not_utf8(f"{path}:{number}", exc)) from None


def _files_below(folder: str) -> Iterator[str]:
    """Every file below `folder`, walked locally (no Beam import: `--plan` reads these too),
    listed in a bucket; hidden files skipped, as the images are."""
    if is_remote(folder):
        yield from files.iter_remote(folder)
    else:
        yield from (path for path, problem in files.walk(folder) if not problem)


def _writable(annotation: Annotation, where: str) -> Annotation:
    """The annotation, or AnnotationError if a class name cannot be a line of labels.txt
    (dataset.labels.unwritable; COCO's and YOLO's declared names are checked at launch)."""
    for obj in annotation.objects:
        problem = unwritable(obj.label)
        if problem:
            raise AnnotationError(f"{where}: {problem}; labels.txt holds one name a line: rename it")
    return annotation


def _voc_folder(folder: str) -> Iterator[Item]:
    """Each XML named by its path in `folder`: `cats/1.xml` is for the image `cats/1.*`
    (transforms/inputs/pairing), whatever its <filename> says."""
    for xml in _files_below(folder):
        if not xml.lower().endswith(".xml"):
            continue
        name = relative_to(folder, xml)
        try:  # bytes: the parser follows the file's declared encoding (labelImg on Windows writes Latin-1)
            yield name, _writable(read_voc(read_bytes(xml), stem(xml), xml), xml)
        except AnnotationError as exc:
            yield name, str(exc)


Found = Union[Tuple[str, PackedAnnotation], str]  # (split, the annotation packed), or why it cannot be read
Named = Tuple[str, Any]  # (the path an item names, the item): what images are paired with


def packed_items(spec: Tuple[str, str, str]) -> Iterator[Tuple[str, Tuple[str, Found]]]:
    """(format, path, split) -> (file stem, (the image's name as the annotation gives it, (split,
    the annotation packed) or why it cannot be read)): what the job's join and the plan's pair
    images with (transforms/inputs/pairing)."""
    fmt, path, split = spec
    for name, annotation in read_annotations(fmt, path).items:
        if not is_utf8(name):
            yield _unpairable(name, "its name is not UTF-8")
            continue
        found = annotation if isinstance(annotation, str) else (split, _packed(annotation))
        yield stem(name), (name, found)


UNPAIRABLE = "/"  # a key no image's file stem is (stems hold no "/")


def _unpairable(name: str, item: Any) -> Tuple[str, Named]:
    """An item whose name is not UTF-8 (a Latin-1 file name, a COCO `file_name` with a lone
    surrogate escape), under a key no image has: no image could take it (such images fail as
    NameNotUtf8), Beam's coders carry only UTF-8 text (a distributed join crashed on it), and so
    it is counted unpaired, its name escaped, as the local lookup counted it."""
    return UNPAIRABLE, (shown(name), item)


def with_annotation(ref: ImageRef, found: Union[None, Found, Conflict]) -> Union[ImageRef, Failure]:
    """`ref` with the annotation paired with it (none: a record with no objects; an annotation
    file's split wins over the split rule's), or the `list` Failure saying why not."""
    if isinstance(found, Conflict):
        kind = "DuplicateAnnotation" if found.kind == "duplicate" else "AmbiguousAnnotation"
        return Failure.of(ref.uri, STAGE_LIST, kind, found.describe("annotations"))
    if isinstance(found, str):
        return Failure.of(ref.uri, STAGE_LIST, "AnnotationError", found)
    split, annotation = found if found else ("", PackedAnnotation.of(Annotation(ref.key)))
    return ImageRef(ref.key, ref.uri, ref.label, split or ref.split, ref.extra, annotation)


def with_mask(ref: ImageRef, mask: Union[None, str, Conflict]) -> Union[ImageRef, Failure]:
    """`ref` with the class-index mask paired with it (or none), or the `list` Failure saying why not."""
    if isinstance(mask, Conflict):
        kind = "DuplicateMask" if mask.kind == "duplicate" else "AmbiguousMask"
        return Failure.of(ref.uri, STAGE_LIST, kind, mask.describe("masks"))
    return dataclasses.replace(ref, mask=mask)


Join = Callable[[ImageRef, Any], Union[ImageRef, Failure]]  # with_annotation or with_mask


def joined(refs: Sequence[ImageRef], items: Sequence[Named], join: Join) -> Tuple[List[Tuple[Any, Choice]], Set[int]]:
    """The refs of one stem, each paired with its item among `items` (transforms/inputs/pairing)
    and `join`ed: ([(ref or Failure, what it was paired with)], the items accounted for: the
    others are unpaired)."""
    choices = pair([ref.key for ref in refs], [name for name, _ in items])
    results = [(join(ref, items[choice][1] if isinstance(choice, int) else choice), choice)
               for ref, choice in zip(refs, choices)]
    return results, accounted(choices)


YOLO_SPLITS = {"train": "train", "val": "validation", "test": "test"}


def yolo_refs(yaml_path: str, extensions: Tuple[str, ...]) -> Iterator[Union[ImageRef, Failure]]:
    """A YOLO dataset YAML -> an ImageRef per image of its splits with its label file's objects
    packed (ids from 1: Ultralytics' 0 is a class, the Object Detection API's 0 the background),
    or a `list` Failure for a label file that cannot be read."""
    spec = read_dataset_yaml(files.read_text(yaml_path), dirname(yaml_path), yaml_path)
    names = spec["names"]
    for split, sources in spec["splits"].items():
        for path in (path for source in sources for path in _yolo_images(source, spec["root"])):
            if not has_image_extension(path, extensions):
                continue
            if not is_utf8(path):
                yield name_not_utf8(path)
                continue
            key = relative_to(spec["root"], path) if path.startswith(spec["root"] + "/") else path
            labels = label_path(path)
            try:
                text = files.read_text(labels) if files.exists(labels) else None
                annotation = read_labels(text, key, names, labels, spec["keypoints"])
            except AnnotationError as exc:
                yield Failure.of(path, STAGE_LIST, "AnnotationError", str(exc))
                continue
            except UnicodeDecodeError as exc:
                yield Failure.of(path, STAGE_LIST, "AnnotationError", not_utf8(labels, exc))
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


def mask_files(folder: str) -> Iterator[Tuple[str, Named]]:
    """(file stem, (path in `folder`, path)) of every PNG under `folder`: the class-index masks
    (input.masks)."""
    for path in _files_below(folder):
        if not path.lower().endswith(".png"):
            continue
        name = relative_to(folder, path)
        yield (stem(path), (name, path)) if is_utf8(path) else _unpairable(name, shown(path))
