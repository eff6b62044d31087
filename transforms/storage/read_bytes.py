"""Reading an input's bytes: URIs (gs:// and any other scheme) through Beam's FileSystems,
local paths straight from the disk.

Transient errors on URIs (timeouts, connection resets, 429 and 5xx from a bucket) are
retried with exponential backoff before they count as a failure; a missing file is not
retried. A local path is read once: Beam's LocalFileSystem would only open the same file
after resolving the scheme and building a filesystem object on every call.
"""
from __future__ import annotations

from transforms.inputs.paths import is_remote
from transforms.storage.files import open_read

_TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}


def is_transient(exc: BaseException) -> bool:
    """Whether a read error is worth another try."""
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return False
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    code = getattr(exc, "code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    try:
        return int(code) in _TRANSIENT_HTTP
    except (TypeError, ValueError):
        return False


def read_bytes(uri: str) -> bytes:
    """All bytes of `uri`, never decompressed on account of its name."""
    if not is_remote(uri):
        with open(uri, "rb") as handle:
            return handle.read()
    return _read_uri(uri)


def _read_uri(uri: str) -> bytes:
    from apache_beam.utils import retry

    @retry.with_exponential_backoff(num_retries=4, initial_delay_secs=0.5, retry_filter=is_transient)
    def attempt() -> bytes:
        with open_read(uri) as handle:
            return handle.read()

    return attempt()
