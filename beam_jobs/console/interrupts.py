"""Ctrl-C and SIGTERM: remembered, then raised as KeyboardInterrupt to stop the run at once.

Beam re-raises what a DoFn raised under other types, so the job asks `received()` rather
than trusting the exception that reaches it."""
from __future__ import annotations

import signal
import threading
from typing import Optional

_received: Optional[int] = None


def _handler(signum: int, frame: object) -> None:
    global _received
    _received = signum
    raise KeyboardInterrupt


def install() -> None:
    """From the main thread: SIGINT and SIGTERM stop the run (exit 128 + the signal)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _handler)
        signal.signal(signal.SIGTERM, _handler)


def received() -> Optional[int]:
    """The exit status for the signal that stopped the run (130, 143), if one did."""
    return None if _received is None else 128 + _received
