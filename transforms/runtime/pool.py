"""Image conversion in worker processes.

Threads share one GIL: JPEGs decode and encode without it (transforms/turbo_jpeg.py) and
Pillow resizes without it, but the Python around them, and Pillow's other codecs, hold
it, so on many cores threads stop scaling while worker processes do not. There is one
pool per process (shared by every shard writer in it), started early so its start-up
overlaps listing. Workers are forked from a clean forkserver, never from the threaded
runner, and do not import the caller's __main__.

A worker that dies (a decoder crash, the OOM killer) breaks every conversion in flight.
Each of those images is then tried once more, alone, in a process of its own: the one
that kills that process too is the culprit and becomes a failure; the rest convert.
If the pool cannot run at all, conversion falls back to the calling thread.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from transforms.elements import STAGE_DECODE, Failure, ImageRef
from transforms.image.decode import sniff_format
from transforms.image.spec import ImageSpec
from transforms.runtime.orphans import die_with_parent
from transforms.runtime.work import BuiltRecord, build_record

_LOG = logging.getLogger(__name__)
_MAX_BROKEN_IN_A_ROW = 3


class WorkerCrashed(RuntimeError):
    """The worker process converting this image died."""


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["transforms.runtime.forkserver_preload"])  # see that module
    return context


Record = Union[BuiltRecord, Failure]


class ConvertPool:
    """`runtime.work.build_record` in `processes` worker processes, callable from many threads."""

    def __init__(self, processes: int, work: Callable[..., Record] = build_record) -> None:
        self._processes = processes
        self._work = work  # a module-level function, so workers can unpickle it
        self._lock = threading.Lock()
        self._executor: Optional[ProcessPoolExecutor] = None
        self._generation = 0
        self._broken_in_a_row = 0
        self._disabled = False

    def _current(self) -> Tuple[Optional[ProcessPoolExecutor], int]:
        """The running pool, started (and checked with one small task) on first use."""
        with self._lock:
            if self._executor is None and not self._disabled:
                executor = ProcessPoolExecutor(self._processes, mp_context=_context(), initializer=die_with_parent)
                try:
                    executor.submit(sniff_format, b"").result(timeout=120)
                except Exception as exc:  # noqa: BLE001 - the pool cannot run here
                    executor.shutdown(wait=False, cancel_futures=True)
                    self._disabled = True
                    _LOG.warning("conversion worker processes cannot start (%s); converting in threads",
                                 type(exc).__name__)
                else:
                    self._executor = executor
                    self._generation += 1
            return self._executor, self._generation

    def _broken(self, generation: int) -> None:
        with self._lock:
            if self._executor is not None and generation == self._generation:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
                self._broken_in_a_row += 1
                if self._broken_in_a_row >= _MAX_BROKEN_IN_A_ROW and not self._disabled:
                    self._disabled = True
                    _LOG.warning("conversion worker processes keep failing; converting in threads")

    def shutdown(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

    def warm_up(self) -> None:
        """Start the workers in the background, so they are up before the first shard."""
        threading.Thread(target=self._current, name="convert-pool-start", daemon=True).start()

    def record(self, ref: ImageRef, spec: ImageSpec, label: Optional[int], kinds: Mapping[str, str],
               *more: Any) -> Record:
        """Read, convert and serialize `ref` in a worker (see `runtime.work.build_record`;
        `more`: its further arguments)."""
        args = (ref, spec, label, kinds, *more)
        executor, generation = self._current()
        if executor is None:
            return self._work(*args)
        try:
            result = executor.submit(self._work, *args).result()
        except BrokenProcessPool:
            self._broken(generation)
            return self._record_alone(args)
        self._broken_in_a_row = 0
        return result

    def _record_alone(self, args: Tuple[Any, ...]) -> Record:
        """Retry in a one-off process, so a crash is blamed on the image that causes it."""
        ref = args[0]
        if self._disabled:
            return self._work(*args)
        with ProcessPoolExecutor(1, mp_context=_context(), initializer=die_with_parent) as alone:
            try:
                return alone.submit(self._work, *args).result()
            except BrokenProcessPool:
                return Failure.from_exception(ref.uri, STAGE_DECODE, WorkerCrashed(
                    "the worker process died converting this image (twice)"))


_POOLS: Dict[int, ConvertPool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(processes: int) -> ConvertPool:
    """The process-wide pool of `processes` workers."""
    with _POOLS_LOCK:
        if processes not in _POOLS:
            _POOLS[processes] = ConvertPool(processes)
        return _POOLS[processes]


def shutdown_pools() -> None:
    """Stop every pool's workers (the CLI does before it exits without interpreter teardown)."""
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.shutdown()
        _POOLS.clear()


def local_processes(setting: object) -> int:
    """`auto`: one worker per core on machines with more than two cores, else none.

    On 2 cores threads convert faster than two workers (the IPC takes the core a worker
    would need; docs/decisions.md "Threads on two cores"); with more
    cores, threads stop at the GIL while workers keep scaling. 0 converts in the threads.
    """
    if setting != "auto":
        return int(setting)
    cores = os.cpu_count() or 1
    return cores if cores > 2 else 0
