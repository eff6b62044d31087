"""Splits and shards through the job: exact and stratified splits, shards per split, and
small splits kept in one shard."""
import collections

from beam_jobs.cli import main
from tests.support import imaging
from tests.support.readback import manifest, read_split


def run(data, out, *sets):
    args = ["convert", "--set", f"input.path={data}", "--set", f"output.path={out}"]
    for item in sets:
        args += ["--set", item]
    return main(args)


def test_exact_stratified_splits_in_the_job(tmp_path):
    data = imaging.make_class_folders(tmp_path / "in", classes=("a", "b", "c"), per_class=8, size=(20, 16))
    imaging.write(data / "d" / "d0.jpg", imaging.encode(imaging.photo((20, 16), 90), "JPEG"))
    imaging.write(data / "d" / "d1.jpg", imaging.encode(imaging.photo((20, 16), 91), "JPEG"))
    out = tmp_path / "out"
    assert run(data, out, "splits={train: 0.75, validation: 0.25}", "split_method=exact", "stratify=true") == 0
    info = manifest(out)
    assert info["splits"]["train"]["classes"] == {"a": 6, "b": 6, "c": 6, "d": 1}
    assert info["splits"]["validation"]["classes"] == {"a": 2, "b": 2, "c": 2, "d": 1}
    records = read_split(out, "validation")
    assert collections.Counter(r["image/class/text"][0] for r in records) == {b"a": 2, b"b": 2, b"c": 2, b"d": 1}


def test_exact_without_stratify_counts_the_whole_dataset(tmp_path):
    data = imaging.make_class_folders(tmp_path / "in", classes=("a", "b", "c"), per_class=8, size=(20, 16))
    out = tmp_path / "out"
    assert run(data, out, "splits={train: 0.75, validation: 0.25}", "split_method=exact") == 0
    info = manifest(out)
    assert (info["splits"]["train"]["num_examples"], info["splits"]["validation"]["num_examples"]) == (18, 6)


def test_shards_per_split_and_small_splits_in_one_shard(tmp_path):
    data = imaging.make_class_folders(tmp_path / "in", classes=("a", "b"), per_class=40, size=(20, 16))
    out = tmp_path / "out"
    assert run(data, out, "splits={train: 0.8, validation: 0.2}", "split_method=exact",
               "output.shards={train: 2, validation: 4}", "output.min_shard_records=4") == 0
    info = manifest(out)
    assert (info["splits"]["train"]["num_shards"], info["splits"]["validation"]["num_shards"]) == (2, 4)
    small = tmp_path / "small"
    assert run(imaging.make_class_folders(tmp_path / "few", classes=("a",), per_class=16), small,
               "output.shards=4") == 0
    assert manifest(small)["splits"]["train"]["num_shards"] == 1  # 16 records: under the default 32 a shard


def test_labels_pinned_by_a_file_with_an_offset(tmp_path):
    data = imaging.make_class_folders(tmp_path / "in", classes=("cat", "dog", "eel"), per_class=2, size=(20, 16))
    names = tmp_path / "synsets.txt"
    names.write_text("# the order of an existing model\ndog\ncat\nfox\n")
    out = tmp_path / "out"
    assert run(data, out, f"input.labels={names}", "input.label_offset=1", "errors.max_failed_fraction=0.5") == 0
    info = manifest(out)
    assert info["labels"] == ["", "dog", "cat", "fox"] and (out / "labels.txt").read_text() == "\ndog\ncat\nfox\n"
    records = read_split(out, "train")
    assert {(r["image/class/text"][0], r["image/class/label"][0]) for r in records} == {(b"dog", 1), (b"cat", 2)}
    failures = (out / "failures.jsonl").read_text().splitlines()
    assert len(failures) == 2 and all("UnknownLabel" in line and "'eel' is not in input.labels" in line
                                      for line in failures)


def test_labels_from_file_names(tmp_path):
    for name in ("Abyssinian_1.jpg", "Abyssinian_12.jpg", "great_pyrenees_3.jpg", "readme.jpg"):
        imaging.write(tmp_path / "in" / name, imaging.encode(imaging.photo((20, 16), len(name)), "JPEG"))
    out = tmp_path / "out"
    assert run(tmp_path / "in", out, r"input.label_from.regex=^(?P<label>.+)_\d+\.",
               "errors.max_failed_fraction=0.5") == 0
    assert manifest(out)["labels"] == ["Abyssinian", "great_pyrenees"]
    assert "NoLabel" in (out / "failures.jsonl").read_text() and "readme.jpg" in (out / "failures.jsonl").read_text()


def test_a_glob_over_class_folders_labels_by_folder(tmp_path, capsys):
    data = imaging.make_class_folders(tmp_path / "photos", classes=("cat", "dog"), per_class=2)
    out = tmp_path / "out"
    assert run(f"{data}/*/*.jpg", out) == 0
    assert "layout class_folders" in capsys.readouterr().out
    assert manifest(out)["labels"] == ["cat", "dog"]
