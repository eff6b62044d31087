"""libtiff's own warnings and errors, which it prints to the terminal, caught instead and
handed to the image being decoded: a failure line then says what libtiff said.

libtiff reports through process-wide handlers (TIFFSetWarningHandler, TIFFSetErrorHandler).
They are set once, to a callback that formats the message (vsnprintf over libtiff's
va_list) and appends it to the list of the thread that is decoding, if it asked for one;
otherwise the message is dropped, never printed. Pillow's wheels bundle the libtiff they
use, and that is the one configured here.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import glob
import os
import platform
import threading
from typing import Iterator, List, Optional

_state = threading.local()
_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)


def _pillow_libtiff() -> Optional[ctypes.CDLL]:
    import PIL

    wheel_libs = os.path.join(os.path.dirname(os.path.dirname(PIL.__file__)), "pillow.libs")
    candidates = sorted(glob.glob(os.path.join(wheel_libs, "libtiff*.so*")))
    name = candidates[0] if candidates else ctypes.util.find_library("tiff")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def _record(module: Optional[bytes], fmt: Optional[bytes], args: Optional[int]) -> None:
    messages = getattr(_state, "messages", None)
    if messages is None:
        return
    text = (fmt or b"").decode("utf-8", "replace")
    if args is not None and fmt and _FORMAT is not None:
        buffer = ctypes.create_string_buffer(1024)
        _FORMAT(buffer, len(buffer), fmt, ctypes.c_void_p(args))
        text = buffer.value.decode("utf-8", "replace")
    where = (module or b"").decode("utf-8", "replace")
    messages.append(f"{where}: {text}" if where and not text.startswith(where) else text)


_CALLBACK = _HANDLER(_record)  # kept alive for as long as libtiff may call it
_FORMAT = None
if platform.machine() in ("x86_64", "AMD64"):  # va_list is passed as a pointer there
    _libc = ctypes.CDLL(ctypes.util.find_library("c"))
    _FORMAT = _libc.vsnprintf
    _FORMAT.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]


@functools.lru_cache(maxsize=1)
def _installed() -> bool:
    library = _pillow_libtiff()
    if library is None:
        return False
    for name in ("TIFFSetWarningHandler", "TIFFSetErrorHandler"):
        setter = getattr(library, name)
        setter.restype = ctypes.c_void_p
        setter.argtypes = [_HANDLER]
        setter(_CALLBACK)
    return True


@contextlib.contextmanager
def messages() -> Iterator[List[str]]:
    """The messages libtiff reports in this thread while the block runs (none reach stderr)."""
    _installed()
    found: List[str] = []
    previous = getattr(_state, "messages", None)
    _state.messages = found
    try:
        yield found
    finally:
        _state.messages = previous
