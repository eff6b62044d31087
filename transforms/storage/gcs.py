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


class NoCredentials(Exception):
    """gs:// is used, no emulator is set, and Google Cloud credentials cannot be found."""


def check_credentials(seconds: float = 8.0) -> None:
    """Find Application Default Credentials (or the emulator) within `seconds`, else raise
    NoCredentials: Beam would otherwise retry for minutes, printing tracebacks."""
    if os.environ.get(EMULATOR_ENV):
        return
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    outcome: list = []

    def look() -> None:
        try:
            google.auth.default()
            outcome.append(None)
        except DefaultCredentialsError as exc:
            outcome.append(exc)

    finder = threading.Thread(target=look, name="find-credentials", daemon=True)
    finder.start()
    finder.join(seconds)
    if not outcome or outcome[0] is not None:
        raise NoCredentials("no Google Cloud credentials found" + ("" if outcome else f" within {seconds:.0f} s"))
