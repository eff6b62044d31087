"""One writer per output: a lock object created atomically in the output folder.

Locally `O_CREAT | O_EXCL`; on GCS an object written with `ifGenerationMatch=0`, which
fails if it exists. It holds the run id, host, pid and start time, so a second run can
say which run holds it, and a lock left by a dead process on this host is taken over (a
killed one not yet reaped, and a pid reused by a process that started after the lock, count
as dead).
A lock from another host cannot be checked from here: `--force-unlock` removes it.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import os
import socket
from typing import Optional, Tuple

from transforms.dataset.names import LOCK
from transforms.errors import UserError
from transforms.inputs.paths import is_remote
from transforms.storage import files


class OutputLocked(UserError):
    """Another run writes this output."""


@dataclasses.dataclass(frozen=True)
class LockInfo:
    run: str
    host: str
    pid: int
    started: str

    def describe(self) -> str:
        return f"run {self.run}, pid {self.pid} on {self.host}, since {self.started}"

    def alive_here(self) -> Optional[bool]:
        """Whether the holder still runs: None when it is on another host (cannot tell). Not a
        process that is only a zombie (killed, not yet reaped: a container without an init
        never reaps it), nor one that started after the lock was taken (its pid reused)."""
        if self.host != socket.gethostname():
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        found = _process(self.pid)
        if found is None:  # no /proc here: the pid exists, that is all one can tell
            return True
        state, started = found
        if state in ("Z", "X"):
            return False
        try:
            taken = datetime.datetime.fromisoformat(self.started).timestamp()
        except ValueError:
            return True
        return started <= taken + _CLOCK_SLACK


# Seconds a holder may seem to have started after its lock: the lock's time is whole seconds, and a
# start time read from /proc follows the wall clock's later steps (NTP, a resumed VM). A pid reused
# that soon would need the pid space to wrap; the reuse this catches is a lock from before a reboot.
_CLOCK_SLACK = 60.0


def _process(pid: int) -> Optional[Tuple[str, float]]:
    """(state, start time in seconds since the epoch) of a process, from Linux's /proc; None
    elsewhere or if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()  # the name, in parentheses, may hold spaces
        with open("/proc/stat", "rb") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith(b"btime "))
        return fields[0].decode(), boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _path(root: str) -> str:
    return f"{root.rstrip('/')}/{LOCK}"


def read_lock(root: str) -> Optional[LockInfo]:
    try:
        raw = json.loads(files.read_text(_path(root)))
        return LockInfo(raw["run"], raw["host"], int(raw["pid"]), raw["started"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):  # a torn or foreign file: treat it as a dead lock
        return LockInfo("unknown", "unknown", -1, "unknown")
    except OSError:
        if not files.exists(_path(root)):
            return None
        raise


def acquire(root: str, run: str, force: bool = False) -> LockInfo:
    """Take the lock of the output `root` for `run` (creating the folder), or raise
    OutputLocked naming the run that holds it. A dead local holder's lock is taken over."""
    mine = LockInfo(run, socket.gethostname(), os.getpid(),
                    datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    if force:
        release(root)
    for _ in range(2):
        if _create(root, json.dumps(dataclasses.asdict(mine))):
            return mine
        holder = read_lock(root)
        if holder is None:
            continue  # released meanwhile: try again
        if holder.alive_here() is False or holder.run == "unknown":
            release(root)  # its process is gone: take it over
            continue
        raise OutputLocked(f"output.path: another conversion writes {root} ({holder.describe()}); wait for it "
                           "to finish, or pass --force-unlock if it is no longer running")
    raise OutputLocked(f"output.path: could not take the lock of {root}")


def release(root: str) -> None:
    files.delete([_path(root)])


def _create(root: str, text: str) -> bool:
    """Create the lock object if it does not exist; False if it does."""
    path = _path(root)
    if not is_remote(root):
        os.makedirs(root, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        return True
    if not root.startswith("gs://"):
        if files.exists(path):
            return False
        files.write_text(path, text)  # no conditional create on this store: best effort
        return True
    from google.api_core.exceptions import PreconditionFailed

    bucket, _, name = path[len("gs://"):].partition("/")
    try:
        files._gcs_client().bucket(bucket).blob(name).upload_from_string(text, if_generation_match=0)
    except PreconditionFailed:
        return False
    return True
