"""Packed refs kept in local files while the job groups them, so the local runner holds only
where they are: it keeps everything it groups in memory, and at 200,000 refs its copies grew
the peak 1.67x over 4,000; now 1.12x (docs/performance.md, "Refs spilled to files").

A `Packed` is packed refs (transforms.elements.pack_refs) either inline, as bytes (distributed
runners, whose shuffles spill themselves), or a `Spilled` range of a file in the spill folder.
Each writer appends to a file of its own; a range is read once it is handed on, which
happens only after the bundle that wrote it has ended (and flushed it).
"""
from __future__ import annotations

import dataclasses
import os
import uuid
from typing import BinaryIO, Dict, Optional, Union


@dataclasses.dataclass(frozen=True)
class Spilled:
    """Packed refs in a spill file, from byte `start` to `end`."""

    path: str
    start: int
    end: int

    def part(self, start: int, end: int) -> "Spilled":
        """The bytes from `start` to `end` of these (offsets into them)."""
        return Spilled(self.path, self.start + start, self.start + end)


Packed = Union[bytes, Spilled]


class SpillReader:
    """Packed -> its bytes, keeping each spill file open while it reads: a step reads thousands
    of ranges of a few files, and opening a file for each cost 20 us (2-3% of a 4,000-image run)."""

    def __init__(self) -> None:
        self._files: Dict[str, int] = {}

    def read(self, packed: Packed) -> bytes:
        if isinstance(packed, bytes):
            return packed
        fd = self._files.get(packed.path)
        if fd is None:
            fd = self._files[packed.path] = os.open(packed.path, os.O_RDONLY)
        return os.pread(fd, packed.end - packed.start, packed.start)

    def close(self) -> None:
        files, self._files = self._files, {}
        for fd in files.values():
            os.close(fd)

    def __enter__(self) -> "SpillReader":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def part_of(packed: Packed, start: int, end: int) -> Packed:
    """Bytes `start` to `end` of `packed`, in the same form."""
    return packed[start:end] if isinstance(packed, bytes) else packed.part(start, end)


class SpillWriter:
    """Packed refs -> Packed: into a file of its own in `folder`, or inline without a folder."""

    def __init__(self, folder: Optional[str]) -> None:
        self._folder = folder
        self._handle: Optional[BinaryIO] = None
        self._path = ""

    def put(self, data: bytes) -> Packed:
        if self._folder is None:
            return data
        if self._handle is None:
            os.makedirs(self._folder, exist_ok=True)
            self._path = os.path.join(self._folder, f"{uuid.uuid4().hex}.refs")
            self._handle = open(self._path, "wb")
        start = self._handle.tell()
        self._handle.write(data)
        return Spilled(self._path, start, start + len(data))

    def close(self) -> None:
        """Flush and close the file: call it before the bundle that wrote it ends."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
