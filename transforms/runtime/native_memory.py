"""Keeping a long conversion's resident memory flat (glibc's allocator; no-ops elsewhere).

Every converting thread decodes and frees megabytes of pixels. glibc gives each thread
an arena of its own (up to eight per core) and keeps freed pages in them, so without
help peak RSS creeps up with the number of images converted. Measured on the benchmark
with two arenas and a trim every TRIM_EVERY records it stays flat at no measurable cost in
speed (figures: docs/decisions.md "Malloc arenas and trims").
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Optional

_M_ARENA_MAX = -8  # mallopt parameter number in glibc's malloc.h
TRIM_EVERY = 256  # records between two trims in a shard writer


@functools.lru_cache(maxsize=1)
def _glibc() -> Optional[ctypes.CDLL]:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap malloc arenas, as MALLOC_ARENA_MAX does; call before threads start."""
    libc = _glibc()
    return bool(libc and libc.mallopt(_M_ARENA_MAX, arenas))


def release_free_memory() -> None:
    """Give freed heap pages back to the system (glibc's malloc_trim)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
