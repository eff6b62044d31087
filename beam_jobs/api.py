"""The programmatic surface, for notebooks and programs; the command line calls the same.

    from beam_jobs import convert
    manifest = convert("photos/", "out/photos", image={"resize": {"mode": "shorter_side", "size": 256}},
                       splits={"train": 0.9, "validation": 0.1}, output={"shards": 8})
    manifest.splits["train"].num_examples
"""
from __future__ import annotations

from typing import Any, Callable, ContextManager, Dict, Optional, Sequence

from beam_jobs.config import JobConfig, apply_override, load_tree, validate
from transforms.dataset.manifest import Manifest


def _merge(tree: Dict[str, Any], dotted: Sequence[str], value: Any) -> None:
    """Set `dotted` in `tree`; a dict value is merged key by key into an existing section."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _merge(tree, [*dotted, *str(key).split(".")], inner)
        return
    apply_override(tree, dotted, value)


def make_config(input_path: Optional[str] = None, output_path: Optional[str] = None, *,
                config: Optional[str] = None, sets: Sequence[str] = (), **overrides: Any) -> JobConfig:
    """A validated JobConfig: the launch YAML `config`, `--set` strings, then keyword
    overrides (sections as dicts, or dotted names as `**{"image.quality": 95}`)."""
    tree = load_tree(config, sets)
    if input_path is not None:
        _merge(tree, ["input", "path"], str(input_path))
    if output_path is not None:
        _merge(tree, ["output", "path"], str(output_path))
    for key, value in overrides.items():
        _merge(tree, key.split("."), value)
    return validate(tree)


def convert(input_path: Optional[str] = None, output_path: Optional[str] = None, *,
            config: Optional[str] = None, sets: Sequence[str] = (), overwrite: bool = False,
            say: Optional[Callable[[str], None]] = None, force_unlock: bool = False,
            progress: Optional[Callable[[], ContextManager[object]]] = None, **overrides: Any) -> Optional[Manifest]:
    """Convert images to a dataset and return its Manifest (None for a Dataflow template).

    Raises a `UserError` (ConfigError, DatasetError) with one line per problem; per-image
    failures do not raise: they are in the manifest and failures.jsonl, unless more failed than
    errors.max_failed_fraction allows where a dataset already was: that one is kept, and
    `RunHeld` (its `manifest` and `area`) says where this run waits.
    """
    from beam_jobs.conversion import run_convert

    cfg = make_config(input_path, output_path, config=config, sets=sets, **overrides)
    return run_convert(cfg, overwrite=overwrite, say=say or (lambda line: None), force_unlock=force_unlock,
                       progress=progress)
