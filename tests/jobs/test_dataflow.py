"""Dataflow without a Google account: prerequisites, the offline dry run, the staged package."""
import json
import tarfile

import pytest

from beam_jobs.cli import main
from beam_jobs.config import load_config
from beam_jobs.runners import dataflow
from tests.support import imaging
from tests.support.gcs_emulator import BUCKET, client, upload_tree

GOOD = ["runner=dataflow", "dataflow.project=my-project", "dataflow.region=us-central1",
        "dataflow.temp_location=gs://my-bucket/tmp", "input.path=gs://my-bucket/in", "output.path=gs://my-bucket/out"]


def sets(items):
    args = []
    for item in items:
        args += ["--set", item]
    return args


@pytest.mark.parametrize("drop,message", [
    ("dataflow.project=my-project", "config error: dataflow.project: required with runner dataflow"),
    ("dataflow.region=us-central1", "config error: dataflow.region: required with runner dataflow"),
    ("dataflow.temp_location=gs://my-bucket/tmp", "config error: dataflow.temp_location: required"),
])
def test_each_missing_prerequisite_is_one_line(drop, message, capsys):
    assert main(["convert", "/dev/null", *sets(i for i in GOOD if i != drop)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)


@pytest.mark.parametrize("override,message", [
    ("dataflow.temp_location=/tmp/local", "dataflow.temp_location: must be a gs://bucket/path"),
    ("dataflow.temp_location=gs://b/tmp", "dataflow.temp_location: must be a gs://bucket/path"),
    ("dataflow.staging_location=/tmp/s", "dataflow.staging_location: must be a gs://bucket/path"),
    ("dataflow.project=My Project", "dataflow.project: 'My Project' is not a project ID"),
    ("input.path=gs://UPPER/x", "input.path: gs://UPPER/x is not a valid gs://bucket/path"),
    ("input.path=/data/photos", "input.path: Dataflow workers cannot reach local path"),
    ("output.path=out/x", "output.path: Dataflow workers cannot reach local path"),
])
def test_wrong_prerequisites_stop_before_submission(override, message, capsys):
    assert main(["convert", "/dev/null", *sets(GOOD + [override])]) == 2
    assert message in capsys.readouterr().err


def test_several_problems_give_a_line_each():
    cfg = load_config(None, ["runner=dataflow", "input.path=/a", "output.path=/b"])
    assert len(dataflow.problems(cfg)) == 5


def test_options_map_the_config():
    cfg = load_config(None, GOOD + ["dataflow.max_workers=7", "dataflow.machine_type=n2-standard-8",
                                    "dataflow.service_account=sa@p.iam", "dataflow.network=net"])
    options = dataflow.option_values(cfg)
    assert options["max_num_workers"] == 7 and options["machine_type"] == "n2-standard-8"
    assert options["service_account_email"] == "sa@p.iam" and options["network"] == "net"
    assert options["staging_location"] == "gs://my-bucket/tmp/staging"
    assert options["setup_file"].endswith("setup.py")
    image = dataflow.option_values(load_config(None, GOOD + ["dataflow.worker_image=gcr.io/p/i:1"]))
    assert image["sdk_container_image"] == "gcr.io/p/i:1" and "setup_file" not in image


def test_dry_run_writes_the_job_offline(tmp_path, capfd, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")  # any lookup would fail, not wait
    job = tmp_path / "job.json"
    assert main(["convert", "/dev/null", *sets(GOOD), "--dry-run", "--job-file", str(job)]) == 0
    document = json.loads(job.read_text())
    assert document["steps"] == ["ListImages", "SpreadRefs", "GatherFacts", "WriteShards", "AllFailures",
                                 "Finalize"]
    assert document["options"]["project"] == "my-project" and document["options"]["region"] == "us-central1"
    names = {t["uniqueName"] for t in document["pipeline"]["components"]["transforms"].values()}
    assert "WriteShards/ConvertAndWrite" in names
    out, err = capfd.readouterr()  # the file descriptors: Beam builds the staged package in a subprocess
    assert "wrote the dataflow job" in out
    assert "No module named" not in err and "Traceback" not in err  # `python -m build` is installed (setup.py)


def test_dry_run_is_for_dataflow_only(tmp_path, capsys):
    args = ["convert", "/dev/null", "--set", f"input.path={tmp_path}", "--set", f"output.path={tmp_path / 'o'}"]
    assert main([*args, "--dry-run", "--job-file", str(tmp_path / "job.json")]) == 2
    assert "set runner: dataflow" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() and not (tmp_path / "job.json").exists()


def test_dry_run_needs_a_job_file(capsys):
    assert main(["convert", "/dev/null", *sets(GOOD), "--dry-run"]) == 2
    assert "--job-file" in capsys.readouterr().err


def test_template_stages_the_project_package(gcs_emulator, tmp_path):
    imaging.make_class_folders(tmp_path / "p", classes=("c",), per_class=1)
    upload_tree(tmp_path / "p", "df/in")
    template = f"gs://{BUCKET}/df/templates/convert.json"
    code = main(["convert", "/dev/null", *sets([
        "runner=dataflow", "dataflow.project=my-project", "dataflow.region=us-central1",
        f"dataflow.temp_location=gs://{BUCKET}/df/tmp", f"input.path=gs://{BUCKET}/df/in",
        f"output.path=gs://{BUCKET}/df/out", f"pipeline_options={{template_location: {template}}}"])])
    assert code == 0
    blobs = {b.name: b for b in client().list_blobs(BUCKET, prefix="df/")}
    assert "df/templates/convert.json" in blobs
    staged, = [b for name, b in blobs.items() if name.endswith("/workflow.tar.gz")]
    archive = tmp_path / "workflow.tar.gz"
    staged.download_to_filename(str(archive))
    with tarfile.open(archive) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"beam_jobs/conversion.py", "beam_jobs/cli.py", "transforms/pipeline/write_shards.py",
            "transforms/image/conversion.py", "beam_jobs/runners/dataflow.py", "setup.py"} <= members
