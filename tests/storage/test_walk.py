"""files.walk: the listing's unsorted walk finds what the sorted one finds."""
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
