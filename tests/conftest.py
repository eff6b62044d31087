"""Shared fixtures: a local Beam pipeline that never tries Prism, TF quietened."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.testing.test_pipeline import TestPipeline  # noqa: E402

from beam_jobs.runner import LOCAL_DEFAULTS, local_runner  # noqa: E402


@pytest.fixture
def pipeline():
    """A TestPipeline on the local FnApiRunner, as the job itself runs."""
    options = PipelineOptions.from_dictionary(dict(LOCAL_DEFAULTS))
    return TestPipeline(runner=local_runner(options), options=options)
