"""An in-order, bounded parallel map: threads overlap I/O and Pillow's GIL-free work."""
from __future__ import annotations

import collections
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Deque, Iterable, Iterator, Tuple, TypeVar

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
