"""A call computed in a forked child process while this one does something else.

The command line imports Beam (about a second, on one core) before it can read anything; a
COCO file read in a child meanwhile comes back parsed, checked and packed on the other core
(docs/performance.md, Annotations). The child is forked only where that is safe: on a
platform with fork, from a process with a single thread (a fork copies held locks, not the
threads that would release them). Anywhere else, and if the child dies without an answer,
the call runs in this process when its result is asked for: same result, no overlap.
"""
from __future__ import annotations

import os
import pickle
import threading
from typing import Any, Callable, Optional, Tuple

from transforms.runtime.orphans import die_with_parent


class Forked:
    """`function(*args)`, begun in a child now; `result()` returns it or raises what it raised."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self._call: Tuple[Callable[..., Any], tuple] = (function, args)
        self._child: Optional[Tuple[int, int]] = None  # (pid, the read end of its pipe)
        if hasattr(os, "fork") and threading.active_count() == 1:
            self._child = _fork(function, args)

    def result(self) -> Any:
        answer = self._collect()
        if answer is None:  # no child, or it died without an answer: compute it here
            function, args = self._call
            return function(*args)
        ok, value = answer
        if not ok:
            raise value
        return value

    def cancel(self) -> None:
        """Stop the child if it still runs (a job that ends before using the result)."""
        if self._child is not None:
            pid, read_end = self._child
            self._child = None
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
            os.close(read_end)
            os.waitpid(pid, 0)

    def _collect(self) -> Optional[Tuple[bool, Any]]:
        if self._child is None:
            return None
        pid, read_end = self._child
        self._child = None
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        try:
            return pickle.loads(data) if data else None
        except Exception:  # noqa: BLE001 - a torn answer is no answer: compute it here
            return None


def _fork(function: Callable[..., Any], args: tuple) -> Optional[Tuple[int, int]]:
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: answer through the pipe and leave without running this process's exit hooks
        code = 0
        try:
            os.close(read_end)
            die_with_parent()  # a launch killed, or ended early, leaves no reader behind
            try:
                answer: Tuple[bool, Any] = (True, function(*args))
            except Exception as exc:  # noqa: BLE001 - raised in the parent, as the call would have
                answer = (False, exc)
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(answer, pipe, pickle.HIGHEST_PROTOCOL)
        except BaseException:  # noqa: BLE001 - no answer: the parent computes it itself
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end
