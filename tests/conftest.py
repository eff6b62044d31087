"""Shared fixtures: a local Beam pipeline that never tries Prism, TF quietened."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # quiets a start-up notice; no effect on decoding

import pytest  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.testing.test_pipeline import TestPipeline  # noqa: E402

from beam_jobs.runners.local import LOCAL_DEFAULTS, local_runner  # noqa: E402


@pytest.fixture
def pipeline():
    """A TestPipeline on the local FnApiRunner, as the job itself runs."""
    options = PipelineOptions.from_dictionary(dict(LOCAL_DEFAULTS))
    return TestPipeline(runner=local_runner(options), options=options)


@pytest.fixture(scope="session")
def gcs_emulator():
    """A GCS emulator on loopback for the whole session; STORAGE_EMULATOR_HOST points at it."""
    from tests.support.gcs_emulator import running_emulator

    with running_emulator() as host:
        previous = os.environ.get("STORAGE_EMULATOR_HOST")
        os.environ["STORAGE_EMULATOR_HOST"] = host
        try:
            yield host
        finally:
            if previous is None:
                os.environ.pop("STORAGE_EMULATOR_HOST", None)
            else:
                os.environ["STORAGE_EMULATOR_HOST"] = previous
