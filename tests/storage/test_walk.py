"""files.walk: the listing's unsorted walk finds what the sorted one finds; files.version."""
import os

from transforms.storage import files


def test_an_unordered_walk_finds_the_same_files_and_problems_as_the_sorted_one(tmp_path):
    root, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    for folder in (root / "a" / "deep", root / "b", root / ".hidden", elsewhere):
        folder.mkdir(parents=True)
    for path in (root / "top.jpg", root / "a" / "x.jpg", root / "a" / "deep" / "y.jpg", root / "b" / ".h.jpg",
                 root / ".hidden" / "z.jpg", elsewhere / "w.jpg"):
        path.write_bytes(b"x")
    os.symlink(elsewhere, root / "linked")
    os.symlink(root, root / "b" / "loop")  # back to the root: not walked again
    os.symlink(tmp_path / "gone.jpg", root / "b" / "dangling.jpg")  # yielded like a file
    ordered = list(files.walk(str(root)))
    assert ordered == sorted(ordered)
    assert sorted(files.walk(str(root), ordered=False)) == ordered
    assert [os.path.relpath(p, root) for p, _ in ordered] == [
        "a/deep/y.jpg", "a/x.jpg", "b/dangling.jpg", "linked/w.jpg", "top.jpg"]


def test_a_file_version_changes_with_its_bytes_and_says_when_it_is_gone(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(b"one")
    os.utime(path, ns=(1, 1))
    before = files.version(str(path))
    path.write_bytes(b"two")  # the same size: the time tells
    os.utime(path, ns=(2, 2))
    assert files.version(str(path)) != before
    assert files.version(str(tmp_path / "gone.jpg")) == "missing"
    assert files.version("gs://bucket/a.jpg") == ""  # remote inputs are taken as listed


def test_versions_in_threads_are_those_of_one_stat_after_another(tmp_path, monkeypatch):
    """Where stats are slow (a network filesystem) the rest run in threads: the same answers, in order."""
    paths = []
    for i in range(300):
        path = tmp_path / f"{i:03d}.jpg"
        path.write_bytes(b"x" * i)
        paths.append(str(path))
    paths += [str(tmp_path / "gone.jpg"), "gs://bucket/a.jpg"]
    serial = [files.version(p) for p in paths]
    assert files.versions(paths) == serial
    monkeypatch.setattr(files, "_SLOW_STAT", 0.0)  # every stat counts as slow: the threaded path
    assert files.versions(paths) == serial
