"""Resolving `input.*` before the pipeline is built: what kind of input, which layout, and why."""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional, Tuple

from beam_jobs.config import InputConfig, JobConfig
from beam_jobs.errors import ConfigError
from transforms.dataset.labels import LabelRule, read_label_names, unwritable
from transforms.errors import not_utf8
from transforms.inputs.annotations.model import AnnotationError
from transforms.inputs.annotations.yolo import read_dataset_yaml
from transforms.inputs.errors import ListingError
from transforms.inputs.input_plan import InputPlan
from transforms.inputs.layouts import FOLDER_DEPTH, detect_layout, has_image_extension
from transforms.inputs.listing_files import is_listing_file, listing_rows, text_lines
from transforms.inputs.paths import dirname, is_glob, is_remote, relative_to
from transforms.records.features import RESERVED_PREFIX
from transforms.runtime.annotation_files import read_annotations
from transforms.storage import files
from transforms.storage.gcs import NoCredentials, check_credentials

PROBE_FILES = 1000  # files looked at to tell the layout apart


def _glob_root(pattern: str) -> str:
    head = pattern
    for char in "*?[":
        head = head.split(char, 1)[0]
    return dirname(head) if not head.endswith("/") else head.rstrip("/")


def _without_listing(cfg: InputConfig) -> Optional[InputPlan]:
    """The plan for a listing file or a glob, from the path alone; None for a folder."""
    path = cfg.path
    if is_listing_file(path) and not is_glob(path):
        if cfg.layout not in ("auto", "listing"):
            raise ConfigError("input.layout", f"{cfg.layout} needs a folder, "
                                              f"but input.path is a listing file ({path})")
        return InputPlan("listing", path, dirname(path), "listing", cfg.extensions,
                         f"input.path is a {path.rsplit('.', 1)[-1]} listing")
    if cfg.layout == "listing":
        raise ConfigError("input.layout", f"listing needs a .txt, .csv or .jsonl file, got {path}")
    if is_glob(path):
        layout = "flat" if cfg.layout == "auto" else cfg.layout
        return InputPlan("glob", path, _glob_root(path), layout, cfg.extensions, "input.path is a glob")
    return None


def resolve_input(cfg: InputConfig, output_path: str = "") -> InputPlan:
    """See _resolve; a YOLO dataset YAML names the images itself."""
    if cfg.annotations.format == "yolo" and isinstance(cfg.annotations.path, str):
        spec = yolo_spec(cfg.annotations.path)
        return InputPlan("yolo", cfg.annotations.path, spec["root"], "yolo", cfg.extensions,
                         f"the YOLO dataset {cfg.annotations.path} names the images and splits "
                         f"({', '.join(spec['splits'])})")
    return _resolve(cfg, output_path)


def yolo_spec(path: str) -> dict:
    """The dataset YAML, read and checked: one line naming the problem if it cannot be used."""
    try:
        spec = read_dataset_yaml(files.read_text(path), dirname(path), path)
    except FileNotFoundError:
        raise ConfigError("input.annotations.path", f"{path} does not exist") from None
    except AnnotationError as exc:
        raise ConfigError("input.annotations.path", str(exc)) from None
    missing = [f"{split}: {source}" for split, sources in spec["splits"].items() for source in sources
               if not files.exists(source)]
    if not spec["splits"] or missing:
        raise ConfigError("input.annotations.path", f"{path}: " + (
            f"no such images folder or listing ({'; '.join(missing)})" if missing else "names no train, val or test"))
    return spec


