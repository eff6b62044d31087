"""A call computed in a forked child process while this one does something else.

The command line imports Beam (about a second, on one core) before it can read anything; a
COCO file read in a child meanwhile comes back parsed, checked and packed on the other core
(docs/performance.md, Annotations). The child is forked only where that is safe: on a
platform with fork, from a process with a single thread (a fork copies held locks, not the
threads that would release them). Anywhere else, and if the child dies without an answer,
the call runs in this process when its result is asked for: same result, no overlap.

The child leaves its answer in a temporary file with no name (gone once both processes have
closed it, whatever kills them) and exits: through a pipe, it waited for this process to read,
which took 30-45 ms of the launch for 4,000 COCO images' 2.7 MB, against 11-15 ms from the file.
"""
from __future__ import annotations

import os
import pickle
import tempfile
import threading
from typing import IO, Any, Callable, Optional, Tuple

from transforms.runtime.orphans import die_with_parent


class Forked:
    """`function(*args)`, begun in a child now; `result()` returns it or raises what it raised."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self._call: Tuple[Callable[..., Any], tuple] = (function, args)
        self._child: Optional[Tuple[int, IO[bytes]]] = None  # (pid, the file its answer goes to)
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
            pid, answer = self._child
            self._child = None
            try:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):  # gone, or reaped elsewhere
                pass
            answer.close()

    def _collect(self) -> Optional[Tuple[bool, Any]]:
        if self._child is None:
            return None
        pid, answer = self._child
        self._child = None
        with answer:
            try:
                os.waitpid(pid, 0)  # until it has answered, or died
            except ChildProcessError:  # reaped elsewhere: it has ended all the same
                pass
            answer.seek(0)
            try:  # a pickle cut short (a child killed while it wrote) does not load
                return pickle.loads(answer.read())
            except Exception:  # noqa: BLE001 - an unreadable answer is no answer: compute it here
                return None


def _fork(function: Callable[..., Any], args: tuple) -> Optional[Tuple[int, IO[bytes]]]:
    try:
        answer = tempfile.TemporaryFile(prefix="image2tfrecord-answer-")
    except OSError:  # nowhere to answer: the call runs here
        return None
    try:
        pid = os.fork()
    except OSError:
        answer.close()
        return None
    if pid == 0:  # the child: answer in the file and leave without running this process's exit hooks
        code = 1
        try:
            die_with_parent()  # a launch killed, or ended early, leaves no reader behind
            try:
                result: Tuple[bool, Any] = (True, function(*args))
            except Exception as exc:  # noqa: BLE001 - raised in the parent, as the call would have
                result = (False, exc)
            pickle.dump(result, answer, pickle.HIGHEST_PROTOCOL)
            answer.flush()
            code = 0
        except BaseException:  # noqa: BLE001 - no answer: the parent computes it itself
            code = 1
        finally:
            os._exit(code)
    return pid, answer
