"""The element types that flow through the pipeline, named once and used everywhere (pure)."""
from __future__ import annotations

import dataclasses
import io
import pickle
from typing import Iterable, Iterator, Optional, Tuple, Union

from transforms.image.geometry import Geometry
from transforms.inputs.annotations.model import PackedAnnotation

ExtraValue = Union[int, float, str, bool, Tuple[Union[int, float, str], ...]]

# Stages at which an input can fail; every failure names one of them.
STAGE_LIST = "list"
STAGE_READ = "read"
STAGE_DECODE = "decode"
STAGE_TRANSFORM = "transform"
STAGE_ENCODE = "encode"
STAGES = (STAGE_LIST, STAGE_READ, STAGE_DECODE, STAGE_TRANSFORM, STAGE_ENCODE)


@dataclasses.dataclass(frozen=True)
class ImageRef:
    """One input image: where it is and what the listing says about it.

    `key` is unique within a job (the path relative to the input root, or the
    listing's path) and drives split assignment and shard order.
    """

    key: str
    uri: str
    label: Optional[str] = None
    split: str = "train"
    extra: Tuple[Tuple[str, ExtraValue], ...] = ()
    annotation: Optional[PackedAnnotation] = None  # boxes for detection (input.annotations), joined by file stem
    mask: Optional[str] = None  # its class-index mask (input.masks), joined by file stem

    def __reduce_ex__(self, protocol: object) -> tuple:
        """Pickled as its values up to the last one set, without the field names a dataclass's
        pickle repeats in every ref (a plain ref: 109 bytes instead of 186, as fast to dump and load):
        the local runner holds every ref of a stage boundary in this form (docs/performance.md)."""
        values = (self.key, self.uri, self.label, self.split, self.extra, self.annotation, self.mask)
        used = len(values)
        while used > 2 and values[used - 1] == _DEFAULTS[used - 1]:
            used -= 1
        return ImageRef, values[:used]


_DEFAULTS = tuple(f.default for f in dataclasses.fields(ImageRef))


def pack_refs(refs: Iterable[ImageRef]) -> bytes:
    """Refs as one bytes object (their pickles, one after another): the form in which the job
    groups them, a bucket's refs at a time, in a spill file on the local runner
    (transforms/storage/spill.py) or inline in a distributed runner's shuffle."""
    return b"".join(pickle.dumps(ref, protocol=pickle.HIGHEST_PROTOCOL) for ref in refs)


def unpack_refs(data: bytes) -> Iterator[Tuple[ImageRef, bytes]]:
    """The refs `pack_refs` made `data` of, in order, each with its own packed bytes (to
    pass on without packing it again)."""
    stream = io.BytesIO(data)
    start = 0
    while start < len(data):
        ref = pickle.load(stream)
        end = stream.tell()
        yield ref, data[start:end]
        start = end


@dataclasses.dataclass(frozen=True)
class ConvertedImage:
    """An image ready to be written: encoded bytes plus what a reader needs."""

    ref: ImageRef
    encoded: bytes
    format: str
    height: int
    width: int
    channels: int
    sha256: str
    geometry: Optional[Geometry] = None  # source frame -> output frame (transforms/image/geometry)
    truncated: bool = False  # the source ran short; what decoded was kept (image.allow_truncated)


@dataclasses.dataclass(frozen=True)
class Failure:
    """An input that did not become a record: the stage, the error's type and its message
    (`error` is "Type: message" on one line, as failures.jsonl holds it)."""

    uri: str
    stage: str
    error: str
    error_type: str

    @classmethod
    def of(cls, uri: str, stage: str, error_type: str, message: str) -> "Failure":
        text = " ".join(message.split())  # one line, whatever the message says
        return cls(uri=uri, stage=stage, error=f"{error_type}: {text}".rstrip(": "), error_type=error_type)

    @classmethod
    def from_exception(cls, uri: str, stage: str, exc: BaseException) -> "Failure":
        return cls.of(uri, stage, type(exc).__name__, str(exc))

    @property
    def reason(self) -> str:
        """A short, groupable reason: the stage and the error type."""
        return f"{self.stage}: {self.error_type}"

    def to_json(self) -> dict:
        """One line of failures.jsonl (the on-disk contract: uri, stage, error)."""
        return {"uri": self.uri, "stage": self.stage, "error": self.error}
