"""No process outlives the run: worker processes die with their parent, also when the
parent is killed with SIGKILL (which runs no cleanup).

Measured before: after a SIGKILL of the job, the forkserver and its workers lived on,
re-parented to init. Workers now ask Linux for SIGKILL when their parent dies
(PR_SET_PDEATHSIG, set in each worker as it starts); the forkserver, whose parent may be
any thread of the job, watches for its parent to change instead (`exit_when_orphaned`).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Be killed when the parent process dies (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c")
    if not name:
        return
    libc = ctypes.CDLL(name, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def exit_when_orphaned(every_seconds: float = 0.5) -> None:
    """A daemon thread that ends this process once its parent is gone."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            threading.Event().wait(every_seconds)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-when-orphaned", daemon=True).start()
