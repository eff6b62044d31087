"""One error model: every command prints one line per problem, exit 2, never an errno or a
traceback; --debug shows the traceback."""
import json

import pytest

from beam_jobs.cli import EXIT_UNACCOUNTED, EXIT_USAGE, exit_status, main
from tests.support import imaging
from transforms.dataset.manifest import Manifest


@pytest.mark.parametrize("command", [["inspect"], ["verify"], ["preview", "--output", "/tmp/sheet.png"]])
def test_a_missing_dataset_is_one_line_naming_the_path(capsys, command):
    code = main([command[0], "/no/such/path", *command[1:]])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0] == "error: /no/such/path is not a dataset: no manifest.json (no such file)"


def test_an_unknown_manifest_version_is_one_line(tmp_path, capsys):
    (tmp_path / "manifest.json").write_text(json.dumps({"format_version": 99}))
    assert main(["inspect", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path}/manifest.json: format_version 99 is not understood (this image2tfrecord reads 1)"


def test_debug_adds_the_traceback(capsys):
    assert main(["--debug", "inspect", "/no/such/path"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().endswith("no manifest.json (no such file)")


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("image2tfrecord ")


def _manifest(listed, written, failed):
    return Manifest({}, written, failed, listed, {}, (), {}, {}, {})


def test_exit_status_from_the_manifest():
    assert exit_status(_manifest(10, 10, 0), 0.0) == (0, None)
    code, message = exit_status(_manifest(10, 8, 1), 0.5)
    assert code == EXIT_UNACCOUNTED == 3 and message == "error: 10 listed but 8 written and 1 failed"
    code, message = exit_status(_manifest(10, 8, 2), 0.1)
    assert code == EXIT_USAGE and "20.0% of the images failed, over errors.max_failed_fraction=0.1" in message


def test_the_programmatic_convert_returns_the_manifest(tmp_path):
    from beam_jobs import convert

    data = imaging.make_class_folders(tmp_path / "in", classes=("a", "b"), per_class=3)
    manifest = convert(str(data), str(tmp_path / "out"), splits={"train": 0.5, "validation": 0.5},
                       image={"resize": {"mode": "fit", "width": 32, "height": 32}}, **{"output.shards": 1})
    assert isinstance(manifest, Manifest) and manifest.num_examples == 6 and manifest.labels == ("a", "b")
    assert sum(s.num_examples for s in manifest.splits.values()) == 6
    assert manifest.image_config["resize"]["mode"] == "fit"


def _held_setup(tmp_path):
    """A dataset of 6 images in 3 shards at out/, then one of its images broken in place."""
    data = imaging.make_class_folders(tmp_path / "in", classes=("a", "b"), per_class=3)
    out = tmp_path / "out"
    sets = ["--set", f"input.path={data}", "--set", f"output.path={out}", "--set", "output.shards=3",
            "--set", "output.min_shard_records=1"]
    assert main(["convert", "/dev/null", *sets]) == 0
    broken = sorted(data.rglob("*.jpg"))[:1]
    for path in broken:
        path.write_bytes(b"not an image")
    return data, out, sets, broken


def test_a_run_over_the_failure_limit_keeps_the_dataset_it_would_replace(tmp_path, capsys):
    from transforms.storage.shard_markers import MARKER_SUFFIX

    data, out, sets, broken = _held_setup(tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    assert main(["convert", "/dev/null", *sets, "--overwrite"]) == 2
    printed = capsys.readouterr()
    held = [p for p in out.iterdir() if p.name.startswith(".image2tfrecord-tmp-")]
    assert len(held) == 1
    err = printed.err.strip().splitlines()
    assert err == [f"error: 16.7% of the images failed, over errors.max_failed_fraction=0.01: {out} keeps its "
                   f"dataset; this run is held in {held[0]} (its failures.jsonl says why); fix the inputs, or raise "
                   "the limit, and rerun the same command to finish it"]
    assert f"converted 5 of 6 images to {held[0]}" in printed.out and "tfds:" not in printed.out
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # the old dataset, whole
    assert main(["verify", str(out)]) == 0
    staged = json.loads((held[0] / "manifest.json").read_text())
    assert (staged["num_examples"], staged["num_failed"]) == (5, 1)
    failed = [json.loads(line)["uri"] for line in (held[0] / "failures.jsonl").read_text().splitlines()]
    assert sorted(failed) == sorted(map(str, broken))
    kept = len(list(held[0].glob(f"*{MARKER_SUFFIX}")))
    assert kept == 2  # the shard with the failure is converted again, the other two reused

    capsys.readouterr()
    assert main(["convert", "/dev/null", *sets, "--overwrite", "--set", "errors.max_failed_fraction=0.5"]) == 0
    rerun = capsys.readouterr().out
    assert "resuming: 2 shards finished by an interrupted or held run" in rerun
    assert "reused 2 finished shards; converted 1 image\n" in rerun  # the broken one fails again
    info = json.loads((out / "manifest.json").read_text())
    assert (info["num_examples"], info["num_failed"]) == (5, 1)
    assert not [p for p in out.iterdir() if p.name.startswith(".image2tfrecord-")]  # the held area, committed


def test_the_programmatic_convert_raises_for_a_held_run(tmp_path):
    from beam_jobs import convert
    from beam_jobs.conversion import RunHeld

    data, out, _, _ = _held_setup(tmp_path)
    with pytest.raises(RunHeld) as held:
        convert(str(data), str(out), overwrite=True, **{"output.shards": 3, "output.min_shard_records": 1})
    assert held.value.exit_code == 2 and held.value.path == str(out)
    assert held.value.manifest.num_failed == 1 and held.value.area.startswith(f"{out}/.image2tfrecord-tmp-")
