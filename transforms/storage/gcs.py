"""Google Cloud Storage access details that Beam's FileSystems leave to the caller."""
from __future__ import annotations

import os
import threading

EMULATOR_ENV = "STORAGE_EMULATOR_HOST"
_done = threading.Event()


def use_emulator_anonymously() -> None:
    """With STORAGE_EMULATOR_HOST set, talk to the emulator anonymously at once.

    Beam's GCS client asks google.auth for credentials first, with four retries and
    backoff: 20-30 s per process when there are none, which an emulator never needs.
    Setting Beam's credential cache to "none found" makes it build the anonymous
    client straight away (google-cloud-storage then honours the emulator host). With
    real credentials and no emulator this does nothing.
    """
    if _done.is_set() or not os.environ.get(EMULATOR_ENV):
        return
    from apache_beam.internal.gcp import auth

    with auth._Credentials._credentials_lock:  # Beam keeps no public switch for this
        auth._Credentials._credentials = None
        auth._Credentials._credentials_init = True
    _done.set()
