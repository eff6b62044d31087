"""What the jobs need from a runner, in one place: its checks, its options, the runner
object, and how a submitted job is followed. Each runner module subclasses `JobRunner`."""
from __future__ import annotations

import tempfile
import uuid
from typing import Any, Callable, Dict

from apache_beam.options.pipeline_options import PipelineOptions, TestOptions
from apache_beam.runners.runner import PipelineRunner

from beam_jobs.config import JobConfig
from beam_jobs.errors import ConfigError


class JobRunner:
    """A runner as the jobs see it. `distributed`: workers on other machines, so work is
    spread after listing (Reshuffle) and no local worker processes are started."""

    name = "base"
    distributed = True
    supports_dry_run = False

    def check(self, cfg: JobConfig) -> None:
        """Stop before anything runs, naming every missing or wrong prerequisite."""

    def option_values(self, cfg: JobConfig) -> Dict[str, Any]:
        """Beam options of this runner, before the config's `pipeline_options`."""
        return {}

    def options(self, cfg: JobConfig, dry_run: bool = False) -> PipelineOptions:
        """The config's `pipeline_options` over the runner's own; `dry_run` builds the job
        offline (runners that support it)."""
        if dry_run and not self.supports_dry_run:
            raise ConfigError("runner", f"--dry-run builds a Dataflow job offline; set runner: dataflow "
                                        f"(runner {self.name} has no dry run)")
        values = {k: v for k, v in self.option_values(cfg).items() if v is not None}
        values.update(cfg.pipeline_options)
        options = PipelineOptions.from_dictionary(values)
        options.view_as(TestOptions).dry_run = dry_run
        return options

    def make(self, options: PipelineOptions) -> PipelineRunner:
        raise NotImplementedError

    def started(self, result, options: PipelineOptions, say: Callable[[str], None]) -> bool:
        """Say what was submitted; False when there is nothing to wait for (a template)."""
        return True

    def follow(self, result, say: Callable[[str], None]) -> None:
        """Wait for the submitted job to end."""
        result.wait_until_finish()

    def scratch_prefix(self, cfg: JobConfig, root: str) -> str:
        """A folder that this process and the job's workers both reach, for files a job
        hands back (verify's report): a local temp folder, or one beside the dataset."""
        if not self.distributed:
            return tempfile.mkdtemp(prefix="image2tfrecord-")
        return f"{root.rstrip('/')}/.image2tfrecord-scratch-{uuid.uuid4().hex[:12]}"
