"""Imported by the conversion forkserver as it starts, and by nothing else: it loads what
every worker needs (Pillow, the codecs, the per-image work) once, before workers fork
from it, and makes the forkserver end when the job that started it is gone."""
from transforms.runtime import work  # noqa: F401 - loaded once here, inherited by every worker
from transforms.runtime.orphans import exit_when_orphaned

exit_when_orphaned()