def _resolve(cfg: InputConfig, output_path: str = "") -> InputPlan:
    """Pick folder, glob or listing and the layout; raise ConfigError naming the key.

    Everything found wrong here stops the job before the output is touched: a missing
    input, a listing with no rows or no `path` column, a folder with no images, a layout
    the folder contradicts. The output folder, if it lies inside the input, is never input.
    """
    plan = _without_listing(cfg)
    if plan is not None:
        if plan.kind == "listing":
            check_listing(plan.pattern)
        elif cfg.layout == "auto":  # a glob over class folders labels by folder, as the folder form does
            found = [relative_to(plan.root, p) for p in files.list_files(plan.pattern, limit=PROBE_FILES)]
            if not found:
                raise ConfigError("input.path", f"no file matches {plan.pattern}")
            layout, reason = detect_layout(found)
            plan = dataclasses.replace(plan, layout=layout, reason=f"input.path is a glob; {reason}")
        return plan
    root = cfg.path.rstrip("/")
    if not is_remote(root) and not files.exists(root):
        raise ConfigError("input.path", f"{root} does not exist")
    if not is_remote(root) and os.path.isfile(root):
        raise ConfigError("input.path", f"{root} is a file: give its folder, a glob, or a listing "
                                        "(.txt, .csv or .jsonl)")
    exclude = (output_path,) if output_path.startswith(root + "/") else ()
    sample = probe_images(root, cfg.extensions, exclude)
    if not sample:
        raise ConfigError("input.path", f"no image files under {root} "
                                        f"(looked for {', '.join(cfg.extensions) or 'any file'})")
    splits_seen = tuple(sorted({p.split("/", 1)[0] for p in sample if p.count("/") >= 2}))
    pattern = f"{root}/**"
    if cfg.layout == "auto":
        layout, reason = detect_layout(sample)
        return InputPlan("folder", pattern, root, layout, cfg.extensions, reason, splits_seen, exclude)
    check_layout(cfg.layout, sample)
    return InputPlan("folder", pattern, root, cfg.layout, cfg.extensions, "set in input.layout", splits_seen,
                     exclude)


def probe_images(root: str, extensions: Tuple[str, ...], exclude: Tuple[str, ...]) -> List[str]:
    """Up to PROBE_FILES image paths below `root` (relative), however many other files
    come first: the folder is streamed, not cut at a count of files."""
    found: List[str] = []
    paths = (p for p, problem in files.walk(root, exclude) if not problem) if not is_remote(root) \
        else (p for p in files.iter_remote(root) if not any(p.startswith(e + "/") for e in exclude))
    for path in paths:
        relative = relative_to(root, path)
        if has_image_extension(path, extensions) and not any(part.startswith(".") for part in relative.split("/")):
            found.append(relative)
            if len(found) >= PROBE_FILES:
                break
    return found


def check_layout(layout: str, sample: List[str]) -> None:
    """A layout set in the config that the folder contradicts is one line, not a job of failures."""
    depth = FOLDER_DEPTH.get(layout, 1)
    shallow = [p for p in sample if p.count("/") + 1 < depth]
    if shallow:
        raise ConfigError("input.layout", f"{layout} needs files at least {depth - 1} folder(s) deep, but "
                                          f"{shallow[0]} is not ({len(shallow)} of the {len(sample)} files probed)")


def check_listing(uri: str) -> None:
    """The listing exists, is text, has a `path` column (CSV) and at least one entry."""
    if not files.exists(uri):
        raise ConfigError("input.path", f"listing file {uri} does not exist")
    suffix = "." + uri.rsplit(".", 1)[-1].lower()
    with files.open_read(uri) as raw:
        for number, row in listing_rows(text_lines(raw), suffix):
            if isinstance(row, ListingError) and ("'path' column" in str(row) or "not UTF-8" in str(row)):
                raise ConfigError("input.path", f"{uri} line {number}: {row}")
            clashing = sorted(k for k in (row if isinstance(row, dict) else {}) if str(k).startswith(RESERVED_PREFIX))
            if clashing:
                raise ConfigError("input.path", f"{uri}: field {clashing[0]!r} would clash with the image/ features "
                                                "records carry; rename it")
            return  # a first entry (even a bad one: it becomes a failure line)
    raise ConfigError("input.path", f"listing {uri} has no entries")


def offline_input_plan(cfg: InputConfig) -> InputPlan:
    """The input plan without looking at the input (for a dry run).

    The job's graph is the same for every folder layout; with `auto` the folder is not
    probed offline, so the plan says class_folders and the reason says why.
    """
    plan = _without_listing(cfg)
    if plan is not None:
        return plan
    root = cfg.path.rstrip("/")
    if cfg.layout == "auto":
        return InputPlan("folder", f"{root}/**", root, "class_folders", cfg.extensions,
                         "auto is not probed in a dry run; set input.layout to choose")
    return InputPlan("folder", f"{root}/**", root, cfg.layout, cfg.extensions, "set in input.layout")


