"""The conversion process pool: same records as in-thread, crashes blamed on their image."""
import os
import signal

from tests.support import imaging
from transforms.elements import Failure, ImageRef
from transforms.image.spec import ImageSpec
from transforms.runtime.pool import ConvertPool
from transforms.runtime.work import build_record


def _refs(tmp_path, count=6):  # noqa: D103
    refs = []
    for i in range(count):
        path = imaging.write(tmp_path / f"{i}.jpg", imaging.encode(imaging.photo((64, 48), i), "JPEG"))
        refs.append(ImageRef(path.name, str(path)))
    return refs


def test_pool_records_equal_in_thread_records(tmp_path):
    pool = ConvertPool(2)
    spec = ImageSpec(format="png")
    for ref in _refs(tmp_path):
        assert pool.record(ref, spec, 3, {}) == build_record(ref, spec, 3, {})
    bad = ImageRef("x", str(imaging.write(tmp_path / "x.jpg", b"nope")))
    failure = pool.record(bad, spec, None, {})
    assert isinstance(failure, Failure) and failure.stage == "decode"


def crash_on_boom(ref, spec, label, kinds):
    """A stand-in for build_record whose worker dies (as in a decoder crash) on one image."""
    if ref.uri.endswith("boom.jpg"):
        os.kill(os.getpid(), signal.SIGKILL)
    return ref.uri


def test_a_dying_worker_fails_only_its_image():
    pool = ConvertPool(2, work=crash_on_boom)
    pool._current()  # healthy start
    assert pool.record(ImageRef("a", "/a.jpg"), ImageSpec(), None, {}) == "/a.jpg"
    failure = pool.record(ImageRef("boom", "/boom.jpg"), ImageSpec(), None, {})
    assert isinstance(failure, Failure) and failure.error.startswith("WorkerCrashed")
    assert pool.record(ImageRef("b", "/b.jpg"), ImageSpec(), None, {}) == "/b.jpg"


def dies_in_workers(ref, spec, label, kinds):
    """A stand-in for build_record that kills any process but the caller's (its pid is the label)."""
    if os.getpid() != int(ref.label):
        os.kill(os.getpid(), signal.SIGKILL)
    return ref.uri


def test_a_pool_that_keeps_breaking_falls_back_to_threads():
    pool = ConvertPool(1, work=dies_in_workers)
    refs = [ImageRef(f"{i}", f"/{i}.jpg", label=str(os.getpid())) for i in range(5)]
    results = [pool.record(ref, ImageSpec(), None, {}) for ref in refs]
    assert all(isinstance(r, Failure) and r.error_type == "WorkerCrashed" for r in results[:2])
    # The third broken pool in a row disables the workers: that image and the rest convert in the caller.
    assert results[2:] == ["/2.jpg", "/3.jpg", "/4.jpg"] and pool._disabled
