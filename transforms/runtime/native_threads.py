"""Native thread pools the job does not use.

numpy's OpenBLAS starts a thread for every core but one when numpy is first imported, and that
thread spins for tens of milliseconds of CPU, up to a tenth of a second, while Beam is imported
(numpy comes with it). On two cores it competed with the child reading a COCO file meanwhile
(runtime/forked.py): Beam's import took a median 56 ms longer with annotations than with the
thread gone (6 ABBA groups, docs/performance.md). The job calls no BLAS routine, and its own
threads and worker processes are its parallelism (as for OpenCV, image/resample.py).
"""
from __future__ import annotations

import os
import sys

BLAS_THREADS = "OPENBLAS_NUM_THREADS"


def one_blas_thread() -> bool:
    """Give numpy's BLAS one thread, as its environment variable does (worker processes inherit
    it), unless the environment already says how many; it takes effect only before numpy is
    imported. Whether it was set here."""
    if BLAS_THREADS in os.environ or "numpy" in sys.modules:
        return False
    os.environ[BLAS_THREADS] = "1"
    return True
