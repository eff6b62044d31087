"""End-to-end runs of the command line, read back with tf.data."""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from beam_jobs.cli import main
from tests.support import imaging
from tests.support.readback import decode, manifest, read_split


def convert(*args):
    return main(["convert", *map(str, args)])




def run(tmp_path, data, out, *sets, overwrite=False):
    args = ["convert", "/dev/null", "--set", f"input.path={data}", "--set", f"output.path={out}"]
    for item in sets:
        args += ["--set", item]
    if overwrite:
        args.append("--overwrite")
    return main(args)


def test_convert_class_folders_and_read_back(tmp_path, capsys):
    data = imaging.make_class_folders(tmp_path / "photos", per_class=5, size=(160, 120))
    out = tmp_path / "out"
    code = run(tmp_path, data, out, "image.resize.mode=shorter_side", "image.resize.size=64", "output.shards=4",
               "output.min_shard_records=1")
    printed = capsys.readouterr().out
    assert code == 0
    assert "layout class_folders" in printed and "wrote 15 of 15 images" in printed
    info = manifest(out)
    assert info["num_examples"] == 15 and info["num_failed"] == 0 and info["accounted"]
    assert [s["file"] for s in info["splits"]["train"]["shards"]] == [
        f"train-0000{i}-of-00004.tfrecord" for i in range(4)]
    assert sorted(s["num_examples"] for s in info["splits"]["train"]["shards"]) == [3, 4, 4, 4]
    assert info["splits"]["train"]["classes"] == {"cat": 5, "dog": 5, "emu": 5}
    assert info["versions"]["apache-beam"] and info["config"]["output"]["shards"] == 4
    labels = (out / "labels.txt").read_text().splitlines()
    assert labels == ["cat", "dog", "emu"] == info["labels"]
    records = read_split(out, "train")
    assert len(records) == 15
    assert len({r["image/source_id"][0] for r in records}) == 15
    for record in records:
        pixels = decode(record)
        assert pixels.shape == (record["image/height"][0], record["image/width"][0], 3)
        assert (pixels.shape[0], pixels.shape[1]) == (64, 85)
        assert labels[record["image/class/label"][0]].encode() == record["image/class/text"][0]
        assert record["image/source_id"][0].decode().startswith(record["image/class/text"][0].decode())
        assert record["image/key/sha256"][0].decode() == hashlib.sha256(record["image/encoded"][0]).hexdigest()
    assert (out / "failures.jsonl").read_text() == ""
    assert not list(out.glob(".image2tfrecord-tmp-*"))


