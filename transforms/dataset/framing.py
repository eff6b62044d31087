"""TFRecord framing, both ways: length, masked CRC32C of the length, data, masked CRC32C.

The format as TensorFlow writes it (tensorflow/core/lib/io/record_writer.cc), with the
CRC32C from google-crc32c (its C extension); reading checks every length and CRC and
names the first record that is wrong. A golden-bytes test holds it to TensorFlow's writer.
"""
from __future__ import annotations

import struct
from typing import BinaryIO, Iterator, Tuple

import google_crc32c

_HEADER = struct.Struct("<QI")
_LENGTH = struct.Struct("<Q")
_FOOTER = struct.Struct("<I")
FRAMING_BYTES = _HEADER.size + _FOOTER.size
_MASK_DELTA = 0xA282EAD8


class CorruptRecord(ValueError):
    """A record whose framing or CRC is wrong; names the record and its byte offset."""

    def __init__(self, index: int, offset: int, reason: str) -> None:
        super().__init__(f"record {index} (byte {offset}): {reason}")
        self.index = index
        self.offset = offset


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC32C: rotated right by 15 bits plus a constant (so a CRC of
    data that holds CRCs is not trivially zero)."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def framed_length(record: bytes) -> int:
    """Bytes a record takes in a TFRecord file."""
    return len(record) + FRAMING_BYTES


def frame(record: bytes) -> bytes:
    """One record with its framing, as it lies in the file."""
    length = _LENGTH.pack(len(record))
    return b"".join((length, _FOOTER.pack(masked_crc32c(length)), record, _FOOTER.pack(masked_crc32c(record))))


def write_record(handle: BinaryIO, record: bytes) -> None:
    """Append one framed record."""
    handle.write(frame(record))


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
        if length_crc != masked_crc32c(header[:8]):
            raise CorruptRecord(index, offset, "length CRC mismatch")
        data = handle.read(length)
        footer = handle.read(_FOOTER.size)
        if len(data) < length or len(footer) < _FOOTER.size:
            raise CorruptRecord(index, offset, f"truncated data ({len(data)} of {length} bytes)")
        if _FOOTER.unpack(footer)[0] != masked_crc32c(data):
            raise CorruptRecord(index, offset, "data CRC mismatch")
        yield offset, data
        offset += framed_length(data)
        index += 1
