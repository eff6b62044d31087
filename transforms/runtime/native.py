"""What C libraries do behind the job's back, kept in check: glibc's malloc arenas (no-ops
elsewhere) and numpy's BLAS threads.

Every converting thread decodes and frees megabytes of pixels. glibc gives each thread
an arena of its own (up to eight per core) and keeps freed pages in them, so without
help peak RSS creeps up with the number of images converted. Measured on the benchmark
with two arenas and a trim every TRIM_EVERY records it stays flat at no measurable cost in
speed (figures: docs/decisions.md "Malloc arenas and trims").

numpy's OpenBLAS starts a thread for every core but one when numpy is first imported, and that
thread spins for tens of milliseconds of CPU, up to a tenth of a second, while Beam is imported
(numpy comes with it). On two cores it competed with the child reading a COCO file meanwhile
(runtime/forked.py): Beam's import took a median 56 ms longer with annotations than with the
thread gone (6 ABBA groups, docs/performance.md). The job calls no BLAS routine, and its own
threads and worker processes are its parallelism (as for OpenCV, image/resample.py).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
from typing import Optional

BLAS_THREADS = "OPENBLAS_NUM_THREADS"
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


def one_blas_thread() -> bool:
    """Give numpy's BLAS one thread, as its environment variable does (worker processes inherit
    it), unless the environment already says how many; it takes effect only before numpy is
    imported. Whether it was set here."""
    if BLAS_THREADS in os.environ or "numpy" in sys.modules:
        return False
    os.environ[BLAS_THREADS] = "1"
    return True
