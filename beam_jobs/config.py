"""The job's one typed, validated, frozen config: launch YAML + `--set key=value` overrides.

The YAML is read with a safe loader, overrides are applied in order before validation,
and every problem is reported as one line naming the dotted key.
"""
from __future__ import annotations

import difflib
import os
import re
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Optional, Sequence, Tuple, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from beam_jobs.errors import ConfigError, Problem
from transforms.errors import not_utf8
from transforms.image.geometry import ResizeSpec
from transforms.image.spec import PNG_COMPRESSION, WEBP_METHOD, ImageSpec
from transforms.inputs.layouts import DEFAULT_EXTENSIONS
from transforms.inputs.paths import is_remote, is_utf8, shown

if TYPE_CHECKING:
    from transforms.inputs.splits import SplitRule

_SPLIT_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_COLOURS = {"white": (255, 255, 255), "black": (0, 0, 0), "grey": (128, 128, 128), "gray": (128, 128, 128)}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _local_path(path: str) -> str:
    return path if is_remote(path) else os.path.abspath(os.path.expanduser(path))


class InputConfig(_Section):
    """Where the images are and how their labels and splits are given."""

    path: str = ""  # required, unless input.annotations is a YOLO dataset YAML, which names the images
    layout: Literal["auto", "flat", "class_folders", "split_folders", "split_class_folders", "listing"] = "auto"
    extensions: Tuple[str, ...] = DEFAULT_EXTENSIONS
    labels: Optional[str] = None  # a file of class names, one a line: pins the classes and their ids
    label_offset: Literal[0, 1] = 0  # the first id: 1 when 0 is the background (detection label maps)
    label_from: Optional["LabelFrom"] = None  # the label from the file name
    limit: Optional[int] = Field(default=None, ge=1)  # only the first N images of each split (--limit)
    annotations: "AnnotationsConfig" = Field(default_factory=lambda: AnnotationsConfig())
    masks: Optional[str] = None  # a folder of class-index PNGs (palette, L or 1-bit), paired by stem and path
    mask_ignore: int = Field(default=255, ge=0, le=255)  # the class of the letterbox in masks (VOC's 255)

    @field_validator("path")
    @classmethod
    def check_expand(cls, value: str) -> str:
        return _local_path(value) if value else value

    @model_validator(mode="after")
    def check_path_given(self) -> "InputConfig":
        if not self.path and self.annotations.format != "yolo":
            raise ValueError("[path] required key is missing (a folder, a glob or a listing)")
        return self

    @field_validator("labels", "masks")
    @classmethod
    def check_labels_path(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else _local_path(value)

    @field_validator("extensions")
    @classmethod
    def check_dotted(cls, value: Tuple[str, ...]) -> Tuple[str, ...]:
        return tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in value)


class AnnotationsConfig(_Section):
    """`input.annotations`: boxes for object detection, joined to the images by file name."""

    format: Literal["none", "coco", "voc", "csv", "yolo"] = "none"
    path: Union[None, str, Dict[str, str]] = None  # coco: the instances JSON, or {split: JSON} (each file's
    # images go to its split); voc: the folder of XML files; csv: the CSV; yolo: the dataset's YAML (its
    # images, splits and names; input.path may then be left out)
    frame: Literal["auto", "stored", "upright"] = "auto"  # the pixel frame the boxes are given in
    crowd: Literal["keep", "drop"] = "keep"
    difficult: Literal["keep", "drop"] = "keep"
    min_visible: float = Field(default=0.0, ge=0.0, le=1.0)  # drop boxes with less of their area left

    @field_validator("path")
    @classmethod
    def check_expand(cls, value: Union[None, str, Dict[str, str]]) -> Union[None, str, Dict[str, str]]:
        if isinstance(value, dict):
            bad = [k for k in value if not re.fullmatch(r"[a-z][a-z0-9_]*", k)]
            if bad or not value:
                raise ValueError(f"[path] split names are lower-case words, not {bad[0]!r}" if bad
                                 else "[path] names no split")
            return {split: _local_path(path) for split, path in value.items()}
        return None if value is None else _local_path(value)

    @model_validator(mode="after")
    def check_path(self) -> "AnnotationsConfig":
        if self.format != "none" and not self.path:
            raise ValueError(f"[path] is needed by format {self.format}")
        if self.format == "none" and self.path:  # else the boxes were left out without a word
            raise ValueError(f"[format] is none, but input.annotations.path is set: say which format it is "
                             f"(coco, voc, yolo or csv; {_looks_like(self.path)})")
        if isinstance(self.path, dict) and self.format != "coco":
            raise ValueError(f"[path] a {{split: file}} map is for COCO; {self.format} takes one path")
        return self

    @property
    def given(self) -> bool:
        """Whether the job is a detection job: records carry objects, not a class label."""
        return self.format != "none"

    def files_by_split(self) -> Tuple[Tuple[str, str], ...]:
        """(split, file) per annotation file; split "" when one file serves every split."""
        if isinstance(self.path, dict):
            return tuple(sorted(self.path.items()))
        return (("", self.path),) if self.path else ()


