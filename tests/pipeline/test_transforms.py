"""One real Beam pipeline per transform, failures outputs included."""
import json
import os

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from tests.support import imaging
from transforms.dataset.names import FAILURES as FAILURES_FILE
from transforms.dataset.sharding import ref_order
from transforms.elements import Failure, ImageRef
from transforms.image.spec import ImageSpec
from transforms.inputs.input_plan import InputPlan
from transforms.inputs.layouts import DEFAULT_EXTENSIONS
from transforms.inputs.splits import SplitRule
from transforms.pipeline.facts import DatasetFacts, GatherFacts
from transforms.pipeline.finalize import Finalize, OutputSettings
from transforms.pipeline.list_images import ListImages
from transforms.pipeline.write_shards import RUN, ShardSettings, WriteShards, converter_threads, run_length

TRAIN = SplitRule((("train", 1.0),))


def folder_plan(root, layout="class_folders"):
    return InputPlan("folder", f"{root}/**", str(root), layout, DEFAULT_EXTENSIONS)


def test_list_images_from_class_folders(tmp_path, pipeline):
    imaging.make_class_folders(tmp_path, classes=("cat", "dog"), per_class=2)
    imaging.write(tmp_path / "stray.jpg", b"x")          # not in a class folder: a failure
    imaging.write(tmp_path / "cat" / "notes.txt", b"x")  # not an image name: skipped
    with pipeline as p:
        listed = p | ListImages(folder_plan(tmp_path), TRAIN)
        assert_that(listed.refs | beam.Map(lambda r: (r.key, r.label, r.split)), equal_to([
            ("cat/cat_00.jpg", "cat", "train"), ("cat/cat_01.jpg", "cat", "train"),
            ("dog/dog_00.jpg", "dog", "train"), ("dog/dog_01.jpg", "dog", "train")]), label="refs")
        assert_that(listed.failures | beam.Map(lambda f: (f.uri.rsplit("/", 1)[-1], f.stage)),
                    equal_to([("stray.jpg", "list")]), label="failures")


def test_list_images_from_a_csv_listing(tmp_path, pipeline):
    listing = tmp_path / "lists" / "all.csv"
    imaging.write(listing, b"path,label,split,weight\n../img/a.jpg,cat,validation,0.5\n,dog,,\nb.jpg,dog,,\n")
    plan = InputPlan("listing", str(listing), str(listing.parent), "listing", DEFAULT_EXTENSIONS)
    with pipeline as p:
        listed = p | ListImages(plan, TRAIN)
        assert_that(listed.refs, equal_to([
            ImageRef("../img/a.jpg", str(tmp_path / "img" / "a.jpg"), "cat", "validation", (("weight", "0.5"),)),
            ImageRef("b.jpg", str(tmp_path / "lists" / "b.jpg"), "dog", "train"),
        ]), label="refs")
        assert_that(listed.failures | beam.Map(lambda f: (f.stage, "no 'path'" in f.error)),
                    equal_to([("list", True)]), label="failures")


def test_gather_facts_in_one_pass(pipeline):
    refs = [ImageRef("a", "a", "dog", extra=(("n", 1),)), ImageRef("b", "b", "cat", extra=(("n", 2.5),)),
            ImageRef("c", "c", "dog", split="validation")]
    refs += [ImageRef(f"x{i}", f"x{i}", "dog") for i in range(200)]
    failures = [Failure.of("bad.csv:3", "list", "ListingError", "no path")]
    with pipeline as p:
        facts = (p | "Refs" >> beam.Create(refs), p | "Failures" >> beam.Create(failures)) | GatherFacts(5)
        assert_that(facts, equal_to([DatasetFacts(
            labels={"cat": 0, "dog": 1}, kinds={"n": "float"}, num_listed=len(refs) + 1,
            sample=tuple(sorted(refs, key=ref_order)[:5]))]))


def test_gather_facts_of_nothing(pipeline):
    with pipeline as p:
        facts = (p | "Refs" >> beam.Create([]), p | "Failures" >> beam.Create([])) | GatherFacts()
        assert_that(facts, equal_to([DatasetFacts({}, {}, 0, ())]))


