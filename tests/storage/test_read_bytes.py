"""Reading inputs: transient errors are retried, missing files are not."""
import collections

import pytest
from apache_beam.io.localfilesystem import LocalFileSystem
from google.api_core import exceptions as gexc

from transforms.storage.read_bytes import is_transient, read_bytes

_ATTEMPTS = collections.Counter()


class FlakyFileSystem(LocalFileSystem):
    """flaky:///path is the local file at /path, after two 503s from a pretend bucket.

    A real Beam FileSystem plugin (Beam finds it by its scheme), so read_bytes goes
    through FileSystems exactly as it does for gs://.
    """

    @classmethod
    def scheme(cls):
        return "flaky"

    def open(self, path, mime_type="application/octet-stream", compression_type=None):
        local = path[len("flaky://"):]
        _ATTEMPTS[local] += 1
        if _ATTEMPTS[local] <= 2:
            raise gexc.ServiceUnavailable("503 backend busy")
        return super().open(local, mime_type, compression_type)


def test_transient_errors_are_retried(tmp_path):
    path = tmp_path / "img.bin"
    path.write_bytes(b"bytes")
    assert read_bytes(f"flaky://{path}") == b"bytes"
    assert _ATTEMPTS[str(path)] == 3


def test_missing_files_fail_at_once(tmp_path):
    with pytest.raises(Exception) as error:
        read_bytes(str(tmp_path / "nope.jpg"))
    assert not is_transient(error.value)


@pytest.mark.parametrize("exc,transient", [
    (TimeoutError("t"), True),
    (ConnectionResetError("r"), True),
    (gexc.ServiceUnavailable("503"), True),
    (gexc.TooManyRequests("429"), True),
    (gexc.InternalServerError("500"), True),
    (gexc.NotFound("404"), False),
    (gexc.Forbidden("403"), False),
    (FileNotFoundError("f"), False),
    (ValueError("v"), False),
])
def test_which_errors_are_transient(exc, transient):
    assert is_transient(exc) is transient
