"""What a worker does for one image: read its bytes, convert them, build the record.

A module-level function over picklable arguments, so threads and worker processes
(transforms/runtime/pool.py) run the same code; every error becomes a Failure.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping, NamedTuple, Optional, Union

from transforms.dataset.framing import framed_length
from transforms.elements import STAGE_ENCODE, STAGE_READ, ConvertedImage, Failure, ImageRef
from transforms.image.conversion import convert
from transforms.image.spec import ImageSpec, StageError
from transforms.records.build import build_example
from transforms.storage.read_bytes import read_bytes


class BuiltRecord(NamedTuple):
    """A serialized Example and what the manifest counts about it."""

    data: bytes
    truncated: bool = False  # its source ran short and what decoded was kept (allow_truncated)


@dataclasses.dataclass(frozen=True)
class RecordSettings:
    """What turning a ref into a record needs: the image spec, the label ids, the extra kinds."""

    image: ImageSpec
    labels: Mapping[str, int] = dataclasses.field(default_factory=dict)
    kinds: Mapping[str, str] = dataclasses.field(default_factory=dict)


def convert_ref(ref: ImageRef, spec: ImageSpec) -> Union[ConvertedImage, Failure]:
    """Read and convert one image; every error becomes a Failure with its stage."""
    try:
        data = read_bytes(ref.uri)
    except Exception as exc:  # noqa: BLE001 - a read error fails this input only
        return Failure.from_exception(ref.uri, STAGE_READ, exc)
    try:
        result = convert(data, spec, ref.uri)
    except StageError as exc:
        return Failure.from_exception(ref.uri, exc.stage, exc.cause)
    return ConvertedImage(ref, result.encoded, result.format, result.height, result.width,
                          result.channels, result.sha256, result.geometry, result.truncated)


UNLABELLED = -1  # the label of a record without one, in a dataset whose other records have one


def label_id(ref: ImageRef, labels: Mapping[str, int]) -> Optional[int]:
    """The label id; UNLABELLED for an unlabelled image of a labelled dataset (so every record
    has the same keys, as TFDS and tf.io parsing need); None in an unlabelled dataset."""
    if not labels:
        return None
    return UNLABELLED if ref.label is None else labels.get(ref.label)


def record_for(ref: ImageRef, settings: RecordSettings) -> Union[BuiltRecord, Failure]:
    """The serialized tf.train.Example for `ref`, or the Failure that stopped it."""
    return build_record(ref, settings.image, label_id(ref, settings.labels), settings.kinds)


def build_record(ref: ImageRef, spec: ImageSpec, label: Optional[int],
                 kinds: Mapping[str, str]) -> Union[BuiltRecord, Failure]:
    """Read, convert and serialize one image (everything a worker process does for it)."""
    converted = convert_ref(ref, spec)
    if isinstance(converted, Failure):
        return converted
    try:
        return BuiltRecord(build_example(converted, label, kinds), converted.truncated)
    except Exception as exc:  # noqa: BLE001
        return Failure.from_exception(ref.uri, STAGE_ENCODE, exc)


def mean_record_bytes(sample: Iterable[ImageRef], image: ImageSpec) -> Optional[float]:
    """The mean framed size of the records a sample of refs turns into (None if none convert)."""
    sizes = [framed_length(r.data) for r in (record_for(ref, RecordSettings(image)) for ref in sample)
             if not isinstance(r, Failure)]
    return sum(sizes) / len(sizes) if sizes else None
