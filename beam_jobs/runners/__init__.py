"""Runners behind one seam: the jobs ask `runner_for(cfg)` and never branch on a name.

Adding a runner is one module with a `JobRunner` subclass, and one line in RUNNERS.
"""
from __future__ import annotations

from typing import Callable, Dict

from beam_jobs.config import JobConfig
from beam_jobs.runners.base import JobRunner

__all__ = ["JobRunner", "RUNNERS", "runner_for"]

RUNNERS: Dict[str, Callable[[], JobRunner]] = {
    "direct": lambda: _load("beam_jobs.runners.local", "LocalRunner")(),
    "dataflow": lambda: _load("beam_jobs.runners.dataflow", "DataflowJobRunner")(),
    "flink": lambda: _load("beam_jobs.runners.portable", "PortableJobRunner")("flink"),
    "spark": lambda: _load("beam_jobs.runners.portable", "PortableJobRunner")("spark"),
    "portable": lambda: _load("beam_jobs.runners.portable", "PortableJobRunner")("portable"),
}


def _load(module: str, name: str):
    import importlib

    return getattr(importlib.import_module(module), name)


def runner_for(cfg: JobConfig) -> JobRunner:
    """The JobRunner that `cfg.runner` names (the config has validated the name)."""
    return RUNNERS[cfg.runner]()
