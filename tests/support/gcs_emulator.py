"""A real GCS emulator (gcp-storage-emulator) on a free loopback port, for the tests."""
from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from tests.support.ports import free_port, wait_for_port

BUCKET = "test-bucket"


@contextlib.contextmanager
def running_emulator() -> Iterator[str]:
    """Start the emulator in memory with one bucket; stop it whatever happens."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "gcp-storage-emulator"), "start", "--host", "127.0.0.1",
               "--port", str(port), "--in-memory", "--default-bucket", BUCKET, "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
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
