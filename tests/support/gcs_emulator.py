"""A real GCS emulator (gcp-storage-emulator) on a free loopback port, for the tests."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

BUCKET = "test-bucket"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the GCS emulator exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the GCS emulator did not listen on 127.0.0.1:{port} within {seconds}s")


@contextlib.contextmanager
def running_emulator() -> Iterator[str]:
    """Start the emulator in memory with one bucket; stop it whatever happens."""
    port = _free_port()
    command = [str(Path(sys.executable).parent / "gcp-storage-emulator"), "start", "--host", "127.0.0.1",
               "--port", str(port), "--in-memory", "--default-bucket", BUCKET, "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def client() -> storage.Client:
    return storage.Client(credentials=AnonymousCredentials(), project="test")


def upload_tree(local: Path, prefix: str) -> None:
    """Upload every file under `local` to gs://BUCKET/prefix/..., keeping relative paths."""
    bucket = client().bucket(BUCKET)
    for path in sorted(local.rglob("*")):
        if path.is_file():
            bucket.blob(f"{prefix}/{path.relative_to(local).as_posix()}").upload_from_filename(str(path))


def download_tree(prefix: str, local: Path) -> list:
    names = []
    for blob in client().list_blobs(BUCKET, prefix=prefix + "/"):
        target = local / blob.name[len(prefix) + 1:]
        target.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(target))
        names.append(blob.name[len(prefix) + 1:])
    return sorted(names)




__all__ = ["BUCKET", "running_emulator", "upload_tree", "download_tree", "client"]
