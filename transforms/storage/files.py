"""Files in and out, local or in a bucket: local paths straight through the OS, URIs
(gs:// and any scheme Beam knows) through Beam's FileSystems, imported only for them.

So reading a local dataset back never imports Beam (about 1 s), and the pipeline uses
the same calls for local disks and object stores.
"""
from __future__ import annotations

import os
import shutil
from typing import BinaryIO, List, Sequence

from transforms.inputs.paths import is_remote
from transforms.storage.gcs import use_emulator_anonymously


def _filesystems():
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def _uncompressed():
    from apache_beam.io.filesystem import CompressionTypes

    return CompressionTypes.UNCOMPRESSED


def open_read(path: str, gzip: bool = False) -> BinaryIO:
    """A file's bytes (gunzipped with `gzip`)."""
    if not is_remote(path) and not gzip:
        return open(path, "rb")
    use_emulator_anonymously()
    from apache_beam.io.filesystem import CompressionTypes

    return _filesystems().open(path, compression_type=CompressionTypes.GZIP if gzip else CompressionTypes.UNCOMPRESSED)


def create(path: str, gzip: bool = False, mime_type: str = "application/octet-stream") -> BinaryIO:
    """A new file to write (gzipped with `gzip`); local folders are made as needed."""
    if not is_remote(path) and not gzip:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return open(path, "wb")
    use_emulator_anonymously()
    from apache_beam.io.filesystem import CompressionTypes

    return _filesystems().create(path, mime_type=mime_type,
                                 compression_type=CompressionTypes.GZIP if gzip else CompressionTypes.UNCOMPRESSED)


def read_text(path: str) -> str:
    with open_read(path) as handle:
        return handle.read().decode("utf-8")


def write_text(path: str, text: str, mime_type: str = "text/plain") -> None:
    with create(path, mime_type=mime_type) as handle:
        handle.write(text.encode("utf-8"))


def exists(path: str) -> bool:
    if not is_remote(path):
        return os.path.exists(path)
    use_emulator_anonymously()
    return _filesystems().exists(path)


def list_files(pattern: str, limit: int = 0) -> List[str]:
    """Paths matching a glob (`**` crosses folders), at most `limit` (0: all)."""
    use_emulator_anonymously()
    found = _filesystems().match([pattern], limits=[limit or None])[0].metadata_list
    return [m.path for m in found]


def rename(sources: Sequence[str], targets: Sequence[str]) -> None:
    if sources:
        _filesystems().rename(list(sources), list(targets))


def delete(paths: Sequence[str]) -> None:
    if paths:
        _filesystems().delete(list(paths))


def remove_tree(path: str) -> None:
    """Delete a folder and all below it (on object stores: every object under the prefix)."""
    if not is_remote(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    delete(list_files(f"{path.rstrip('/')}/**"))
