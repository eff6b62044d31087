"""ordered_map: results in input order, at most `window` in flight, errors raised in order."""
import threading
import time

import pytest

from transforms.runtime.ordered_map import ordered_map


def test_results_come_in_input_order_whatever_finishes_first():
    def slow_for_small(n):
        time.sleep(0.002 * (10 - n))  # the first items finish last
        return n * n
    assert list(ordered_map(slow_for_small, range(10), threads=4)) == [(n, n * n) for n in range(10)]


def test_no_more_than_the_window_is_in_flight():
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def work(n):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.001)
        with lock:
            state["now"] -= 1
        return n

    consumed = []
    for item, _ in ordered_map(work, range(50), threads=8, window=3):
        consumed.append(item)
    assert consumed == list(range(50)) and 1 < state["peak"] <= 3


def test_one_thread_runs_in_the_caller():
    seen = []
    assert list(ordered_map(lambda n: seen.append(threading.current_thread().name) or n, [1, 2], 1)) == [(1, 1), (2, 2)]
    assert set(seen) == {threading.current_thread().name}


def test_an_error_is_raised_at_its_place():
    def fail_on_three(n):
        if n == 3:
            raise ValueError("three")
        return n
    results = ordered_map(fail_on_three, range(6), threads=2)
    assert [next(results)[0] for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="three"):
        next(results)
