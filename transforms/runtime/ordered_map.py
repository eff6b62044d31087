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
                     run_size: Callable[[], int]) -> Iterator[Tuple[T, R]]:
    """ordered_map over runs of consecutive items (`fn` maps a run to its results, in order),
    flattened back to (item, result): for work that is cheaper done a run at a time
    (runtime.work.records_for). Each run is cut as it is handed out, as long as `run_size()`
    says then (so a caller can size runs by what earlier results weighed), and never so long
    that a thread would get fewer than four: a short input still keeps every thread busy."""
    most = max(1, len(items) // (4 * max(1, threads)))

    def runs() -> Iterator[List[T]]:
        start = 0
        while start < len(items):
            size = max(1, min(most, run_size()))
            yield list(items[start:start + size])
            start += size

    for run, results in ordered_map(fn, runs(), threads):
        yield from zip(run, results)
