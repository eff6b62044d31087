"""The element types that flow through the pipeline, named once and used everywhere."""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple, Union

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


@dataclasses.dataclass(frozen=True)
class Failure:
    """An input that did not become a record, with the stage and the reason."""

    uri: str
    stage: str
    error: str

    @classmethod
    def from_exception(cls, uri: str, stage: str, exc: BaseException) -> "Failure":
        message = " ".join(str(exc).split())  # one line, whatever the exception says
        return cls(uri=uri, stage=stage, error=f"{type(exc).__name__}: {message}".rstrip(": "))

    @property
    def reason(self) -> str:
        """A short, groupable reason: the stage and the exception class."""
        return f"{self.stage}: {self.error.split(':', 1)[0]}"

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