def _looks_like(path: Union[str, Dict[str, str]]) -> str:
    """A guess at an annotation path's format, for the message that asks for it."""
    if isinstance(path, dict):
        return "a {split: file} map is COCO's"
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    guess = {"json": "coco", "yaml": "yolo", "yml": "yolo", "csv": "csv"}.get(suffix, "voc" if not suffix else "")
    return f"{path} looks like {guess}" if guess else f"{path} is not a .json, .yaml, .csv or folder"


class LabelFrom(_Section):
    """`input.label_from`: a regular expression searched in each file name; its group
    `label` is the class (`^(?P<label>.+)_\\d+\\.` for Oxford pets' `Abyssinian_12.jpg`)."""

    regex: str

    @field_validator("regex")
    @classmethod
    def check_regex(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a regular expression ({exc})") from None
        if "label" not in compiled.groupindex:
            raise ValueError("needs a named group (?P<label>...)")
        return value


InputConfig.model_rebuild()


class ResizeConfig(_Section):
    """`image.resize`: the mode and the sizes it needs."""

    mode: Literal["none", "exact", "fit", "fill", "pad", "shorter_side", "longer_side"] = "none"
    width: Optional[int] = Field(default=None, ge=1, le=65535)
    height: Optional[int] = Field(default=None, ge=1, le=65535)
    size: Optional[int] = Field(default=None, ge=1, le=65535)

    @model_validator(mode="after")
    def check_sizes(self) -> "ResizeConfig":
        if self.mode in ("exact", "fit", "fill", "pad"):
            for name in ("width", "height"):
                if getattr(self, name) is None:
                    raise ValueError(f"[{name}] is needed by mode {self.mode}")
        if self.mode in ("shorter_side", "longer_side") and self.size is None:
            raise ValueError(f"[size] is needed by mode {self.mode}")
        return self


class ImageConfig(_Section):
    """How each image is decoded, normalised, resized and encoded."""

    resize: ResizeConfig = ResizeConfig()
    upscale: bool = True
    format: Literal["jpeg", "png", "webp", "raw", "original"] = "jpeg"
    quality: int = Field(default=90, ge=1, le=100)
    png_compression: int = Field(default=PNG_COMPRESSION, ge=0, le=9)
    webp_method: int = Field(default=WEBP_METHOD, ge=0, le=6)
    channels: Literal[1, 3, 4] = 3
    alpha_background: Union[str, Tuple[int, int, int]] = "white"
    max_pixels: int = Field(default=100_000_000, ge=1, le=178_956_970)
    allow_truncated: bool = False
    resample: Literal["nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"] = "bicubic"
    resize_space: Literal["ycbcr", "rgb"] = "ycbcr"

    @field_validator("alpha_background")
    @classmethod
    def check_colour(cls, value: Union[str, Tuple[int, int, int]]) -> Tuple[int, int, int]:
        if isinstance(value, tuple):
            rgb = value
        elif value.lower() in _COLOURS:
            rgb = _COLOURS[value.lower()]
        elif re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            rgb = tuple(int(value[i:i + 2], 16) for i in (1, 3, 5))
        else:
            raise ValueError(f"{value!r} is not a colour (a name, #rrggbb or [r, g, b])")
        if not all(0 <= c <= 255 for c in rgb):
            raise ValueError(f"{list(rgb)} has a component outside 0-255")
        return tuple(rgb)

    @model_validator(mode="after")
    def check_consistent(self) -> "ImageConfig":
        if self.format == "original" and self.resize.mode != "none":
            raise ValueError("[resize.mode] must be none with format original, which keeps the source bytes")
        if self.format == "jpeg" and self.channels == 4:
            raise ValueError("[channels] 4 needs format png, webp or raw (jpeg holds no alpha)")
        if self.format == "webp" and self.channels == 1:
            raise ValueError("[channels] 1 needs format jpeg, png or raw (webp holds no grey)")
        return self

    def spec(self) -> ImageSpec:
        r = self.resize
        return ImageSpec(
            resize=ResizeSpec(r.mode, r.width, r.height, r.size, self.upscale),
            format=self.format, quality=self.quality, png_compression=self.png_compression,
            webp_method=self.webp_method, channels=self.channels,
            alpha_background=self.alpha_background, max_pixels=self.max_pixels,
            allow_truncated=self.allow_truncated, resample=self.resample,
            resize_space=self.resize_space,
        )


class OutputConfig(_Section):
    """Where the shards go and how they are cut."""

    path: str
    shards: Union[Literal["auto"], int, Dict[str, Union[Literal["auto"], int]]] = "auto"  # or per split
    min_shard_records: int = Field(default=32, ge=1)  # no shard holds fewer (small splits get one)
    shard_size_mb: int = Field(default=128, ge=1)
    compression: Literal["none", "gzip"] = "none"
    index: bool = False
    sink: Literal["shards", "beam"] = "shards"
    tfds_layout: bool = False  # write into path/<dataset.name>/<dataset.version>/, as tfds.load expects

    @field_validator("path")
    @classmethod
    def check_expand(cls, value: str) -> str:
        if not value.strip():  # `--set output.path=$OUT` with OUT unset: not the current folder
            raise ValueError("is empty: name the folder to write")
        return _local_path(value)

    @model_validator(mode="after")
    def check_index(self) -> "OutputConfig":
        if self.index and self.compression != "none":
            raise ValueError("[index] needs output.compression none (readers seek in uncompressed shards)")
        if self.index and self.sink == "beam":
            raise ValueError("[index] is written by the default sink only (output.sink: shards)")
        return self

    @field_validator("shards")
    @classmethod
    def check_positive(cls, value: Any) -> Any:
        for each in (value.values() if isinstance(value, dict) else [value]):
            _auto_or_between(each, 1, None, "must be a positive number, auto, or {split: number or auto}")
        return value

    def shards_of(self) -> Union[None, int, Tuple[Tuple[str, Optional[int]], ...]]:
        """For ShardSettings: None (auto), a number for every split, or per split."""
        if isinstance(self.shards, dict):
            return tuple(sorted((k, None if v == "auto" else v) for k, v in self.shards.items()))
        return None if self.shards == "auto" else self.shards


class ParallelismConfig(_Section):
    """How each worker spreads conversion: threads that read and convert, optional processes."""

    threads: Union[Literal["auto"], int] = "auto"
    processes: Union[Literal["auto"], int] = "auto"

    @field_validator("threads")
    @classmethod
    def check_threads(cls, value: Union[str, int]) -> Union[str, int]:
        return _auto_or_between(value, 1, 64, "must be auto or a number of threads from 1 to 64")

    @field_validator("processes")
    @classmethod
    def check_processes(cls, value: Union[str, int]) -> Union[str, int]:
        return _auto_or_between(value, 0, 256, "must be auto, 0 (convert in threads) or a number of processes")


def _auto_or_between(value: Union[str, int], low: int, high: Optional[int], message: str) -> Union[str, int]:
    """`value` if it is `auto` or a number from `low` to `high` (None: no limit), else `message`."""
    if isinstance(value, int) and not (low <= value and (high is None or value <= high)):
        raise ValueError(message)
    return value


class DatasetConfig(_Section):
    """What the dataset is called, for TFDS (dataset_info.json) and for people."""

    name: Optional[str] = None  # default: the output folder's name, in snake_case
    version: str = "1.0.0"
    description: str = ""

    @field_validator("name")
    @classmethod
    def check_name(cls, value: Optional[str]) -> Optional[str]:
        return _matching(value, r"[a-z][a-z0-9_]*", "snake_case (a-z, 0-9, _; a letter first), as TFDS names datasets")

    @field_validator("version", mode="before")
    @classmethod
    def check_version(cls, value: Any) -> str:  # --set dataset.version=1.0 reads as a YAML number
        return _matching(str(value), r"\d+\.\d+\.\d+", "MAJOR.MINOR.PATCH")


def _matching(value: Any, pattern: str, what: str) -> Any:
    """`value` if it is None or matches `pattern` whole, else the error `must be <what>`."""
    if value is not None and not re.fullmatch(pattern, value):
        raise ValueError(f"must be {what}, got {value!r}")
    return value


def snake_case(text: str) -> str:
    """A folder name as a TFDS dataset name: `My Photos-2024` -> `my_photos_2024`."""
    name = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "dataset"
    return name if name[0].isalpha() else f"d_{name}"


class ErrorsConfig(_Section):
    """How many failed inputs a job may have and still succeed."""

    max_failed_fraction: float = Field(default=0.01, ge=0.0, le=1.0)


class PortableConfig(_Section):
    """Beam's portable runners (`runner: flink | spark | portable`) on a job server the user runs."""

    job_endpoint: Optional[str] = None  # host:port of the job server, e.g. localhost:8099
    environment_type: Literal["DOCKER", "PROCESS", "EXTERNAL", "LOOPBACK"] = "DOCKER"
    environment_config: Optional[str] = None  # the SDK container image for DOCKER, ...

    @field_validator("job_endpoint")
    @classmethod
    def check_endpoint(cls, value: Optional[str]) -> Optional[str]:
        return _matching(value, r"[\w.\-]+:\d{1,5}", "host:port")


RUNNERS = ("direct", "dataflow", "flink", "spark", "portable")


class DataflowConfig(_Section):
    """Dataflow settings, used when `runner: dataflow`."""

    project: Optional[str] = None
    region: Optional[str] = None
    temp_location: Optional[str] = None
    staging_location: Optional[str] = None
    machine_type: Optional[str] = None
    max_workers: Optional[int] = Field(default=None, ge=1)
    service_account: Optional[str] = None
    network: Optional[str] = None
    subnetwork: Optional[str] = None
    worker_image: Optional[str] = None
    job_name: Optional[str] = None


class JobConfig(_Section):
    """The whole conversion job."""

    input: InputConfig
    output: OutputConfig
    splits: Dict[str, float] = Field(default_factory=lambda: {"train": 1.0})
    split_method: Literal["hash", "exact"] = "hash"
    stratify: bool = False
    image: ImageConfig = ImageConfig()
    dataset: DatasetConfig = DatasetConfig()
    errors: ErrorsConfig = ErrorsConfig()
    parallelism: ParallelismConfig = ParallelismConfig()
    runner: Literal["direct", "dataflow", "flink", "spark", "portable"] = "direct"
    dataflow: DataflowConfig = DataflowConfig()
    portable: PortableConfig = PortableConfig()
    pipeline_options: Dict[str, Any] = Field(default_factory=dict)

    @field_validator("pipeline_options")
    @classmethod
    def check_no_runner(cls, value: Dict[str, Any]) -> Dict[str, Any]:
        if "runner" in value:
            raise ValueError(f"[runner] is chosen by the top-level key runner ({', '.join(RUNNERS)}), "
                             "not by pipeline_options.runner")
        return value

    @field_validator("splits")
    @classmethod
    def check_fractions(cls, value: Dict[str, float]) -> Dict[str, float]:
        if not value:
            raise ValueError("name at least one split")
        for name, fraction in value.items():
            if not _SPLIT_NAME.match(name):
                raise ValueError(f"split name {name!r} must be letters, digits or _")
            if not 0 < fraction <= 1:
                raise ValueError(f"fraction of {name} must be in (0, 1], got {fraction}")
        if abs(sum(value.values()) - 1.0) > 1e-6:
            raise ValueError(f"fractions must add up to 1, they add up to {sum(value.values()):g}")
        return value

    @model_validator(mode="after")
    def name_the_dataset(self) -> "JobConfig":
        """Default the dataset's name from the output folder; with output.tfds_layout the
        dataset goes to output.path/<name>/<version>, where tfds.load(name, data_dir) looks."""
        name = self.dataset.name or snake_case(self.output.path.rstrip("/").rsplit("/", 1)[-1])
        update: Dict[str, Any] = {"dataset": self.dataset.model_copy(update={"name": name})}
        if self.output.tfds_layout and not self.output.path.rstrip("/").endswith(f"/{name}/{self.dataset.version}"):
            path = f"{self.output.path.rstrip('/')}/{name}/{self.dataset.version}"
            update["output"] = self.output.model_copy(update={"path": path})
        return self.model_copy(update=update)

    @property
    def split_fractions(self) -> Tuple[Tuple[str, float], ...]:
        return tuple(self.splits.items())

    def split_rule(self) -> "SplitRule":
        from transforms.inputs.splits import SplitRule

        return SplitRule(self.split_fractions, self.split_method, self.stratify)


# --- loading -------------------------------------------------------------------------

def parse_override(text: str) -> Tuple[List[str], Any]:
    """`dotted.key=value` with the value read as a YAML scalar."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--set", f"{text!r}: expected dotted.key=value")
    if not is_utf8(raw):  # a path with a Latin-1 name, as the shell passed its bytes
        raise ConfigError(f"--set {key}", f"{shown(raw)} is not UTF-8: rename it (e.g. convmv -f latin1 -t utf8)")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:  # a ReaderError (a control character) has no `problem`
        detail = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise ConfigError(f"--set {key}", f"value is not YAML ({detail})") from None
    if value is None and raw.strip().startswith("#"):
        value = raw.strip()  # "#rrggbb" is a colour here, not a YAML comment
    return key.strip().split("."), value


def apply_override(tree: Dict[str, Any], dotted: Sequence[str], value: Any) -> None:
    node = tree
    for depth, part in enumerate(dotted[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {'.'.join(dotted)}", f"{'.'.join(dotted[:depth + 1])} is not a section")
        node = child
    node[dotted[-1]] = value


_TYPE_PARTS = ("str", "int", "float", "bool", "tuple", "list", "dict", "function-", "literal[", "union[")


def _location(error: Dict[str, Any]) -> str:
    """The dotted key of a pydantic error, without the union-member parts it adds."""
    return ".".join(str(p) for p in error["loc"] if not str(p).startswith(_TYPE_PARTS))


def _did_you_mean(location: str) -> str:
    """`; did you mean image.quality?` for a mistyped key, from the keys its section has."""
    *section, name = location.split(".")
    model: Any = JobConfig
    for part in section:
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        model = field.annotation if field is not None else None
        if model is None or not (isinstance(model, type) and issubclass(model, BaseModel)):
            return ""
    close = difflib.get_close_matches(name, list(model.model_fields), n=1, cutoff=0.6)
    return f"; did you mean {'.'.join([*section, close[0]])}?" if close else ""


def _describe(error: Dict[str, Any]) -> Problem:
    location = _location(error)
    kind = error["type"]
    if kind == "extra_forbidden":
        return location, "unknown key" + _did_you_mean(location)
    if kind == "missing":
        return location, "required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    keyed = re.match(r"^\[([\w.]+)\] (.*)$", message)
    if keyed:  # a check across keys names the key it is about
        location, message = f"{location}.{keyed.group(1)}".lstrip("."), keyed.group(2)
    given = error.get("input")
    if kind.startswith(("literal", "int", "float", "bool", "string", "greater", "less", "dict", "tuple")):
        message += f" (got {given!r})"
    return location, message


def validate(tree: Dict[str, Any]) -> JobConfig:
    """A JobConfig from a plain dict, or a ConfigError with a line per problem."""
    try:
        return JobConfig.model_validate(tree)
    except ValidationError as exc:
        seen, problems = set(), []
        for error in exc.errors():
            if _location(error) in seen:  # a union reports each member; the first says enough
                continue
            seen.add(_location(error))
            problems.append(_describe(error))
        raise ConfigError(problems=problems) from None


def load_config(path: Optional[str], overrides: Sequence[str] = ()) -> JobConfig:
    """Read the launch YAML (safe loader), apply `--set` overrides in order, validate."""
    return validate(load_tree(path, overrides))


def load_tree(path: Optional[str], overrides: Sequence[str] = ()) -> Dict[str, Any]:
    """The launch YAML (safe loader) with `--set` overrides applied in order, not validated."""
    tree: Dict[str, Any] = {}
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = yaml.safe_load(handle)
        except OSError as exc:
            raise ConfigError("", f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:  # a launch file saved by a Windows editor (cp1252)
            raise ConfigError("", not_utf8(path, exc)) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark else ""
            raise ConfigError("", f"{path}{where} is not valid YAML") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError("", f"{path} must hold a mapping of keys")
        tree = loaded or {}
    for text in overrides:
        apply_override(tree, *parse_override(text))
    return tree


def config_as_dict(cfg: JobConfig) -> Dict[str, Any]:
    """The resolved config as plain JSON-able data (for the manifest)."""
    return cfg.model_dump(mode="json")
