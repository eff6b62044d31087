"""Shared fixtures (a local Beam pipeline that never tries Prism, a GCS emulator), TF quietened,
and markers by layer: tests under image/, inputs/, records/, dataset/ are `pure`, those under
pipeline/ `beam`, those under jobs/, readback/ and golden/ `e2e` (`make test-fast` runs `pure`)."""
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # quiets a start-up notice; no effect on decoding

import pytest  # noqa: E402

_MARKERS = {"image": "pure", "inputs": "pure", "records": "pure", "dataset": "pure",
            "pipeline": "beam", "jobs": "e2e", "readback": "e2e", "golden": "e2e"}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        parts = Path(item.fspath).relative_to(here).parts
        marker = _MARKERS.get(parts[0]) if len(parts) > 1 else None
        if marker:
            item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture
def pipeline():
    """A TestPipeline on the local FnApiRunner, as the job itself runs."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.test_pipeline import TestPipeline

    from beam_jobs.runners.local import LOCAL_DEFAULTS, local_runner

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
