"""The local runner: Beam's FnApiRunner on this machine.

Built as the DirectRunner builds it but without its first attempt at the Prism runner,
which downloads a binary (and waits on a network that may not be there). It runs one
bundle at a time (`in_memory`): the shard writer spreads conversion over every core
itself (threads, and worker processes on machines with more than two cores), which
measured faster and leaner than multi-threaded runner workers, and keeps clear of a
defect of that mode where Beam's own WriteToTFRecord lost records (docs/decisions.md).
"""
from __future__ import annotations

from typing import Any, Dict

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
from apache_beam.runners.runner import PipelineRunner

from beam_jobs.config import JobConfig
from beam_jobs.runners.base import JobRunner

LOCAL_DEFAULTS: Dict[str, Any] = {
    "direct_num_workers": 1,  # the shard writer uses every core (see above)
    "direct_running_mode": "in_memory",
    # Beam checks declared type hints while the job is built (our steps declare few), building
    # an options view per step: 85 of the 200 ms the job took to build, 60 ms of a one-image
    # run (docs/performance.md, "Fixed cost, measured again").
    # pipeline_options: {no_pipeline_type_check: false} turns the check back on.
    "no_pipeline_type_check": True,
}


# Beam's state sampler, a thread that times each step, sleeps up to 200 ms between samples and
# is joined at every bundle's end: each long bundle ended up to 200 ms late (the conversion
# stage's wall time moved in steps of 0.2 s). It samples without the GIL; 10 ms keeps the wait short.
STATE_SAMPLING_MS = 10


def shorten_state_sampling(period_ms: int = STATE_SAMPLING_MS) -> None:
    """Make `period_ms` the default period of the state samplers Beam's bundle processors
    create in this process (they pass none)."""
    from apache_beam.runners.worker import statesampler

    statesampler.StateSampler.__init__.__defaults__ = (period_ms,)


def local_runner(options: PipelineOptions) -> PipelineRunner:
    """The FnApiRunner with the pipeline options provisioned to its workers."""
    shorten_state_sampling()
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    info = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return fn_runner.FnApiRunner(provision_info=info)


class LocalRunner(JobRunner):
    name = "direct"
    distributed = False

    def option_values(self, cfg: JobConfig) -> Dict[str, Any]:
        return dict(LOCAL_DEFAULTS)

    def make(self, options: PipelineOptions) -> PipelineRunner:
        options.view_as(DirectOptions)  # validated by the FnApiRunner
        return local_runner(options)
