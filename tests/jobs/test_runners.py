"""Runners behind one seam: each name maps to its module, portable runners need a job server
that answers (one line within seconds otherwise), and pipeline_options cannot pick a runner."""
import json
import socket

import pytest

from beam_jobs.cli import main
from beam_jobs.config import RUNNERS, load_config
from beam_jobs.errors import ConfigError
from beam_jobs.runners import runner_for
from tests.support.readback import read_split

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


@pytest.fixture(scope="module")
def job_service():
    """Beam's own job service (the Job API Flink's and Spark's job servers speak) on loopback."""
    import subprocess
    import sys

    from tests.support.ports import free_port, wait_for_port

    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield f"localhost:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_portable_runner_writes_what_the_local_runner_writes(tmp_path, capsys, job_service):
    from tests.support import imaging

    data = imaging.make_class_folders(tmp_path / "in", classes=("a", "b"), per_class=4)
    common = ["convert", "--set", f"input.path={data}", "--set", "output.shards=2",
              "--set", "output.min_shard_records=1",
              "--set", "splits={train: 0.5, validation: 0.5}"]
    assert main([*common, "--set", f"output.path={tmp_path / 'local'}"]) == 0
    assert main([*common, "--set", f"output.path={tmp_path / 'portable'}", "--set", "runner=portable",
                 "--set", f"portable.job_endpoint={job_service}", "--set", "portable.environment_type=LOOPBACK"]) == 0
    assert "submitted to the portable job server" in capsys.readouterr().out
    shards = sorted(p.name for p in (tmp_path / "local").glob("*.tfrecord"))
    assert len(shards) == 4 and shards == sorted(p.name for p in (tmp_path / "portable").glob("*.tfrecord"))
    for name in shards:
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "portable" / name).read_bytes()
    assert main(["verify", str(tmp_path / "portable"), "--set", "runner=portable",
                 "--set", f"portable.job_endpoint={job_service}", "--set", "portable.environment_type=LOOPBACK"]) == 0
    assert not list((tmp_path / "portable").glob(".image2tfrecord-*"))


def voc_and_masks_local_and_portable(tmp_path, capsys, job_service, images, xmls, masks, starts):
    """Convert VOC boxes and masks on the local runner (to tmp_path/local) and the portable one
    (tmp_path/portable); {runner: the printed lines that start with `starts`, stripped}."""
    common = ["convert", "--set", f"input.path={images}", "--set", "input.annotations.format=voc",
              "--set", f"input.annotations.path={xmls}", "--set", f"input.masks={masks}",
              "--set", "errors.max_failed_fraction=1", "--set", "output.shards=1", "--set", "image.format=png"]
    said = {}
    for name, extra in (("local", []), ("portable", ["--set", "runner=portable", "--set",
                                                     f"portable.job_endpoint={job_service}", "--set",
                                                     "portable.environment_type=LOOPBACK"])):
        assert main([*common, "--set", f"output.path={tmp_path / name}", *extra]) == 0
        said[name] = [line.replace(str(tmp_path / name), "OUT").strip() for line in capsys.readouterr().out.splitlines()
                      if line.strip().startswith(starts)]
    return said


