"""Beam's portable runners (`runner: flink | spark | portable`) on a job server the user runs.

The job is submitted to `portable.job_endpoint` (Flink's and Spark's job servers speak the
same Job API as any portable runner); workers run the SDK in `portable.environment_type`.
Beam's FlinkRunner and SparkRunner would otherwise try to start a job server from a jar
downloaded from Maven, which may hang or fail without saying why; here the endpoint is
required and answered within seconds, or named in one line. See docs/runners.md.
"""
from __future__ import annotations

import socket
from typing import Any, Callable, Dict

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.runner import PipelineRunner

from beam_jobs.config import JobConfig
from beam_jobs.errors import ConfigError
from beam_jobs.runners.base import JobRunner

CONNECT_SECONDS = 3.0
JOB_SERVERS = {
    "flink": "a Flink job server (docker run --net=host apache/beam_flink1.18_job_server:latest)",
    "spark": "a Spark job server (docker run --net=host apache/beam_spark3_job_server:latest)",
    "portable": "a Beam job server",
}


def reachable(endpoint: str, seconds: float = CONNECT_SECONDS) -> str:
    """'' if something listens at host:port, else why not."""
    host, _, port = endpoint.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=seconds):
            return ""
    except OSError as exc:
        return exc.strerror or type(exc).__name__


class PortableJobRunner(JobRunner):
    """Flink, Spark or any portable job server, by name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, cfg: JobConfig) -> None:
        endpoint = cfg.portable.job_endpoint
        if not endpoint:
            raise ConfigError("portable.job_endpoint", f"required with runner {self.name}: start "
                              f"{JOB_SERVERS[self.name]} and give its host:port (docs/runners.md)")
        why = reachable(endpoint)
        if why:
            raise ConfigError("portable.job_endpoint", f"no {self.name} job server answers at {endpoint} "
                              f"({why}); start {JOB_SERVERS[self.name]} (docs/runners.md)")

    def option_values(self, cfg: JobConfig) -> Dict[str, Any]:
        p = cfg.portable
        return {"runner": "PortableRunner", "job_endpoint": p.job_endpoint,
                "environment_type": p.environment_type, "environment_config": p.environment_config}

    def make(self, options: PipelineOptions) -> PipelineRunner:
        from apache_beam.runners.portability.portable_runner import PortableRunner

        return PortableRunner()

    def started(self, result, options: PipelineOptions, say: Callable[[str], None]) -> bool:
        say(f"submitted to the {self.name} job server; waiting for the job to finish")
        return True
