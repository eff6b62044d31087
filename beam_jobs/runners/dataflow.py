"""Dataflow: prerequisites checked before submission, the config mapped to Beam options,
and the submitted job followed."""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions
from apache_beam.runners.runner import PipelineRunner

from beam_jobs.config import JobConfig
from beam_jobs.errors import ConfigError, Problem
from beam_jobs.runners.base import JobRunner

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A GCS bucket name: 3-63 of a-z 0-9 - _ . (Beam would otherwise try to create a default bucket).
_GCS_PATH = re.compile(r"^gs://[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](/.*)?$")
# A project ID as Beam checks it (not the project's display name or number).
_PROJECT_ID = re.compile(r"^[a-z][-a-z0-9:.]{4,61}[a-z0-9]$")


def setup_file() -> Optional[str]:
    """The project's setup.py, staged so workers get beam_jobs and transforms."""
    path = PROJECT_ROOT / "setup.py"
    return str(path) if path.exists() else None


def problems(cfg: JobConfig) -> List[Problem]:
    """Every missing or wrong Dataflow prerequisite, as (key, message)."""
    d = cfg.dataflow
    found = []
    if not d.project:
        found.append(("dataflow.project", "required with runner dataflow"))
    elif not _PROJECT_ID.match(d.project):
        found.append(("dataflow.project", f"{d.project!r} is not a project ID (6-63 of a-z 0-9 -)"))
    if not d.region:
        found.append(("dataflow.region", "required with runner dataflow (e.g. us-central1)"))
    if not d.temp_location:
        found.append(("dataflow.temp_location", "required with runner dataflow (a gs:// path)"))
    elif not _GCS_PATH.match(d.temp_location):
        found.append(("dataflow.temp_location", f"must be a gs://bucket/path, got {d.temp_location}"))
    if d.staging_location and not _GCS_PATH.match(d.staging_location):
        found.append(("dataflow.staging_location", f"must be a gs://bucket/path, got {d.staging_location}"))
    for key, path in (("input.path", cfg.input.path), ("output.path", cfg.output.path)):
        if not path.startswith("gs://"):
            found.append((key, f"Dataflow workers cannot reach local path {path}; use gs://"))
        elif not _GCS_PATH.match(path):
            found.append((key, f"{path} is not a valid gs://bucket/path"))
    if not d.worker_image and setup_file() is None:
        found.append(("dataflow.worker_image", "needed when setup.py is not beside the installed "
                      "project (install from a clone, or build the Dockerfile's image)"))
    return found


def option_values(cfg: JobConfig) -> Dict[str, Any]:
    """Beam pipeline options for Dataflow from the config."""
    d = cfg.dataflow
    values: Dict[str, Any] = {
        "runner": "DataflowRunner",
        "project": d.project,
        "region": d.region,
        "temp_location": d.temp_location,
        "staging_location": d.staging_location or (d.temp_location.rstrip("/") + "/staging"
                                                   if d.temp_location else None),
        "machine_type": d.machine_type,
        "max_num_workers": d.max_workers,
        "service_account_email": d.service_account,
        "network": d.network,
        "subnetwork": d.subnetwork,
        "job_name": d.job_name,
    }
    if d.worker_image:
        values["sdk_container_image"] = d.worker_image
        values["sdk_location"] = "container"
    else:
        values["setup_file"] = setup_file()
    return values


FOLLOW_SECONDS = 30


class DataflowJobRunner(JobRunner):
    name = "dataflow"
    supports_dry_run = True

    def check(self, cfg: JobConfig) -> None:
        found = problems(cfg)
        if found:
            raise ConfigError(problems=found)

    def option_values(self, cfg: JobConfig) -> Dict[str, Any]:
        return option_values(cfg)

    def make(self, options: PipelineOptions) -> PipelineRunner:
        from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner

        return DataflowRunner()

    def started(self, result, options: PipelineOptions, say: Callable[[str], None]) -> bool:
        template = options.view_as(GoogleCloudOptions).template_location
        if template:
            say(f"wrote a Dataflow template to {template}; the project is staged beside it")
            return False
        cloud = options.view_as(GoogleCloudOptions)
        say(f"submitted Dataflow job {result.job_id()}; progress and logs: "
            f"https://console.cloud.google.com/dataflow/jobs/{cloud.region}/{result.job_id()}?project={cloud.project}")
        return True

    def follow(self, result, say: Callable[[str], None]) -> None:
        """Wait, saying every half minute what the job's counters say (its workers are elsewhere)."""
        from apache_beam.runners.runner import PipelineState

        from transforms.pipeline.metrics import counters

        while not PipelineState.is_terminal(result.wait_until_finish(duration=FOLLOW_SECONDS * 1000)):
            counted = counters(result)
            failed = sum(v for k, v in counted.items() if k.startswith("images_failed_"))
            say(f"progress: {counted.get('images_converted', 0)} images converted, {failed} failed "
                f"({result.state})")

    def scratch_prefix(self, cfg: JobConfig, root: str) -> str:
        return f"{cfg.dataflow.temp_location.rstrip('/')}/verify-{uuid.uuid4().hex[:12]}"