def test_facts_merge_any_number_of_accumulators_to_the_same_result():
    """As workers pre-combine: refs spread over several accumulators give the facts of one."""
    from transforms.pipeline.facts import _FactsFn

    refs = [ImageRef(f"k{i}", f"k{i}", ("cat", "dog", None)[i % 3], "train" if i % 4 else "test",
                     (("n", i if i % 2 else i + 0.5),)) for i in range(300)]
    fn = _FactsFn(7)
    whole = fn.create_accumulator()
    for ref in refs:
        whole = fn.add_input(whole, ref)
    parts = [fn.create_accumulator() for _ in range(5)]
    for i, ref in enumerate(refs):
        parts[i % 5] = fn.add_input(parts[i % 5], ref)
    merged = fn.merge_accumulators([fn.merge_accumulators(parts[:2]), fn.merge_accumulators(parts[2:])])
    one, many = fn.extract_output(whole), fn.extract_output(merged)
    assert many.num_listed == one.num_listed == 300
    assert (many.labels, many.kinds, many.sample) == (one.labels, one.kinds, one.sample)
    assert one.labels == {"cat": 0, "dog": 1} and one.kinds == {"n": "float"} and len(one.sample) == 7


def test_counters_are_counted_and_read_back(tmp_path, pipeline):
    from transforms.pipeline.metrics import counters

    images = [imaging.write(tmp_path / f"{i}.png", imaging.encode(imaging.photo((20, 20), i), "PNG"))
              for i in range(4)]
    refs = [ImageRef(p.name, str(p)) for p in images] + [ImageRef("gone.png", str(tmp_path / "gone.png"))]
    settings = ShardSettings(temp_dir=str(tmp_path / "tmp"), image=ImageSpec(format="png"), shards=2)
    p = pipeline
    _ = p | beam.Create(refs) | WriteShards(settings, _facts(p, refs))
    found = counters(p.run())
    assert found["images_converted"] == 4 and found["images_failed_read"] == 1
    assert found["bytes_written"] > 0


def _facts(p, refs=(), labels=None, listed=0):
    return p | "Facts" >> beam.Create([DatasetFacts(labels or {}, {}, listed, ())])


def test_write_shards_converts_writes_and_reports_failures(tmp_path, pipeline):
    good = [imaging.write(tmp_path / "in" / f"{i}.png", imaging.encode(imaging.photo((40, 30), i), "PNG"))
            for i in range(9)]
    broken = imaging.write(tmp_path / "in" / "broken.jpg", b"not an image")
    missing = tmp_path / "in" / "missing.jpg"
    refs = [ImageRef(p.name, str(p), "x") for p in good + [broken, missing]]
    refs.append(ImageRef(good[0].name, str(good[0]), "x"))  # listed twice
    settings = ShardSettings(temp_dir=str(tmp_path / "tmp"), image=ImageSpec(format="png"), shards=3, threads=2)
    with pipeline as p:
        shards, failures = p | beam.Create(refs) | WriteShards(settings, _facts(p, refs, {"x": 0}))
        assert_that(shards | beam.Map(lambda r: (r.split, r.index, r.num_shards)),
                    equal_to([("train", 0, 3), ("train", 1, 3), ("train", 2, 3)]), label="shards")
        assert_that(shards | beam.Map(lambda r: r.num_examples) | beam.CombineGlobally(sum),
                    equal_to([9]), label="records")
        assert_that(failures | beam.Map(lambda f: (f.uri.rsplit("/", 1)[-1], f.stage, f.error.split(":")[0])),
                    equal_to([("broken.jpg", "decode", "UnsupportedImageFormat"),
                              ("missing.jpg", "read", "FileNotFoundError"),
                              ("0.png", "list", "DuplicateKey")]), label="failures")


