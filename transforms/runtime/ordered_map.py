"""An in-order, bounded parallel map: threads overlap I/O and the codecs' GIL-free work."""
from __future__ import annotations

import collections
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Deque, Iterable, Iterator, List, Sequence, Tuple, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], threads: int,
                window: int = 0) -> Iterator[Tuple[T, R]]:
    """Yield (item, fn(item)) in input order, with at most `window` results in flight.

    The window bounds memory to a few decoded images however long `items` is.
    """
    if threads <= 1:
        for item in items:
            yield item, fn(item)
        return
    window = window or 2 * threads
    pending: Deque[Tuple[T, Future]] = collections.deque()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="convert") as pool:
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= window:
                head, future = pending.popleft()
                yield head, future.result()
        while pending:
            head, future = pending.popleft()
            yield head, future.result()


def ordered_runs_map(fn: Callable[[List[T]], List[R]], items: Sequence[T], threads: int,
                     run: int) -> Iterator[Tuple[T, R]]:
    """ordered_map over runs of up to `run` consecutive items (`fn` maps a run to its results,
    in order), flattened back to (item, result): for work that is cheaper done a run at a time
    (runtime.work.records_for). Runs shrink to give each thread at least four, so a short
    input still keeps every thread busy."""
    size = max(1, min(run, len(items) // (4 * max(1, threads))))
    runs = [list(items[start:start + size]) for start in range(0, len(items), size)]
    for chunk, results in ordered_map(fn, runs, threads):
        yield from zip(chunk, results)