def test_annotations_join_the_same_on_a_distributed_runner(tmp_path, capsys, job_service):
    """Locally annotations and masks are looked up in memory (a ref whose path is an item's at
    once, the others of a stem at the bundle's end); distributed runners join them with a
    CoGroupByKey. Both pair the same (transforms/inputs/pairing) and write the same records,
    failures and counts."""
    import numpy as np
    from PIL import Image

    from tests.jobs.test_detection import voc_xml
    from tests.support import imaging

    images, xmls, masks = tmp_path / "images", tmp_path / "xml", tmp_path / "masks"
    for name in ("a", "b", "c", "d", "e", "cats/1", "dogs/1", "p/q", "r/q", "s/t/u"):
        imaging.write(images / f"{name}.png", imaging.encode(imaging.photo((64, 48), seed=len(name)), "PNG"))
    for name in ("a", "b", "nested/c", "other/c", "cats/1", "dogs/1"):  # c: two that fit it equally
        imaging.write(masks / f"{name}.png", imaging.encode(Image.fromarray(np.ones((48, 64), np.uint8)), "PNG"))
    imaging.write(xmls / "a.xml", voc_xml("a.png", (64, 48), [("cat", (4, 4, 30, 30))]).encode())
    imaging.write(xmls / "x" / "b.xml", voc_xml("b.png", (64, 48), [("dog", (10, 8, 60, 40))]).encode())
    imaging.write(xmls / "y" / "b.xml", voc_xml("b.png", (64, 48), []).encode())  # two that fit b equally
    imaging.write(xmls / "d.xml", b"<annotation><object>")  # broken
    imaging.write(xmls / "stray.xml", voc_xml("stray.png", (64, 48), []).encode())  # no image
    for name, box in (("cats/1", (4, 4, 30, 30)), ("dogs/1", (10, 8, 60, 40)), ("t/u", (1, 1, 9, 9))):
        imaging.write(xmls / f"{name}.xml", voc_xml(name + ".png", (64, 48), [("cat", box)]).encode())
    imaging.write(xmls / "q.xml", voc_xml("q.png", (64, 48), []).encode())  # fits p/q and r/q equally
    said = voc_and_masks_local_and_portable(tmp_path, capsys, job_service, images, xmls, masks,
                                            ("annotations:", "masks:", "wrote", "failed", "list:"))
    assert said["local"] == said["portable"] and any("1 annotation names no image" in s for s in said["local"])
    assert any("wrote 5 of 10" in s for s in said["local"])  # a, e, cats/1, dogs/1, s/t/u
    failed = sorted((line["uri"].split("/images/")[1], line["error"].split(":")[0])
                    for line in map(json.loads, (tmp_path / "local" / "failures.jsonl").read_text().splitlines()))
    assert failed == [("b.png", "DuplicateAnnotation"), ("c.png", "DuplicateMask"), ("d.png", "AnnotationError"),
                      ("p/q.png", "AmbiguousAnnotation"), ("r/q.png", "AmbiguousAnnotation")]
    objects = {record["image/source_id"][0].decode(): list(record["image/object/bbox/xmax"])
               for record in read_split(tmp_path / "local", "train")}
    assert objects == {"a.png": [pytest.approx(30 / 64)], "e.png": [], "cats/1.png": [pytest.approx(30 / 64)],
                       "dogs/1.png": [pytest.approx(60 / 64)], "s/t/u.png": [pytest.approx(9 / 64)]}
    for path in ("train-00000-of-00001.tfrecord", "failures.jsonl"):
        local, portable = (tmp_path / "local" / path).read_bytes(), (tmp_path / "portable" / path).read_bytes()
        assert local == portable or sorted(local.splitlines()) == sorted(portable.splitlines())


def test_annotation_and_mask_files_named_in_latin1_on_a_distributed_runner(tmp_path, capsys, job_service):
    """An XML and a mask whose file names are not UTF-8 (beside an image so named): the
    CoGroupByKey's coder crashed the whole job on their keys. Both runners now count the XML
    unpaired and fail the image as NameNotUtf8, and write the same records."""
    import os

    import numpy as np
    from PIL import Image

    from tests.jobs.test_detection import voc_xml
    from tests.support import imaging

    images, xmls, masks = tmp_path / "images", tmp_path / "xml", tmp_path / "masks"
    mask = imaging.encode(Image.fromarray(np.ones((48, 64), np.uint8)), "PNG")
    for name in (b"a", b"caf\xe9"):
        for folder, suffix, data in ((images, b".png", imaging.encode(imaging.photo((64, 48)), "PNG")),
                                     (masks, b".png", mask),
                                     (xmls, b".xml", voc_xml("a.png", (64, 48), [("cat", (4, 4, 30, 30))]).encode())):
            folder.mkdir(exist_ok=True)
            with open(os.fsencode(folder) + b"/" + name + suffix, "wb") as handle:
                handle.write(data)
    said = voc_and_masks_local_and_portable(tmp_path, capsys, job_service, images, xmls, masks,
                                            ("annotations:", "masks:", "wrote", "1 "))
    assert said["local"] == said["portable"] == [
        "annotations: 1 annotation names no image in input.path (paired by file stem and path)",
        "wrote 1 of 2 images to OUT", "1  list: NameNotUtf8"]
    for path in ("train-00000-of-00001.tfrecord", "failures.jsonl"):
        assert (tmp_path / "local" / path).read_bytes() == (tmp_path / "portable" / path).read_bytes()


def test_the_local_runner_samples_state_often_enough_to_end_bundles_promptly():
    """Beam joins its state-sampler thread at every bundle's end; at its default 200 ms
    period a long bundle ended up to 200 ms late. The local runner shortens it, which
    the bundle processors' samplers must pick up (a Beam upgrade could move the knob)."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.worker import statesampler
    from apache_beam.utils.counters import CounterFactory

    from beam_jobs.runners.local import LOCAL_DEFAULTS, STATE_SAMPLING_MS, local_runner

    local_runner(PipelineOptions.from_dictionary(dict(LOCAL_DEFAULTS)))
    sampler = statesampler.StateSampler("step", CounterFactory())
    assert sampler.sampling_period_ms == STATE_SAMPLING_MS < statesampler.DEFAULT_SAMPLING_PERIOD_MS
