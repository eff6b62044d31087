"""Files in and out, local or in a bucket: local paths straight through the OS, URIs
(gs:// and any scheme Beam knows) through Beam's FileSystems, imported only for them.

So reading a local dataset back never imports Beam (about 1 s), and the pipeline uses
the same calls for local disks and object stores.
"""
from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, FrozenSet, Iterator, List, Optional, Sequence, Tuple

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
    """A small file's text (UTF-8, without the byte-order mark Windows tools start files with);
    FileNotFoundError when it is not there, local or in a bucket."""
    if not is_remote(path):
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8-sig")
    try:
        with open_read(path) as handle:
            return handle.read().decode("utf-8-sig")
    except Exception as exc:  # a bucket's 404 arrives as its client's own exception
        if not exists(path):
            raise FileNotFoundError(path) from exc
        raise


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


def list_top(folder: str) -> List[str]:
    """The names directly in `folder` (files and folders; none if it does not exist)."""
    if not is_remote(folder):
        try:
            return sorted(os.listdir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return []
    prefix = folder.rstrip("/") + "/"
    return sorted({path[len(prefix):].split("/", 1)[0] for path in list_files(prefix + "**")})


def rename(sources: Sequence[str], targets: Sequence[str]) -> None:
    """Move files, replacing what is at the targets (a rename locally; copy and delete in buckets)."""
    local = [(s, t) for s, t in zip(sources, targets) if not is_remote(s) and not is_remote(t)]
    for source, target in local:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        os.replace(source, target)
    remote = [(s, t) for s, t in zip(sources, targets) if is_remote(s) or is_remote(t)]
    if remote:
        use_emulator_anonymously()
        _filesystems().rename([s for s, _ in remote], [t for _, t in remote])


def delete(paths: Sequence[str]) -> None:
    """Delete files (a missing one is no error)."""
    for path in (p for p in paths if not is_remote(p)):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
    remote = [p for p in paths if is_remote(p)]
    if remote:
        use_emulator_anonymously()
        _filesystems().delete(remote)


def remove_tree(path: str) -> None:
    """Delete a folder and all below it (on object stores: every object under the prefix)."""
    if not is_remote(path):
        shutil.rmtree(path, ignore_errors=True)
        return
    delete(list_files(f"{path.rstrip('/')}/**"))


def version(path: str) -> str:
    """What tells a local file's bytes changed without reading them: its size and modification
    time ("" for a remote URI, "missing" if it is gone). Shard markers fold it in (resume)."""
    if is_remote(path):
        return ""
    try:
        status = os.stat(path)
    except OSError:
        return "missing"
    return f"{status.st_size}:{status.st_mtime_ns}"


STAT_THREADS = 8  # a network filesystem answers a stat in 0.1-1 ms; os.stat releases the GIL
_STAT_PROBE = 64  # stats timed first: in threads only if these took long (a local disk: 1-2 us each)
_SLOW_STAT = 20e-6  # seconds


def versions(paths: Sequence[str]) -> List[str]:
    """`version` of each path, in order. Where the first stats are slow (a network filesystem),
    the rest run in STAT_THREADS threads, so a shard does not wait on them one after another;
    on a local disk threads would cost more than the stats (600: 6 ms against 1.9)."""
    started = time.perf_counter()
    found = [version(p) for p in paths[:_STAT_PROBE]]
    rest = paths[_STAT_PROBE:]
    if not rest or (time.perf_counter() - started) / max(1, len(found)) < _SLOW_STAT:
        return found + [version(p) for p in rest]
    chunks = [rest[i:i + _STAT_PROBE] for i in range(0, len(rest), _STAT_PROBE)]
    with ThreadPoolExecutor(max_workers=min(STAT_THREADS, len(chunks)), thread_name_prefix="stat") as pool:
        return found + [v for chunk in pool.map(lambda part: [version(p) for p in part], chunks) for v in chunk]


def _is_dir(entry: os.DirEntry) -> bool:
    """A folder, or a link to one (a dangling link is a file)."""
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


def walk(root: str, exclude: Sequence[str] = (), ordered: bool = True) -> Iterator[Tuple[str, Optional[str]]]:
    """(path, None) for every file below the local folder `root`, in name order (or, not
    `ordered`, in the order the folder lists them: nothing is held but the open folders), and
    (folder, why) for a folder that cannot be read. Symlinked folders are followed (a link
    back to a folder being walked is a loop and is not); hidden files and folders (a name
    starting with ".") are skipped, and so is anything below `exclude`. A dangling link is
    yielded like a file: reading it then fails, so it is never lost silently."""
    skip = {os.path.abspath(p) for p in exclude}

    def visit(folder: str, ancestors: FrozenSet[Tuple[int, int]]) -> Iterator[Tuple[str, Optional[str]]]:
        try:
            scan = os.scandir(folder)
        except OSError as exc:
            yield folder, f"cannot list folder: {exc.strerror}"
            return
        with scan:
            try:  # sorted: names and kinds, not DirEntry objects (200,000 files: 47 MB of those, 26 of these)
                entries = iter(sorted(_entries(scan))) if ordered else _entries(scan)
            except OSError as exc:
                yield folder, f"cannot list folder: {exc.strerror}"
                return
            while True:
                try:
                    name, is_dir = next(entries)
                except StopIteration:
                    return
                except OSError as exc:  # listing it broke off part way (not ordered)
                    yield folder, f"cannot list folder: {exc.strerror}"
                    return
                path = os.path.join(folder, name)
                if skip and os.path.abspath(path) in skip:
                    continue
                if not is_dir:
                    yield path, None
                    continue
                info = os.stat(path)
                identity = (info.st_dev, info.st_ino)
                if identity not in ancestors:
                    yield from visit(path, ancestors | {identity})

    top = os.stat(root)
    yield from visit(root.rstrip("/") or "/", frozenset({(top.st_dev, top.st_ino)}))


def _entries(scan: Iterator[os.DirEntry]) -> Iterator[Tuple[str, bool]]:
    """(name, is a folder) of what a folder holds but its hidden entries."""
    return ((entry.name, _is_dir(entry)) for entry in scan if not entry.name.startswith("."))


def iter_remote(root: str) -> Iterator[str]:
    """Every object below the bucket folder `root`, streamed page by page (gs:// through
    google-cloud-storage; other schemes through Beam's FileSystems, listed at once)."""
    use_emulator_anonymously()
    prefix = root.rstrip("/") + "/"
    if root.startswith("gs://"):
        bucket, _, path = prefix[len("gs://"):].partition("/")
        for blob in _gcs_client().list_blobs(bucket, prefix=path):
            yield f"gs://{bucket}/{blob.name}"
        return
    yield from list_files(prefix + "**")


def _gcs_client():
    """A client as Beam's would be: anonymous with an emulator, else the default credentials."""
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(credentials=AnonymousCredentials(), project="emulator")
    return storage.Client()
