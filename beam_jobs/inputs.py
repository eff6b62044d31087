"""Resolving `input.*` before the pipeline is built: what kind of input, which layout, and why."""
from __future__ import annotations

from typing import Optional

from beam_jobs.config import InputConfig
from beam_jobs.errors import ConfigError
from transforms.inputs.layouts import detect_layout, has_image_extension
from transforms.inputs.listing_files import is_listing_file
from transforms.inputs.paths import dirname, is_glob, is_remote, relative_to
from transforms.pipeline.list_images import InputPlan
from transforms.storage import files

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


def resolve_input(cfg: InputConfig) -> InputPlan:
    """Pick folder, glob or listing and the layout; raise ConfigError naming the key."""
    plan = _without_listing(cfg)
    if plan is not None:
        if plan.kind == "listing" and not files.exists(plan.pattern):
            raise ConfigError("input.path", f"listing file {plan.pattern} does not exist")
        return plan
    root = cfg.path.rstrip("/")
    if not is_remote(root) and not files.exists(root):
        raise ConfigError("input.path", f"{root} does not exist")
    pattern = f"{root}/**"
    found = files.list_files(pattern, limit=PROBE_FILES * 4)
    sample = [relative_to(root, path) for path in found if has_image_extension(path, cfg.extensions)]
    if not sample:
        raise ConfigError("input.path", f"no image files under {root} "
                                        f"(looked for {', '.join(cfg.extensions) or 'any file'})")
    splits_seen = tuple(sorted({p.split("/", 1)[0] for p in sample if p.count("/") >= 2}))
    if cfg.layout != "auto":
        return InputPlan("folder", pattern, root, cfg.layout, cfg.extensions, "set in input.layout", splits_seen)
    layout, reason = detect_layout(sample[:PROBE_FILES])
    return InputPlan("folder", pattern, root, layout, cfg.extensions, reason, splits_seen)


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
