"""What the conversion has done so far, in this process: the shard writers count into it,
and a display (the command line's) reads it. On a distributed runner the writers run
elsewhere and this stays at zero; the job's counters tell progress there."""
from __future__ import annotations

import dataclasses
import threading
import time
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Snapshot:
    total: Optional[int]  # images to convert (known once shards are planned)
    done: int  # converted or failed
    failed: int
    seconds: float  # since the first image

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta(self) -> Optional[float]:
        if self.total is None or self.rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)


class Progress:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._total: Optional[int] = None
            self._done = self._failed = 0
            self._started: Optional[float] = None

    def set_total(self, total: int) -> None:
        with self._lock:
            self._total = total

    def advance(self, converted: int = 0, failed: int = 0) -> None:
        with self._lock:
            if self._started is None:
                self._started = time.monotonic()
            self._done += converted + failed
            self._failed += failed

    def snapshot(self) -> Snapshot:
        with self._lock:
            seconds = time.monotonic() - self._started if self._started is not None else 0.0
            return Snapshot(self._total, self._done, self._failed, seconds)


PROGRESS = Progress()