def test_finalize_writes_failures_labels_and_manifest(tmp_path, pipeline):
    out = tmp_path / "out"
    out.mkdir()
    temp = out / ".tmp"
    temp.mkdir()  # the job's temp folder: Finalize removes it
    failures = [Failure.of("/a.jpg", "decode", "UnsupportedImageFormat", "no"),
                Failure.of("/b.jpg", "read", "OSError", "x")]
    settings = OutputSettings(str(out), str(temp), {"k": 1}, {"image2tfrecord": "test"})
    with pipeline as p:
        shards = p | "NoShards" >> beam.Create([])
        p | Finalize(settings, shards, p | beam.Create(failures), _facts(p, labels={"cat": 0}, listed=2))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["num_failed"] == 2 and manifest["num_examples"] == 0 and manifest["accounted"]
    assert manifest["failures_by_reason"] == {"decode: UnsupportedImageFormat": 1, "read: OSError": 1}
    lines = [json.loads(line) for line in (out / FAILURES_FILE).read_text().splitlines()]
    assert sorted(line["uri"] for line in lines) == ["/a.jpg", "/b.jpg"]
    assert (out / "labels.txt").read_text() == "cat\n"
    assert not temp.exists()




def test_converter_threads():
    image = ImageSpec()
    auto = ShardSettings(temp_dir="t", image=image)
    assert converter_threads(auto, remote=False) == (os.cpu_count() or 1)  # more only contend for the GIL
    assert converter_threads(auto, remote=True) == 8  # reads wait on the network
    assert converter_threads(ShardSettings(temp_dir="t", image=image, threads=3), remote=True) == 3
    assert converter_threads(ShardSettings(temp_dir="t", image=image, threads=1, processes=4), remote=False) == 8


def test_runs_are_sized_by_the_records_written_so_far():
    assert run_length(0, 0, RUN) == 1  # nothing known yet: one ref a run
    assert run_length(100, 100 * 35_000, RUN) == RUN  # 341x256 JPEGs: the longest run
    assert run_length(10, 10 * 200_000, RUN) == 10  # PNGs of 200 KB: about 2 MB a run
    assert run_length(10, 10 * 3_000_000, RUN) == 1  # raw 1000x1000 RGB: one at a time, as before
    assert run_length(100, 100 * 35_000, 4) == 4  # never longer than the caller allows


def _keys_in_one_bucket(count):
    """`count` keys that hash into one bucket, so its refs are cut between shards."""
    from transforms.dataset.sharding import bucket_of

    seen = {}
    for i in range(1_000_000):
        key = f"k{i}.png"
        found = seen.setdefault(bucket_of(key), [])
        found.append(key)
        if len(found) == count:
            return found
    raise AssertionError("no bucket filled")


def test_spilled_refs_write_the_same_shards_and_failures_as_inline_ones(tmp_path):
    """The local runner groups refs spilled to files (storage/spill.py), distributed runners inline:
    the same bytes, a bucket cut between shards and a key listed twice included."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.test_pipeline import TestPipeline

    from beam_jobs.runners.local import LOCAL_DEFAULTS, local_runner

    image = imaging.write(tmp_path / "in" / "one.png", imaging.encode(imaging.photo((12, 10), 3), "PNG"))
    refs = [ImageRef(key, str(image), "x") for key in _keys_in_one_bucket(6)]
    refs += [ImageRef(f"other{i}.png", str(image), "x") for i in range(5)]
    refs.append(ImageRef(refs[0].key, str(image), "x", "validation"))  # listed twice: a DuplicateKey failure
    outputs = {}
    for spill in (str(tmp_path / "spill"), None):
        temp = tmp_path / ("spilled" if spill else "inline")
        settings = ShardSettings(temp_dir=str(temp), image=ImageSpec(format="png"), shards=3, spill_dir=spill)
        options = PipelineOptions.from_dictionary(dict(LOCAL_DEFAULTS))
        with TestPipeline(runner=local_runner(options), options=options) as p:
            _, failures = p | beam.Create(refs) | WriteShards(settings, _facts(p, refs, {"x": 0}))
            _ = failures | beam.Map(lambda f: f.error) | beam.io.WriteToText(str(temp / "failures"))
        outputs[spill is not None] = {path.name: path.read_bytes() for path in sorted(temp.iterdir())
                                      if not path.name.endswith(".partial")}
    assert outputs[True] == outputs[False]
    assert sorted(name for name in outputs[True] if name.endswith(".tfrecord")) == [
        "train-00000-of-00003.tfrecord", "train-00001-of-00003.tfrecord", "train-00002-of-00003.tfrecord"]
    failures = b"".join(data for name, data in outputs[True].items() if name.startswith("failures"))
    assert failures.count(b"DuplicateKey") == 1
    assert any((tmp_path / "spill").iterdir())  # the refs went through spill files
