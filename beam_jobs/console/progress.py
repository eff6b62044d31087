"""The conversion's progress on the terminal: one live line on a terminal, a plain line every
so often in a log, nothing with --quiet."""
from __future__ import annotations

import sys
import threading
from typing import Optional, TextIO

from transforms.runtime.progress import PROGRESS, Snapshot

LOG_EVERY_SECONDS = 10.0


def _clock(seconds: Optional[float]) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def line(snapshot: Snapshot) -> str:
    """`1200/4000 images, 512/s, ETA 0:05, 3 failed`."""
    total = "?" if snapshot.total is None else str(snapshot.total)
    text = f"{snapshot.done}/{total} images, {snapshot.rate:.0f}/s, ETA {_clock(snapshot.eta)}"
    return text + (f", {snapshot.failed} failed" if snapshot.failed else "")


class ProgressDisplay:
    """A thread that shows PROGRESS until stopped."""

    def __init__(self, stream: Optional[TextIO] = None, live: Optional[bool] = None) -> None:
        stream = stream or sys.stderr  # the stream of now, not of when this module was imported
        self._stream = stream
        self._live = stream.isatty() if live is None else live
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._shown = False

    def __enter__(self) -> "ProgressDisplay":
        PROGRESS.reset()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._live:
            self._show()  # the last count, however short the run
            if self._shown:
                self._stream.write("\r\033[K")  # the summary takes the line's place
                self._stream.flush()

    def _run(self) -> None:
        every = 0.25 if self._live else LOG_EVERY_SECONDS
        while not self._stop.wait(every):
            self._show()

    def _show(self) -> None:
        snapshot = PROGRESS.snapshot()
        if snapshot.done == 0:
            return
        if self._live:
            self._stream.write(f"\r\033[K  {line(snapshot)}")
        else:
            self._stream.write(f"progress: {line(snapshot)}\n")
        self._stream.flush()
        self._shown = True
