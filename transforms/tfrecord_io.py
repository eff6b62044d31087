"""TFRecord framing, both ways: length, masked CRC32C of the length, data, masked CRC32C.

Writing uses Beam's own framing code (as WriteToTFRecord does); reading checks every
length and CRC and names the first record that is wrong.
"""
from __future__ import annotations

import struct
from typing import BinaryIO, Iterator, Tuple

from apache_beam.io.tfrecordio import _TFRecordUtil

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
FRAMING_BYTES = _HEADER.size + _FOOTER.size


class CorruptRecord(ValueError):
    """A record whose framing or CRC is wrong; names the record and its byte offset."""

    def __init__(self, index: int, offset: int, reason: str) -> None:
        super().__init__(f"record {index} (byte {offset}): {reason}")
        self.index = index
        self.offset = offset


def framed_length(record: bytes) -> int:
    """Bytes a record takes in a TFRecord file."""
    return len(record) + FRAMING_BYTES


def write_record(handle: BinaryIO, record: bytes) -> None:
    """Append one framed record."""
    _TFRecordUtil.write_record(handle, record)


def iter_records(handle: BinaryIO) -> Iterator[Tuple[int, bytes]]:
    """(offset, record) for each record, checking lengths and both masked CRC32Cs."""
    index, offset = 0, 0
    while True:
        header = handle.read(_HEADER.size)
        if not header:
            return
        if len(header) < _HEADER.size:
            raise CorruptRecord(index, offset, f"truncated header ({len(header)} of {_HEADER.size} bytes)")
        length, length_crc = _HEADER.unpack(header)
        if length_crc != _TFRecordUtil._masked_crc32c(header[:8]):
            raise CorruptRecord(index, offset, "length CRC mismatch")
        data = handle.read(length)
        footer = handle.read(_FOOTER.size)
        if len(data) < length or len(footer) < _FOOTER.size:
            raise CorruptRecord(index, offset, f"truncated data ({len(data)} of {length} bytes)")
        if _FOOTER.unpack(footer)[0] != _TFRecordUtil._masked_crc32c(data):
            raise CorruptRecord(index, offset, "data CRC mismatch")
        yield offset, data
        offset += framed_length(data)
        index += 1
