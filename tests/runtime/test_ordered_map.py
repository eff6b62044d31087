"""ordered_map: results in input order, at most `window` in flight, errors raised in order; ordered_runs_map
over runs of items."""
import threading
import time

import pytest

from transforms.runtime.ordered_map import ordered_map, ordered_runs_map


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



def test_runs_are_mapped_in_order_and_flattened_back_to_items():
    calls = []

    def squares(run):
        calls.append(list(run))
        time.sleep(0.001 * (5 - len(calls) % 5))  # later runs finish first
        return [n * n for n in run]

    assert list(ordered_runs_map(squares, list(range(100)), 2, lambda: 16)) == [(n, n * n) for n in range(100)]
    assert max(map(len, calls)) == 12  # 100 items for 2 threads: runs shrink to give each thread four
    assert sorted(n for run in calls for n in run) == list(range(100))


def test_each_run_is_as_long_as_the_caller_says_when_it_is_handed_out():
    taken, calls = [], []

    def sizes():  # a caller sizing runs by what it has taken so far
        return 1 if len(taken) < 3 else 5

    for item, _ in ordered_runs_map(lambda run: calls.append(run) or run, list(range(40)), 1, sizes):
        taken.append(item)
    assert [len(run) for run in calls[:3]] == [1, 1, 1] and {len(run) for run in calls[3:-1]} == {5}


def test_runs_of_a_short_input_are_single_items():
    calls = []
    assert list(ordered_runs_map(lambda run: calls.append(run) or run, ["a", "b", "c"], 2, lambda: 16)) == [
        ("a", "a"), ("b", "b"), ("c", "c")]
    assert calls == [["a"], ["b"], ["c"]]
