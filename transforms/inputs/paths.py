"""Paths and URIs, local or gs://: joining, relative keys, globs (pure string work)."""
from __future__ import annotations

import posixpath

from transforms.elements import STAGE_LIST, Failure
from transforms.inputs.errors import ListingError

_GLOB_CHARS = "*?["


def is_remote(path: str) -> bool:
    return "://" in path


def is_utf8(path: str) -> bool:
    """Whether a path can be written as UTF-8: a local file name that is not (a Latin-1 name
    from an old archive) reaches Python with surrogate escapes, which no record, manifest or
    Beam coder carries."""
    if path.isascii():
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(path: str) -> str:
    """A path as a failure line names it: the bytes of a name that is not UTF-8 escaped (\\xe9)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def name_not_utf8(path: str) -> Failure:
    """The `list` failure of an image whose path is not UTF-8 (is_utf8)."""
    return Failure.of(shown(path), STAGE_LIST, "NameNotUtf8", "its path is not UTF-8: rename it (e.g. convmv "
                                                              "-f latin1 -t utf8 --notest -r FOLDER) and convert again")


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
