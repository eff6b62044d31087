"""Listing rows, layouts, split assignment and label ids."""
import collections
import os

import pytest

from transforms.dataset import labels
from transforms.elements import ImageRef
from transforms.inputs import errors, layouts, listing_files, paths, splits


def rows(text, suffix):
    return list(listing_files.listing_rows(listing_files.text_lines(text.encode().splitlines(keepends=True)), suffix))


def test_txt_listing_skips_blanks_and_comments():
    parsed = rows("# header\na.jpg\n\n  sub/b.png  \n", ".txt")
    assert [(n, r["path"]) for n, r in parsed] == [(2, "a.jpg"), (4, "sub/b.png")]


def test_csv_listing_keeps_extras_and_resolves_relative_paths():
    (_, row), = rows("path,label,split,caption\nimgs/a.jpg,cat,validation,a cat\n", ".csv")
    ref = listing_files.ref_from_row(row, "/data/lists", None)
    assert ref == ImageRef(key="imgs/a.jpg", uri="/data/lists/imgs/a.jpg", label="cat",
                           split="validation", extra=(("caption", "a cat"),))


def test_csv_listings_separated_by_semicolons_or_tabs():
    """Excel in much of Europe writes CSV with semicolons (it was "no 'path' column")."""
    for text in ("path;label;caption\nimgs/a.jpg;cat;a cat, sitting\n",
                 "path\tlabel\tcaption\nimgs/a.jpg\tcat\ta cat, sitting\n"):
        (number, row), = rows(text, ".csv")
        assert number == 2 and row == {"path": "imgs/a.jpg", "label": "cat", "caption": "a cat, sitting"}


def test_csv_without_path_column_is_one_error():
    (number, error), = rows("file,label\na.jpg,cat\n", ".csv")
    assert isinstance(error, errors.ListingError) and "path" in str(error)


def test_jsonl_typed_extras_and_bad_lines():
    parsed = rows('{"path": "gs://b/a.jpg", "label": 3, "score": 0.5, "boxes": [1, 2]}\nnot json\n[1]\n', ".jsonl")
    ref = listing_files.ref_from_row(parsed[0][1], "/data", "train")
    assert ref.uri == "gs://b/a.jpg" and ref.label == "3"
    assert ref.extra == (("boxes", (1, 2)), ("score", 0.5))
    assert [n for n, r in parsed if isinstance(r, errors.ListingError)] == [2, 3]


def test_row_errors_name_the_problem():
    with pytest.raises(errors.ListingError, match="no 'path'"):
        listing_files.ref_from_row({"label": "x"}, "/d", None)
    with pytest.raises(errors.ListingError, match="clash"):
        listing_files.ref_from_row({"path": "a.jpg", "image/height": 3}, "/d", None)
    with pytest.raises(errors.ListingError, match="number, a string"):
        listing_files.ref_from_row({"path": "a.jpg", "meta": {"x": 1}}, "/d", None)


def test_relative_paths_against_a_bucket_listing():
    assert paths.join_path("gs://bucket/lists", "a/b.jpg") == "gs://bucket/lists/a/b.jpg"
    assert paths.join_path("gs://bucket/lists", "../img/b.jpg") == "gs://bucket/img/b.jpg"
    assert paths.join_path("/data", "../x.jpg") == "/x.jpg"


@pytest.mark.parametrize("paths,layout", [
    (["a.jpg", "b.jpg"], "flat"),
    (["cat/a.jpg", "dog/b.jpg"], "class_folders"),
    (["train/cat/a.jpg", "validation/dog/b.jpg"], "split_class_folders"),
    (["train/a.jpg", "valid/b.jpg", "test/c.jpg"], "split_folders"),  # Roboflow's exports
    (["train/a.jpg", "cat/b.jpg"], "class_folders"),
    (["photos/2020/a.jpg", "photos/2021/b.jpg"], "class_folders"),
    (["a.jpg", "cat/b.jpg"], "flat"),
])
def test_detect_layout(paths, layout):
    assert layouts.detect_layout(paths)[0] == layout


