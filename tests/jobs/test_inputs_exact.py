"""Inputs are exact: every file below the input is one record or one failure line, one key
per file, one record per key, and mistakes in the input stop the job before it writes."""
import json
import os

from beam_jobs.cli import main
from tests.support import imaging
from tests.support.readback import manifest, read_split


def jpeg(seed=0):
    return imaging.encode(imaging.photo((40, 30), seed), "JPEG")


def run(capsys, data, out, *sets, overwrite=False):
    args = ["convert", "--set", f"input.path={data}", "--set", f"output.path={out}",
            "--set", "errors.max_failed_fraction=1.0", *(["--overwrite"] if overwrite else [])]
    for item in sets:
        args += ["--set", item]
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


def failures(out):
    return [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]


def test_a_symlinked_class_folder_is_followed_and_a_loop_is_not(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere" / "cats"
    imaging.write(elsewhere / "c1.jpg", jpeg(1))
    data = tmp_path / "data"
    imaging.write(data / "dog" / "d1.jpg", jpeg(2))
    os.symlink(elsewhere, data / "cat")
    os.symlink(data, data / "dog" / "loop")  # back to the root: walked once, not forever
    os.symlink(tmp_path / "gone.jpg", data / "dog" / "dangling.jpg")
    code, printed, _ = run(capsys, data, tmp_path / "out")
    assert code == 0 and "wrote 2 of 3 images" in printed
    records = read_split(tmp_path / "out", "train")
    assert sorted(r["image/class/text"][0] for r in records) == [b"cat", b"dog"]
    lost, = failures(tmp_path / "out")
    assert lost["stage"] == "read" and lost["uri"].endswith("dangling.jpg") and "FileNotFoundError" in lost["error"]


def test_hidden_folders_are_skipped_like_hidden_files(tmp_path, capsys):
    data = tmp_path / "data"
    imaging.write(data / "cat" / "c.jpg", jpeg(1))
    imaging.write(data / ".cache" / "thumb.jpg", jpeg(2))
    imaging.write(data / "cat" / ".hidden.jpg", jpeg(3))
    code, printed, _ = run(capsys, data, tmp_path / "out")
    assert code == 0 and "wrote 1 of 1 images" in printed and manifest(tmp_path / "out")["labels"] == ["cat"]


def test_one_file_is_one_key_and_one_record(tmp_path, capsys):
    imaging.write(tmp_path / "img" / "x.jpg", jpeg())
    listing = tmp_path / "list.txt"
    listing.write_text("img/x.jpg\n./img/x.jpg\nimg//x.jpg\nimg/../img/x.jpg\n")
    code, printed, _ = run(capsys, listing, tmp_path / "out")
    assert code == 0 and "wrote 1 of 4 images" in printed
    assert [r["image/source_id"][0] for r in read_split(tmp_path / "out", "train")] == [b"img/x.jpg"]
    assert {f["error"].split(":")[0] for f in failures(tmp_path / "out")} == {"DuplicateKey"}


def test_a_key_listed_in_two_splits_is_written_to_one(tmp_path, capsys):
    imaging.write(tmp_path / "a.jpg", jpeg(1))
    imaging.write(tmp_path / "b.jpg", jpeg(2))
    listing = tmp_path / "list.csv"
    listing.write_text("path,label,split\na.jpg,cat,train\nb.jpg,dog,train\na.jpg,dog,test\n")
    code, _, _ = run(capsys, listing, tmp_path / "out")
    info = manifest(tmp_path / "out")
    assert code == 0 and info["num_examples"] == 2 and info["num_failed"] == 1 and info["accounted"]
    failure, = failures(tmp_path / "out")
    assert failure["stage"] == "list" and "kept the one in split 'train' labelled 'cat'" in failure["error"]
    assert "test" not in info["splits"]


def test_clustered_duplicates_leave_no_gap_in_shard_numbers(tmp_path, capsys):
    for i in range(3):
        imaging.write(tmp_path / f"{i}.jpg", jpeg(i))
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"{i}.jpg\n" for i in range(3) for _ in range(10)))
    code, _, _ = run(capsys, listing, tmp_path / "out", "output.shards=10", "output.min_shard_records=1")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.tfrecord")) == [
        f"train-0000{i}-of-00003.tfrecord" for i in range(3)]


def test_list_extras_of_mixed_types_are_a_failure_naming_the_field(tmp_path, capsys):
    imaging.write(tmp_path / "a.jpg", jpeg(1))
    imaging.write(tmp_path / "b.jpg", jpeg(2))
    listing = tmp_path / "list.jsonl"
    listing.write_text('{"path": "a.jpg", "tags": ["b", 2]}\n{"path": "b.jpg", "tags": ["x", "y"]}\n')
    code, _, _ = run(capsys, listing, tmp_path / "out")
    failure, = failures(tmp_path / "out")
    assert code == 0 and failure["stage"] == "list" and "'tags' mixes int and str" in failure["error"]
    record, = read_split(tmp_path / "out", "train")
    assert record["tags"] == [b"x", b"y"]


def test_a_line_that_is_not_utf8_is_a_failure_and_the_rest_convert(tmp_path, capsys):
    imaging.write(tmp_path / "a.jpg", jpeg(1))
    imaging.write(tmp_path / "b.jpg", jpeg(2))
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"a.jpg\n\xff\xfe.jpg\nb.jpg\n")
    code, printed, _ = run(capsys, listing, tmp_path / "out")
    assert code == 0 and "wrote 2 of 3 images" in printed
    failure, = failures(tmp_path / "out")
    assert failure["uri"].endswith("list.txt:2") and "not UTF-8" in failure["error"]


