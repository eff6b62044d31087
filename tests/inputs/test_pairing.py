"""Which annotation is which image's, among those of one file stem (transforms/inputs/pairing)."""
from transforms.inputs.pairing import Conflict, accounted, by_parts, exact, pair, parts, stem


def test_a_path_is_its_folders_and_stem_whatever_the_separator():
    assert parts("train\\cats/./1.JPG") == ("train", "cats", "1") == parts("/train/cats/1.jpg/")
    assert parts("a/.b.c.jpg") == ("a", ".b.c") and parts("a/..jpg") == ("a", "..jpg") and parts("x.") == ("x",)
    assert stem("a/b.c.jpg") == "b.c" and stem("") == ""


def test_a_file_stem_is_what_posixpath_splitext_leaves():
    """parts() drops the extension by hand (it runs for every image of a job); it agrees with
    posixpath.splitext on every name of up to five pieces of dots, letters and dotted names."""
    import itertools
    import posixpath

    names = {"".join(combo) for k in range(1, 6) for combo in itertools.product(["a", ".", "..", "x.y", "é"], repeat=k)}
    names -= {".", ".."}  # not file names: the folder itself and its parent
    assert len(names) > 2900
    for name in names:
        assert parts(f"dir/{name}") == ("dir", posixpath.splitext(name)[0]), name


def test_an_image_takes_the_annotation_at_its_own_path():
    """Class folders with an XML beside each image: `1.jpg` in both was two annotations for
    each image (both failed as duplicates) when images and annotations met by stem alone."""
    assert pair(["cats/1.jpg", "dogs/1.jpg"], ["dogs/1.xml", "cats/1.xml"]) == [1, 0]
    assert pair(["1.jpg", "a/1.jpg"], ["1.jpg"]) == [0, None]  # a/1 is not named by `1.jpg`'s own image


def test_of_two_annotations_named_for_one_stem_an_image_takes_its_own_extension():
    """COCO and CSV name images with their extension: `a.jpg` and `a.png` side by side are
    two images, each with its annotation (a stem alone failed both as duplicates)."""
    assert pair(["a.png", "a.jpg"], ["a.jpg", "a.png"]) == [1, 0]
    assert pair(["a.jpg"], ["a.jpg", "a.png"]) == [0]
    assert pair(["a.gif"], ["a.jpg", "a.png"])[0].kind == "duplicate"


def test_otherwise_images_and_annotations_pair_by_the_most_trailing_folders_shared():
    keys = ["JPEGImages/cats/1.jpg", "JPEGImages/dogs/1.jpg", "JPEGImages/birds/1.jpg"]
    assert pair(keys, ["Annotations/dogs/1.xml", "Annotations/cats/1.xml"]) == [1, 0, None]
    assert pair(["train2017/0001.jpg"], ["0001.jpg"]) == [0]  # COCO file_name without the folder


def test_ties_fail_rather_than_guess():
    """An annotation named bare fits every image of its stem: which one it is for is unknown."""
    both = pair(["cats/1.jpg", "dogs/1.jpg"], ["1.jpg"])
    assert both == [Conflict("ambiguous", ("cats/1.jpg", "dogs/1.jpg"), (0,))] * 2
    assert both[0].describe("annotations") == "its annotation fits 2 images equally: cats/1.jpg, dogs/1.jpg"
    twice = pair(["1.jpg"], ["x/1.png", "y/1.png"])
    assert twice == [Conflict("duplicate", ("x/1.png", "y/1.png"), (0, 1))]
    assert twice[0].describe("masks") == "2 masks fit it equally: x/1.png, y/1.png"
    assert pair(["1.jpg"], ["1.xml", "1.xml"])[0].kind == "duplicate"  # one name in two split files
    assert accounted(both) == {0} and accounted(twice) == {0, 1}  # in conflict: not unpaired


def test_a_better_match_elsewhere_leaves_an_image_without():
    """`b/1.xml` fits `a/b/1.jpg` better than `c/1.jpg`: the latter gets nothing, and an
    annotation no image takes stays unpaired."""
    assert pair(["c/1.jpg", "x/a/b/1.jpg"], ["b/1.xml"]) == [None, 0]
    choices = pair(["c/1.jpg", "x/a/b/1.jpg"], ["b/1.xml", "z/q/1.xml"])  # z/q/1 fits both by stem alone
    assert choices == [Conflict("ambiguous", ("c/1.jpg", "x/a/b/1.jpg"), (1,)), 0]
    assert accounted(pair(["a/1.jpg"], ["a/1.xml", "b/1.xml"])) == {0}


def test_deciding_one_image_at_a_time_agrees_with_deciding_all():
    """The local job decides an image at its own path at once, and the rest of its stem later:
    both ways give the same pairs."""
    paths = ["cats/1.xml", "1.xml", "dogs/1.xml"]
    index = by_parts(paths)
    assert exact("cats/1.jpg", ("cats", "1"), paths, index) == (0, [0])
    assert exact("birds/1.jpg", ("birds", "1"), paths, index) == (None, [])
    assert pair(["cats/1.jpg", "dogs/1.jpg", "1.jpg", "birds/1.jpg"], paths) == [0, 2, 1, None]


def test_a_stem_twenty_thousand_images_share_is_paired_in_one_pass():
    """Datasets of `<id>/image.jpg` put every image in one stem: pairing indexes suffixes
    instead of comparing every image with every annotation (4 x 10^8 comparisons here)."""
    count = 20_000
    keys = [f"{n:06d}/image.jpg" for n in range(count)]
    paths = [f"labels/{n:06d}/image.json" for n in reversed(range(count))]
    assert pair(keys, paths) == list(reversed(range(count)))