def label_rule(cfg: JobConfig, declared: Tuple[Tuple[str, int], ...] = ()) -> LabelRule:
    """input.labels (read now: a missing file is one line before any work), label_offset, label_from,
    and the classes the annotations `declared` (see check_annotations)."""
    names = None
    if cfg.input.labels:
        try:
            names = read_label_names(files.read_text(cfg.input.labels))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError("input.labels", f"cannot read {cfg.input.labels} ({exc})") from None
        if not names:
            raise ConfigError("input.labels", f"{cfg.input.labels} names no class")
        if len(set(names)) != len(names):
            raise ConfigError("input.labels", f"{cfg.input.labels} names a class twice")
    pattern = cfg.input.label_from.regex if cfg.input.label_from else None
    detection = cfg.input.annotations.given  # ids from 1: 0 is the background of detection
    return LabelRule(names, max(cfg.input.label_offset, 1) if detection else cfg.input.label_offset, pattern,
                     declared)


def check_annotations(cfg: JobConfig, keep: bool = False) -> Tuple[Tuple[str, int], ...]:
    """The annotation files or folder are there, and a COCO or CSV file reads (a broken one is
    one line before any work, not a job of failures); `keep` hands the reads to a job in this
    process (transforms/runtime/annotation_files). Returns the classes the format declares,
    with the ids records carry: COCO's categories as numbered, YOLO's names from 1 (its 0 is a
    class, the Object Detection API's the background); they stay in the label map without objects."""
    a = cfg.input.annotations
    declared: Dict[str, int] = {}
    if cfg.input.masks:
        problem = _unreadable(cfg.input.masks, folder=True)
        if problem:
            raise ConfigError("input.masks", f"{cfg.input.masks} {problem}")
    for split, path in a.files_by_split() if a.given else ():
        key = f"input.annotations.path.{split}" if split else "input.annotations.path"
        problem = _unreadable(path, folder=a.format == "voc")
        if problem:
            raise ConfigError(key, f"{path} {problem}")
        try:
            if a.format == "coco":
                for number, name in sorted(read_annotations("coco", path, keep).classes.items()):
                    if declared.setdefault(name, number) != number:
                        raise ConfigError(key, f"{path}: category {name!r} is id {number} here, "
                                               f"{declared[name]} in another split's file")
            elif a.format == "yolo":
                declared.update((name, i + 1) for i, name in sorted(yolo_spec(path)["names"].items()))
            elif a.format == "csv":
                read_annotations("csv", path, keep)
        except AnnotationError as exc:
            raise ConfigError(key, str(exc)) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(key, not_utf8(path, exc)) from None
    for name, number in declared.items():  # they become lines of labels.txt and label_map.pbtxt
        problem = unwritable(name)
        if problem:  # named as the file names it: YOLO's index is one below the id records carry
            where = f"names[{number - 1}]" if a.format == "yolo" else f"class {number}"
            raise ConfigError("input.annotations.path", f"{where}: {problem}; labels.txt holds one name a "
                                                        "line: rename it in the annotation file")
    return tuple(declared.items())


def _unreadable(path: str, folder: bool) -> Optional[str]:
    """Why an annotation file or folder cannot be read (None if it can). A bucket has no
    folders: a VOC or masks "folder" there is a prefix that holds objects (exists() said no)."""
    if folder and is_remote(path):
        return None if files.list_files(f"{path.rstrip('/')}/**", limit=1) else "holds no files"
    if not files.exists(path):
        return "does not exist"
    if folder and not os.path.isdir(path):
        return "is a file, not a folder"
    return None


def check_cloud_access(cfg: JobConfig) -> None:
    """gs:// paths need credentials (or an emulator): one line within seconds if there are none."""
    gs = [key for key, path in (("input.path", cfg.input.path), ("output.path", cfg.output.path))
          if path.startswith("gs://")]
    if not gs:
        return
    try:
        check_credentials()
    except NoCredentials as exc:
        raise ConfigError(gs[0], f"{exc}: run `gcloud auth application-default login` (or set "
                                 "GOOGLE_APPLICATION_CREDENTIALS to a key file); for an emulator set "
                                 "STORAGE_EMULATOR_HOST") from None