def test_refs_from_folders():
    assert layouts.ref_from_folder("cat/a.jpg", "/d/cat/a.jpg", "class_folders", None).label == "cat"
    ref = layouts.ref_from_folder("val/dog/b.jpg", "/d/val/dog/b.jpg", "split_class_folders", None)
    assert (ref.split, ref.label, ref.key) == ("val", "dog", "val/dog/b.jpg")
    with pytest.raises(errors.ListingError, match="class folder"):
        layouts.ref_from_folder("a.jpg", "/d/a.jpg", "class_folders", None)
    ref = layouts.ref_from_folder("valid/b.jpg", "/d/valid/b.jpg", "split_folders", None)
    assert (ref.split, ref.label, ref.key) == ("valid", None, "valid/b.jpg")


def test_extension_filter_ignores_hidden_and_other_files():
    exts = layouts.DEFAULT_EXTENSIONS
    assert layouts.has_image_extension("/d/a/IMG_1.JPG", exts)
    assert not layouts.has_image_extension("/d/a/.DS_Store", exts)
    assert not layouts.has_image_extension("/d/a/notes.txt", exts)
    assert layouts.has_image_extension("/d/a/notes.txt", ())


def test_split_assignment_is_stable_and_follows_fractions():
    fractions = (("train", 0.8), ("validation", 0.2))
    keys = [f"img_{i}.jpg" for i in range(5000)]
    first = [splits.assign_split(k, fractions) for k in keys]
    assert first == [splits.assign_split(k, fractions) for k in keys]
    share = collections.Counter(first)["validation"] / len(keys)
    assert 0.18 < share < 0.22


def test_label_ids_sorted_names_or_integers():
    assert labels.label_map(["dog", "cat", "dog"]) == {"cat": 0, "dog": 1}
    assert labels.label_map(["10", "2"]) == {"2": 2, "10": 10}
    assert labels.labels_lines({"2": 2, "0": 0}) == ["0", "", "2"]



def test_a_jsonl_row_whose_strings_json_escaped_into_lone_surrogates_is_a_bad_line():
    """json.dumps writes a Latin-1 file name from os.listdir as "caf\\udce9.jpg": valid JSON, but
    no record, labels.txt or Beam coder can write it (the job crashed in the listing)."""
    text = ('{"path": "caf\\udce9.jpg"}\n{"path": "a.jpg", "label": "x\\uDCE9"}\n'
            '{"path": "b.jpg", "tags": ["ok", "\\udce9"]}\n{"path": "c.jpg", "label": "\\ud83d\\ude00"}\n')
    parsed = rows(text, ".jsonl")
    assert [str(r) for _, r in parsed[:3]] == [
        "'path' holds a lone surrogate escape (\\udcXX), not text; a file name that is not UTF-8 (json.dumps writes "
        "one so): rename the file (convmv -f latin1 -t utf8) and list it again",
        "'label' holds a lone surrogate escape (\\udcXX), not text",
        "'tags' holds a lone surrogate escape (\\udcXX), not text"]
    assert parsed[3] == (4, {"path": "c.jpg", "label": "\U0001f600"})  # a surrogate pair is one character


def test_a_name_that_is_not_utf8_is_told_and_shown_with_its_bytes_escaped():
    latin1 = os.fsdecode(b"/data/cat/caf\xe9.jpg")  # as a walk hands it over: a surrogate escape
    assert not paths.is_utf8(latin1) and paths.shown(latin1) == "/data/cat/caf\\xe9.jpg"
    assert paths.is_utf8("/data/dög/日本.jpg") and paths.shown("/data/dög/日本.jpg") == "/data/dög/日本.jpg"


def test_a_class_name_is_unwritable_when_labels_txt_cannot_hold_it_as_one_line():
    names = ["cat", " spaced ", 'a "quoted" one', "back\\slash", "new\nline", "cr\rhere", "  ", "", "caf\udce9"]
    assert [labels.unwritable(name) is None for name in names] == [True] * 4 + [False] * 5
    assert labels.unwritable("caf\udce9") == "class name 'caf\\udce9' is not text (a lone surrogate escape)"
    assert labels.unwritable("\U0001f600 d\u00f6g") is None
    written = "\n".join(labels.labels_lines({name: i for i, name in enumerate(names[:4])}))
    assert labels.read_label_names(written) == ("cat", "spaced", 'a "quoted" one', "back\\slash")
