"""Runners behind one seam: each name maps to its module, portable runners need a job server
that answers (one line within seconds otherwise), and pipeline_options cannot pick a runner."""
import socket

import pytest

from beam_jobs.cli import main
from beam_jobs.config import RUNNERS, load_config
from beam_jobs.errors import ConfigError
from beam_jobs.runners import runner_for

BASE = ["input.path=/tmp/in", "output.path=/tmp/out"]


@pytest.mark.parametrize("name", RUNNERS)
def test_every_runner_name_has_a_runner(name):
    runner = runner_for(load_config(None, [*BASE, f"runner={name}"]))
    assert runner.name == name and runner.distributed == (name != "direct")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the with ends


def _convert(tmp_path, capsys, *sets):
    args = ["convert", "--set", f"input.path={tmp_path}", "--set", f"output.path={tmp_path / 'out'}"]
    for item in sets:
        args += ["--set", item]
    code = main(args)
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("name", ["flink", "spark", "portable"])
def test_a_portable_runner_without_a_job_server_is_one_line(tmp_path, capsys, name):
    code, lines = _convert(tmp_path, capsys, f"runner={name}")
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith("config error: portable.job_endpoint: required with runner " + name)
    assert not (tmp_path / "out").exists()


def test_a_job_server_that_does_not_answer_is_one_line(tmp_path, capsys):
    """Checked with a connect of at most CONNECT_SECONDS, so it never hangs on Beam's own start-up."""
    code, lines = _convert(tmp_path, capsys, "runner=flink", f"portable.job_endpoint=127.0.0.1:{_closed_port()}")
    assert code == 2 and len(lines) == 1 and "no flink job server answers at 127.0.0.1:" in lines[0]
    assert not (tmp_path / "out").exists()


def test_pipeline_options_cannot_choose_the_runner():
    with pytest.raises(ConfigError) as error:
        load_config(None, [*BASE, "pipeline_options={runner: DirectRunner}"])
    assert error.value.problems[0][0] == "pipeline_options.runner"
    assert "top-level key runner" in str(error.value)


def test_a_bad_endpoint_is_named():
    with pytest.raises(ConfigError, match="portable.job_endpoint: must be host:port"):
        load_config(None, [*BASE, "portable.job_endpoint=http://x"])