def test_an_image_whose_name_is_not_utf8_is_a_failure_naming_it_and_the_rest_convert(tmp_path, capsys):
    """A Latin-1 file name (an old archive unpacked here): a failure line with its bytes escaped,
    in a folder walk and a glob alike, and in the plan; Unicode names convert as any other."""
    data = tmp_path / "data"
    imaging.write(data / "cat" / "日本 1.jpg", jpeg(1))
    imaging.write(data / "dög" / "a.jpg", jpeg(2))
    os.makedirs(os.fsencode(data / "cat"), exist_ok=True)
    with open(os.fsencode(data / "cat") + b"/caf\xe9.jpg", "wb") as handle:
        handle.write(jpeg(3))
    with open(os.fsencode(data / "cat") + b"/notes-\xe9.txt", "wb") as handle:  # not an image: skipped
        handle.write(b"x")
    for source, out in ((data, tmp_path / "walked"), (f"{data}/*/*", tmp_path / "globbed")):
        code, printed, _ = run(capsys, source, out)
        assert code == 0 and "wrote 2 of 3 images" in printed, printed
        assert "skipped 1 file whose name input.extensions does not take" in printed  # the .txt
        failure, = failures(out)
        assert failure["uri"] == f"{data}/cat/caf\\xe9.jpg" and failure["error"].startswith("NameNotUtf8: its path")
        assert sorted(r["image/filename"][0].decode() for r in read_split(out, "train")) == ["a.jpg", "日本 1.jpg"]
    assert main(["convert", "--plan", "--set", f"input.path={data}", "--set", f"output.path={tmp_path}/p"]) == 0
    assert "would fail: 1 (list: NameNotUtf8)" in capsys.readouterr().out


def test_a_class_name_that_cannot_be_a_line_of_labels_txt_fails_its_images(tmp_path, capsys):
    """labels.txt (and TFDS's names file) hold one class a line, read split on line breaks and
    stripped: a folder named with a line break, or of spaces only, would shift the names of
    every later id. Its images fail naming why; the others convert with ids their lines keep."""
    data = tmp_path / "data"
    for number, folder in enumerate(("b\nc", "  ", "dog", "cat", 'a "quoted" one')):
        imaging.write(data / folder / f"{number}.jpg", jpeg(number))
    code, printed, _ = run(capsys, data, tmp_path / "out")
    assert code == 0 and "wrote 3 of 5 images" in printed
    blank, broken = sorted(f["error"] for f in failures(tmp_path / "out"))
    assert blank.startswith("UnwritableLabel: class name ' ") and " is blank: labels.txt holds one name a line" in blank
    assert broken == "UnwritableLabel: class name 'b\\nc' has a line break: labels.txt holds one name a line; rename it"
    names = (tmp_path / "out" / "labels.txt").read_text().split("\n")
    for record in read_split(tmp_path / "out", "train"):
        assert names[record["image/class/label"][0]] == record["image/class/text"][0].decode()


def test_an_empty_listing_is_one_line_and_nothing_is_written(tmp_path, capsys):
    for name, text in (("empty.csv", "path,label\n"), ("empty.jsonl", "\n"),
                       ("reserved.csv", "path,image/height\na,1\n"), ("nopath.csv", "file,label\na.jpg,x\n")):
        listing = tmp_path / name
        listing.write_text(text)
        code, _, err = run(capsys, listing, tmp_path / "out")
        assert code == 2 and len(err) == 1 and err[0].startswith("config error: input.path:"), err
        assert not (tmp_path / "out").exists()
    assert "has no 'path' column (columns: 'file', 'label')" in err[0]


def test_a_single_file_as_the_input_is_one_line(tmp_path, capsys):
    """An image, or a listing in a format not read (.tsv), given as input.path: not 'no image files under'."""
    imaging.write(tmp_path / "a.jpg", jpeg())
    (tmp_path / "list.tsv").write_text("path\ta.jpg\n")
    for given in (tmp_path / "a.jpg", tmp_path / "list.tsv"):
        code, _, err = run(capsys, given, tmp_path / "out")
        assert code == 2 and err == [f"config error: input.path: {given} is a file: give its folder, a glob, or a "
                                     "listing (.txt, .csv or .jsonl)"]
        assert not (tmp_path / "out").exists()


def test_a_layout_the_folder_contradicts_is_one_line(tmp_path, capsys):
    imaging.write(tmp_path / "flat" / "a.jpg", jpeg())
    code, _, err = run(capsys, tmp_path / "flat", tmp_path / "out", "input.layout=class_folders")
    assert code == 2 and len(err) == 1 and err[0].startswith("config error: input.layout: class_folders needs")
    assert not (tmp_path / "out").exists()


def test_the_probe_finds_images_behind_thousands_of_other_files(tmp_path, capsys):
    data = tmp_path / "data"
    (data / "aaa").mkdir(parents=True)
    for i in range(4100):
        (data / "aaa" / f"{i:05d}.xml").write_text("<annotation/>")
    imaging.write(data / "zzz" / "photo.jpg", jpeg())
    code, printed, _ = run(capsys, data, tmp_path / "out")
    assert code == 0 and "wrote 1 of 1 images" in printed


def test_the_output_inside_the_input_is_never_read_as_input(tmp_path, capsys):
    data = tmp_path / "data"
    imaging.write(data / "a.jpg", jpeg())
    code, printed, _ = run(capsys, data, data / "out", "input.extensions=[]")
    assert code == 0 and "wrote 1 of 1 images" in printed
    code, printed, _ = run(capsys, data, data / "out", "input.extensions=[]", overwrite=True)
    assert code == 0 and "wrote 1 of 1 images" in printed  # its shards and manifest were not listed
