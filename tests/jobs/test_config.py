"""Config validation: every problem is one line naming its dotted key."""
from pathlib import Path

import pytest

from beam_jobs.config import load_config
from beam_jobs.errors import ConfigError

BASE = ["input.path=/data", "output.path=/out"]


def error_for(*overrides, text=None, tmp_path=None):
    path = None
    if text is not None:
        path = tmp_path / "job.yaml"
        path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(str(path) if path else None, [*BASE, *overrides])
    message = str(error.value)
    assert "\n" not in message, message
    return message


def test_defaults():
    cfg = load_config(None, BASE)
    assert cfg.image.format == "jpeg" and cfg.image.quality == 90 and cfg.image.channels == 3
    assert cfg.output.shards == "auto" and cfg.splits == {"train": 1.0}
    assert cfg.image.alpha_background == (255, 255, 255) and cfg.runner == "direct"
    assert cfg.image.spec().resize_space == "ycbcr"
    assert load_config(None, BASE + ["image.resize_space=rgb"]).image.spec().resize_space == "rgb"
    assert cfg.image.spec().png_compression == 3
    assert load_config(None, BASE + ["image.png_compression=9"]).image.spec().png_compression == 9
    assert cfg.image.spec().webp_method == 1
    assert load_config(None, BASE + ["image.webp_method=6"]).image.spec().webp_method == 6


@pytest.mark.parametrize("override,key", [
    ("image.bogus=1", "image.bogus: unknown key"),
    ("nonsense=1", "nonsense: unknown key"),
    ("image.resize.mode=zoom", "image.resize.mode:"),
    ("image.resize.mode=fit", "image.resize.width:"),
    ("image.resize.mode=shorter_side", "image.resize.size:"),
    ("image.quality=0", "image.quality:"),
    ("image.png_compression=10", "image.png_compression:"),
    ("image.webp_method=7", "image.webp_method:"),
    ("image.channels=2", "image.channels:"),
    ("image.channels=4", "image.channels: 4 needs format"),
    ("image.format=gif", "image.format:"),
    ("image.resize_space=yuv", "image.resize_space:"),
    ("image.alpha_background=pink", "image.alpha_background:"),
    ("image.max_pixels=-5", "image.max_pixels:"),
    ("output.shards=0", "output.shards:"),
    ("output.shards=lots", "output.shards:"),
    ("output.compression=zip", "output.compression:"),
    ("errors.max_failed_fraction=1.5", "errors.max_failed_fraction:"),
    ("splits={train: 0.5}", "splits: fractions must add up to 1"),
    ("splits={'bad name': 1.0}", "splits: split name"),
    ("input.layout=tree", "input.layout:"),
    ("runner=gridengine", "runner:"),
    ("parallelism.threads=0", "parallelism.threads: must be auto or a number"),
    ("parallelism.threads=many", "parallelism.threads:"),
    ("output.path=", "output.path: is empty"),  # `--set output.path=$OUT` with OUT unset: not the current folder
    ("output.path=  ", "output.path: is empty"),
    # a path without its format: the boxes were left out without a word
    ("input.annotations.path=boxes/instances.json", "input.annotations.format: is none, but input.annotations.path "
     "is set: say which format it is (coco, voc, yolo or csv; "),
    ("input.annotations.path=boxes/instances.json", "instances.json looks like coco)"),
    ("input.annotations.path=Annotations", "Annotations looks like voc)"),
])
def test_each_error_names_its_key(override, key):
    assert key in error_for(override)


def test_original_format_needs_no_resize():
    message = error_for("image.format=original", "image.resize.mode=fit",
                        "image.resize.width=2", "image.resize.height=2")
    assert message.startswith("config error: image.resize.mode:")


def test_missing_required_key(tmp_path):
    with pytest.raises(ConfigError, match="output: required key is missing"):
        load_config(None, ["input.path=/data"])


def test_overrides_apply_in_order_as_yaml_scalars(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text("input: {path: /a}\noutput: {path: /o, shards: 3}\n")
    cfg = load_config(str(path), ["output.shards=5", "output.shards=7", "image.upscale=false",
                                  "image.alpha_background=#102030"])
    assert cfg.output.shards == 7 and cfg.image.upscale is False
    assert cfg.image.alpha_background == (16, 32, 48)


def test_yaml_is_read_safely(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text("input: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(path), [])


def test_bad_override_syntax():
    with pytest.raises(ConfigError, match="expected dotted.key=value"):
        load_config(None, ["image.quality"])
    with pytest.raises(ConfigError, match="is not a section"):
        load_config(None, [*BASE, "image=3", "image.quality=3"])


def test_home_is_expanded_and_buckets_kept():
    cfg = load_config(None, ["input.path=~/photos", "output.path=gs://bucket/out"])
    assert not cfg.input.path.startswith("~") and cfg.output.path == "gs://bucket/out"


def test_launch_files_are_valid():
    launch = Path(__file__).resolve().parents[2] / "launch"
    for name in ("demo.yaml", "local.yaml", "detection.yaml"):
        load_config(str(launch / name), [])
