"""What the C libraries do behind the job's back (transforms/runtime/native.py): glibc's malloc
arenas and trims, and numpy's BLAS held to one thread in the job's processes (its spinning
thread slowed Beam's import beside the forked annotation reader)."""
import json
import os
import platform
import subprocess
import sys
from typing import Optional, Tuple

import pytest

from transforms.runtime.native import BLAS_THREADS, limit_malloc_arenas, release_free_memory

counts_threads = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")

THEN_NUMPY = """
import json, os
import numpy
print(json.dumps([len(os.listdir("/proc/self/task")), os.environ.get({name!r})]))
"""


def test_native_memory_helpers_use_glibc_when_it_is_there():
    assert limit_malloc_arenas(2) is (platform.libc_ver()[0] == "glibc")
    release_free_memory()  # callable everywhere


def _threads_with_numpy(before: str, env_value: Optional[str] = None) -> Tuple[int, Optional[str]]:
    """(the process's threads once numpy is imported, the variable then), after running `before`."""
    env = {key: value for key, value in os.environ.items() if key != BLAS_THREADS}
    if env_value is not None:
        env[BLAS_THREADS] = env_value
    code = before + THEN_NUMPY.format(name=BLAS_THREADS)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    threads, value = json.loads(out.stdout.splitlines()[-1])
    return threads, value


CALL = "import sys\nsys.argv = ['image2tfrecord', '--version']\nfrom beam_jobs import cli\ntry:\n    cli.{}\n" \
       "except SystemExit:\n    pass\n"


@counts_threads
def test_the_command_line_leaves_numpy_one_thread():
    assert _threads_with_numpy(CALL.format("run()")) == (1, "1")  # the console script
    threads, value = _threads_with_numpy("")  # without it: OpenBLAS starts a thread per core but one
    assert value is None and (threads > 1 if (os.cpu_count() or 1) > 1 else threads == 1)
    # a program calling main() keeps numpy as it comes
    assert _threads_with_numpy(CALL.format("main(['--version'])")) == (threads, None)


@counts_threads
def test_a_number_the_user_set_is_kept():
    user = "from transforms.runtime.native import one_blas_thread\nassert not one_blas_thread()\n"
    assert _threads_with_numpy(user, "2")[1] == "2"


@counts_threads
def test_it_is_not_set_once_numpy_is_imported():
    late = "import numpy\nfrom transforms.runtime.native import one_blas_thread\nassert not one_blas_thread()\n"
    assert _threads_with_numpy(late)[1] is None