def test_reruns_are_byte_identical(tmp_path):
    data = imaging.make_class_folders(tmp_path / "photos", per_class=8)
    sets = ("splits={train: 0.7, validation: 0.3}", "output.shards=3", "output.min_shard_records=1",
            "image.resize.mode=fit",
            "image.resize.width=50", "image.resize.height=50")
    assert run(tmp_path, data, tmp_path / "a", *sets, "parallelism.processes=2") == 0
    assert run(tmp_path, data, tmp_path / "b", *sets, "parallelism.threads=1", "parallelism.processes=0") == 0
    shards = sorted(p.name for p in (tmp_path / "a").glob("*.tfrecord"))
    assert len(shards) == 6 and {s.split("-")[0] for s in shards} == {"train", "validation"}
    for name in shards:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_non_empty_output_is_refused_and_kept(tmp_path, capsys):
    data = imaging.make_class_folders(tmp_path / "photos", per_class=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert run(tmp_path, data, out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not empty" in err and "--overwrite" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_overwrite_replaces_the_dataset_only(tmp_path):
    data = imaging.make_class_folders(tmp_path / "photos", per_class=4)
    out = tmp_path / "out"
    assert run(tmp_path, data, out, "output.shards=4", "output.min_shard_records=1") == 0
    (out / "keep.txt").write_text("mine")
    assert run(tmp_path, data, out, "output.shards=2", "output.min_shard_records=1", overwrite=True) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["dataset_info.json", "failures.jsonl", "features.json",
                     "image.class.label.labels.txt", "keep.txt", "labels.txt", "manifest.json",
                     "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord"]


def test_every_input_is_a_record_or_a_failure(tmp_path, capsys):
    data = tmp_path / "mixed"
    imaging.make_class_folders(data, classes=("ok",), per_class=4)
    imaging.write(data / "bad" / "empty.jpg", b"")
    imaging.write(data / "bad" / "text.jpg", b"hello")
    jpeg = imaging.encode(imaging.photo((200, 200)), "JPEG")
    imaging.write(data / "bad" / "truncated.jpg", jpeg[: len(jpeg) // 2])
    imaging.write(data / "bad" / "bomb.png", imaging.huge_png_header(50_000, 50_000))
    imaging.write(data / "odd" / "png_named.jpg", imaging.encode(Image.new("LA", (9, 9), (10, 100)), "PNG"))
    out = tmp_path / "out"
    assert run(tmp_path, data, out) == 2  # 4 of 9 failed, over the 1% default
    printed = capsys.readouterr()
    assert "errors.max_failed_fraction" in printed.out
    info = manifest(out)
    assert (info["num_listed"], info["num_examples"], info["num_failed"]) == (9, 5, 4)
    failures = {Path(f["uri"]).name: f for f in map(json.loads, (out / "failures.jsonl").read_text().splitlines())}
    assert set(failures) == {"empty.jpg", "text.jpg", "truncated.jpg", "bomb.png"}
    assert {f["stage"] for f in failures.values()} == {"decode"}
    assert failures["bomb.png"]["error"].startswith("PixelLimitExceeded")
    assert "decode: EmptyFile" in info["failures_by_reason"]
    assert run(tmp_path, data, tmp_path / "out2", "errors.max_failed_fraction=1.0") == 0


def test_jsonl_listing_with_extras_and_gzip(tmp_path):
    images = tmp_path / "imgs"
    for i in range(6):
        imaging.write(images / f"{i}.jpg", imaging.encode(imaging.photo((30, 20), i), "JPEG"))
    rows = [{"path": f"imgs/{i}.jpg", "label": ["a", "b"][i % 2], "score": i / 2, "tag": f"t{i}",
             "split": "test" if i == 5 else None} for i in range(6)]
    listing = tmp_path / "list.jsonl"
    listing.write_text("".join(json.dumps({k: v for k, v in r.items() if v is not None}) + "\n" for r in rows))
    out = tmp_path / "out"
    assert run(tmp_path, listing, out, "output.compression=gzip", "output.shards=2", "output.min_shard_records=1") == 0
    info = manifest(out)
    assert info["features"]["score"] == "float" and info["features"]["tag"] == "bytes"
    assert {s["file"] for s in info["splits"]["test"]["shards"]} == {"test-00000-of-00001.tfrecord.gz"}
    train = read_split(out, "train")
    assert sorted(r["tag"][0] for r in train) == [b"t0", b"t1", b"t2", b"t3", b"t4"]
    assert sorted(r["score"][0] for r in train) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert {r["image/class/text"][0] for r in read_split(out, "test")} == {b"b"}


def test_split_class_folders(tmp_path, capsys):
    data = tmp_path / "ds"
    imaging.make_class_folders(data / "train", classes=("x", "y"), per_class=3)
    imaging.make_class_folders(data / "validation", classes=("x", "y"), per_class=1)
    out = tmp_path / "out"
    assert run(tmp_path, data, out, "output.shards=2", "output.min_shard_records=1") == 0
    assert "layout split_class_folders" in capsys.readouterr().out
    info = manifest(out)
    assert info["splits"]["train"]["num_examples"] == 6 and info["splits"]["validation"]["num_examples"] == 2


@pytest.mark.parametrize("fmt,channels", [("png", 4), ("raw", 1), ("webp", 3), ("original", 3)])
def test_formats_round_trip_through_tensorflow(tmp_path, fmt, channels):
    data = tmp_path / "in"
    imaging.write(data / "a.png", imaging.encode(imaging.asymmetric((24, 16)), "PNG"))
    out = tmp_path / "out"
    assert run(tmp_path, data, out, f"image.format={fmt}", f"image.channels={channels}") == 0
    record, = read_split(out, "train")
    pixels = decode(record)
    assert record["image/format"][0] == (b"png" if fmt == "original" else fmt.encode())
    assert pixels.shape == (16, 24, channels)


def test_config_error_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["convert", "/dev/null", "--set", "input.path=/x", "--set", "output.path=/y",
                 "--set", "image.resize.mode=bogus"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("config error: image.resize.mode:")


def test_a_launch_file_saved_in_cp1252_is_one_line(tmp_path, capsys):
    launch = tmp_path / "launch.yaml"
    launch.write_bytes("input: {path: /data/caf\u00e9}\noutput: {path: /y}\n".encode("cp1252"))
    assert main(["convert", str(launch)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"config error: {launch}: not UTF-8 text (invalid continuation byte at byte 23); save it as UTF-8"]


@pytest.mark.parametrize("value,message", [
    ("a\x01b", "value is not YAML (unacceptable character #x0001: special characters are not allowed in"),
    (os.fsdecode(b"/data/caf\xe9"), "/data/caf\\xe9 is not UTF-8: rename it"),  # as a shell passes Latin-1 bytes
])
def test_a_set_value_that_cannot_be_read_is_one_line(value, message, capsys):
    assert main(["convert", "--set", f"input.path={value}", "--set", "output.path=/y"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("config error: --set input.path: ") and message in err[0], err


def test_missing_input_is_one_line(tmp_path, capsys):
    assert run(tmp_path, tmp_path / "nowhere", tmp_path / "out") == 2
    assert capsys.readouterr().err.strip() == f"config error: input.path: {tmp_path / 'nowhere'} does not exist"


def test_config_file_is_optional(tmp_path):
    data = imaging.make_class_folders(tmp_path / "p", classes=("c",), per_class=2)
    assert main(["convert", "--set", f"input.path={data}", "--set", f"output.path={tmp_path / 'o'}"]) == 0
    assert manifest(tmp_path / "o")["num_examples"] == 2


def test_console_script_is_installed(tmp_path):
    done = subprocess.run([Path(sys.executable).parent / "image2tfrecord", "convert", "--help"],
                          capture_output=True, text=True, check=True)
    assert "--overwrite" in done.stdout and "--set" in done.stdout


def test_console_script_exits_with_the_commands_status_and_output(tmp_path):
    """It ends without interpreter teardown: output flushed, status kept, workers stopped."""
    data = imaging.make_class_folders(tmp_path / "p", classes=("c",), per_class=3)
    script = [Path(sys.executable).parent / "image2tfrecord", "convert", "--set", f"input.path={data}",
              "--set", f"output.path={tmp_path / 'o'}", "--set", "parallelism.processes=1"]
    done = subprocess.run(script, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "wrote 3 of 3 images" in done.stdout
    assert done.stderr == ""  # no library's warnings (Beam 2.78 logged a dozen on every run)
    assert manifest(tmp_path / "o")["num_examples"] == 3
    again = subprocess.run(script, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "is not empty" in again.stderr


def test_beam_sink_writes_readable_shards_and_refuses_unknown_splits(tmp_path):
    data = tmp_path / "ds"
    imaging.make_class_folders(data / "train", classes=("x", "y"), per_class=4)
    imaging.make_class_folders(data / "holdout", classes=("x",), per_class=2)
    out = tmp_path / "out"
    assert run(tmp_path, data, out, "input.layout=class_folders", "output.sink=beam", "output.shards=2",
               "output.min_shard_records=1",
               "splits={train: 0.5, validation: 0.5}") == 0
    info = manifest(out)
    assert info["accounted"] and info["num_examples"] == 10
    assert sum(s["num_examples"] for split in info["splits"].values() for s in split["shards"]) == 10
    assert len(read_split(out, "train")) == info["splits"]["train"]["num_examples"]

    out2 = tmp_path / "out2"
    assert run(tmp_path, data, out2, "output.sink=beam", "errors.max_failed_fraction=1.0") == 0
    info = manifest(out2)  # split folders train and holdout: holdout was seen by the probe
    assert set(info["splits"]) == {"train", "holdout"} and info["num_failed"] == 0


def test_beam_sink_makes_undeclared_splits_failures(tmp_path):
    for i in range(3):
        imaging.write(tmp_path / f"{i}.jpg", imaging.encode(imaging.photo((20, 20), i), "JPEG"))
    listing = tmp_path / "list.csv"
    listing.write_text("path,split\n0.jpg,train\n1.jpg,train\n2.jpg,extra\n")
    out = tmp_path / "out"
    assert run(tmp_path, listing, out, "output.sink=beam", "errors.max_failed_fraction=0.5") == 0
    info = manifest(out)
    assert (info["num_examples"], info["num_failed"]) == (2, 1) and info["accounted"]
    failure = json.loads((out / "failures.jsonl").read_text())
    assert failure["stage"] == "list" and failure["error"].startswith("UnknownSplit")


def test_auto_shards_are_near_the_target_size(tmp_path):
    import numpy as np

    data = tmp_path / "noise"
    rng = np.random.default_rng(7)
    for i in range(40):  # incompressible PNGs of about 90 KB: 3.6 MB in all
        pixels = rng.integers(0, 256, (150, 200, 3), dtype=np.uint8)
        imaging.write(data / f"{i:02d}.png", imaging.encode(Image.fromarray(pixels), "PNG"))
    out = tmp_path / "out"
    assert run(tmp_path, data, out, "image.format=png", "output.shards=auto", "output.min_shard_records=1",
               "output.shard_size_mb=1") == 0
    shards = sorted(out.glob("train-*.tfrecord"))
    assert len(shards) == 3  # 3.6 MB / 1 MiB, rounded
    for shard in shards:
        assert 0.8 * 2**20 < shard.stat().st_size < 1.6 * 2**20, shard.stat().st_size


def test_output_path_that_is_a_file_is_one_line(tmp_path, capsys):
    data = imaging.make_class_folders(tmp_path / "p", classes=("c",), per_class=1)
    target = tmp_path / "taken.txt"
    target.write_text("x")
    assert run(tmp_path, data, target) == 2
    assert capsys.readouterr().err.strip() == f"config error: output.path: {target} is a file, not a folder"
