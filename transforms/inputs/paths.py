"""Paths and URIs, local or gs://: joining, relative keys, globs (pure string work)."""
from __future__ import annotations

import posixpath

from transforms.inputs.errors import ListingError

_GLOB_CHARS = "*?["


def is_remote(path: str) -> bool:
    return "://" in path


def is_glob(path: str) -> bool:
    return any(c in path for c in _GLOB_CHARS)


def join_path(base: str, path: str) -> str:
    """Resolve a listing entry against the listing's folder (absolute and gs:// kept)."""
    if is_remote(path) or path.startswith("/"):
        return path
    if is_remote(base):
        scheme, rest = base.split("://", 1)
        bucket, _, prefix = rest.partition("/")
        joined = posixpath.normpath(posixpath.join("/" + prefix, path)).lstrip("/")
        return f"{scheme}://{bucket}/{joined}"
    return posixpath.normpath(posixpath.join(base, path))


def dirname(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else "."


def relative_to(root: str, uri: str) -> str:
    """`uri` relative to the folder `root` (both as FileSystems.match spells them)."""
    prefix = root.rstrip("/") + "/"
    if not uri.startswith(prefix):
        raise ListingError(f"{uri} is not under {root}")
    return uri[len(prefix):]
