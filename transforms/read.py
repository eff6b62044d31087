"""Reading an input's bytes through Beam's FileSystems (local paths and gs:// alike).

Transient errors (timeouts, connection resets, 429 and 5xx from a bucket) are retried
with exponential backoff before they count as a failure; a missing file is not retried.
"""
from __future__ import annotations

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.utils import retry

from transforms.gcs import use_emulator_anonymously

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


@retry.with_exponential_backoff(num_retries=4, initial_delay_secs=0.5, retry_filter=is_transient)
def read_bytes(uri: str) -> bytes:
    """All bytes of `uri`, never decompressed on account of its name."""
    if uri.startswith("gs://"):
        use_emulator_anonymously()
    with FileSystems.open(uri, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return handle.read()
