"""Python's cyclic garbage collector kept off the work it cannot help with.

A full collection walks every object the process holds, and a process that has imported
Beam, TensorFlow's protobufs and the job holds about 200,000: each full pass took 40-170 ms
with every thread stopped. Starting the command line set off three of them while it
imported (0.3 s of a run's fixed cost), and a detection run one more mid-conversion, set off
by the refs with their annotations that the runner buffers (docs/performance.md, "Garbage
collection"). The work itself makes few cycles: collections of the young generations still
run as usual."""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No collections at all: for a burst of allocations that makes no cycles (reading a large
    annotation file: 36,000 COCO boxes read in 0.14 s instead of 0.37-0.6), or the imports
    and job building of a command-line run, before `collector_frozen` takes over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def collector_frozen() -> Iterator[None]:
    """Collections on (whatever they were before), over what is made from here on only: every
    object alive now (modules, the pipeline) is moved out of their reach, and back after, so
    that anything of it that is garbage by then is still collected."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.enable()
    try:
        yield
    finally:
        gc.unfreeze()
        if not enabled:
            gc.disable()
