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
