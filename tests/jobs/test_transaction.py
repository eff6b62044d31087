"""The output is a transaction: killed (SIGKILL, by strace fault injection) at every rename
and every delete of a run that replaces a dataset, the folder holds the previous dataset or
the new one, whole, each passing verify's checks; the same command then finishes the job.
Also: one writer per output, resume after a kill, Ctrl-C and SIGTERM, no orphan process."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from beam_jobs.cli import main
from tests.support import imaging
from transforms.dataset.names import TEMP_PREFIX
from transforms.readback.checks import check_shard, shards_to_check
from transforms.readback.image_records import load_manifest
from transforms.storage import lock

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (apt-get install strace)")

CLI = [sys.executable, "-m", "beam_jobs.cli", "convert"]
OLD = ["output.shards=3", "output.min_shard_records=1"]
NEW = ["output.shards=2",
       "output.min_shard_records=1", "image.format=png", "image.resize.mode=fit", "image.resize.width=30",
       "image.resize.height=30"]
SYSCALLS = ("rename", "unlink", "unlinkat", "rmdir")


def command(data, out, sets, *flags):
    """A convert command; the dataset's name is pinned, as folders compared here differ in name."""
    given = [f"input.path={data}", f"output.path={out}", "dataset.name=tx", *sets]
    return [*CLI, *sum((["--set", s] for s in given), []), *flags]


def under_strace(args, inject=None, log="/dev/null"):
    """The command under strace; its temp files (Beam's pipeline folder, which a killed run
    cannot remove) go to a folder removed afterwards, not the machine's /tmp."""
    trace = ["strace", "-f", "-qq", "-o", str(log), "-e", f"trace={','.join(SYSCALLS)}"]
    if inject:
        trace += ["-e", f"inject={inject}"]
    with tempfile.TemporaryDirectory() as scratch:
        return subprocess.run([*trace, *args], capture_output=True, text=True, env={**os.environ, "TMPDIR": scratch},
                              cwd=Path(__file__).resolve().parents[2])


def state(out):
    """The dataset as a reader sees it: every visible file's bytes (the manifest without its run
    id and output path, which differ between the folders compared)."""
    load_manifest(str(out))  # finishes a commit cut short, as every reader does
    found = {}
    for path in sorted(out.iterdir()):
        if path.name.startswith("."):
            continue
        content = path.read_bytes()
        if path.name == "manifest.json":
            raw = json.loads(content)
            raw.pop("run_id")
            raw["config"]["output"].pop("path")
            content = json.dumps(raw, sort_keys=True).encode()
        found[path.name] = content
    return found


def sound(out):
    manifest = load_manifest(str(out))
    return all(not check_shard(str(out), shard).problems for shard in shards_to_check(manifest))


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    """Inputs, the previous dataset (OLD) and what the replacing run (NEW) writes when not killed."""
    root = tmp_path_factory.mktemp("tx")
    data = imaging.make_class_folders(root / "in", classes=("a", "b"), per_class=3, size=(60, 40))
    old, new = root / "old", root / "new"
    assert subprocess.run(command(data, old, OLD)).returncode == 0
    assert subprocess.run(command(data, new, NEW)).returncode == 0
    counts_log = root / "syscalls.log"
    replaced = root / "counted"
    shutil.copytree(old, replaced)
    assert under_strace(command(data, replaced, NEW, "--overwrite"), log=counts_log).returncode == 0
    text = counts_log.read_text()
    counts = {name: len(re.findall(rf"\b{name}\(", text)) for name in SYSCALLS}
    return data, old, state(old), state(new), counts


@pytest.mark.parametrize("syscall", SYSCALLS)
def test_a_kill_at_every_step_leaves_the_old_or_the_new_dataset(datasets, tmp_path, syscall):
    data, old, old_state, new_state, counts = datasets
    assert counts[syscall] > 0

    def kill_then_rerun(n):
        """Killed at the `n`th `syscall`: the old or the new dataset, whole; then the rerun
        finishes the new one. Each step's runs are processes of their own, so steps run side
        by side (a core each: the 20-odd renames took two minutes one after another)."""
        out = tmp_path / f"{syscall}-{n}"
        shutil.copytree(old, out)
        done = under_strace(command(data, out, NEW, "--overwrite"), inject=f"{syscall}:signal=SIGKILL:when={n}")
        assert done.returncode != 0, f"{syscall} #{n} was not reached"
        after = state(out)
        assert after in (old_state, new_state), f"killed at {syscall} #{n}: a mix of {sorted(after)}"
        assert sound(out)
        rerun = subprocess.run(command(data, out, NEW, "--overwrite"), capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert state(out) == new_state, f"the rerun after {syscall} #{n} did not finish the new dataset"
        left = [p.name for p in out.iterdir() if p.name.endswith(".partial") or p.name.startswith(TEMP_PREFIX)]
        assert not left, f"the rerun after {syscall} #{n} left {left}"  # temp areas hold the spilled refs
        return "old" if after == old_state else "new"

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        seen = set(pool.map(kill_then_rerun, range(1, counts[syscall] + 1)))
    assert seen == {"old", "new"} or syscall != "rename"  # renames span the commit point


def test_a_second_writer_is_refused_naming_the_first(tmp_path, capsys):
    data = imaging.make_class_folders(tmp_path / "in", classes=("a",), per_class=2)
    out = tmp_path / "out"
    held = lock.acquire(str(out), "someone-else")  # this process is alive: a live holder
    try:
        assert main(["convert", "--set", f"input.path={data}", "--set", f"output.path={out}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "another conversion writes" in err[0] and "run someone-else" in err[0]
        assert f"pid {held.pid}" in err[0] and "--force-unlock" in err[0]
        assert main(["convert", "--set", f"input.path={data}", "--set", f"output.path={out}",
                     "--force-unlock"]) == 0
    finally:
        lock.release(str(out))


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path, capsys):
    data = imaging.make_class_folders(tmp_path / "in", classes=("a",), per_class=2)
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out.mkdir()
    (out / ".image2tfrecord-lock.json").write_text(json.dumps(
        {"run": "old", "host": lock.LockInfo("", "", 0, "").host or __import__("socket").gethostname(),
         "pid": dead.pid, "started": "then"}))
    assert main(["convert", "--set", f"input.path={data}", "--set", f"output.path={out}"]) == 0
    assert not (out / ".image2tfrecord-lock.json").exists()


def _stale_lock(out, pid, started):
    out.mkdir()
    (out / ".image2tfrecord-lock.json").write_text(json.dumps(
        {"run": "old", "host": __import__("socket").gethostname(), "pid": pid, "started": started}))


def test_a_lock_held_by_a_zombie_or_a_reused_pid_is_taken_over(tmp_path, capsys):
    """A killed run not yet reaped (a zombie: under `timeout -s KILL`, or for good in a container
    without an init) holds no lock; nor does a live process that started after the lock was
    taken (its pid reused). A live holder that started before it still does."""
    import datetime
    import time

    data = imaging.make_class_folders(tmp_path / "in", classes=("a",), per_class=2)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])  # exits, and is not waited for yet
    deadline = time.monotonic() + 10
    while "zombie" not in _status(zombie.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    then = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    later = subprocess.Popen(["sleep", "60"])  # alive, started after `then`
    try:
        for number, pid in enumerate((zombie.pid, later.pid)):
            out = tmp_path / f"out{number}"
            _stale_lock(out, pid, then.isoformat(timespec="seconds"))
            assert main(["convert", "--set", f"input.path={data}", "--set", f"output.path={out}"]) == 0
            assert not (out / ".image2tfrecord-lock.json").exists()
        out = tmp_path / "held"
        _stale_lock(out, later.pid, datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
        capsys.readouterr()
        assert main(["convert", "--set", f"input.path={data}", "--set", f"output.path={out}"]) == 2
        assert f"pid {later.pid}" in capsys.readouterr().err
    finally:
        later.kill()
        later.wait()
        zombie.wait()


@pytest.mark.parametrize("fraction", [0.3, 0.7])
def test_a_rerun_after_a_kill_resumes_and_writes_the_same_bytes(tmp_path, fraction):
    """Ten shards; killed after 3 (or 7) are finished: the rerun converts only the rest."""
    data = tmp_path / "in"
    for i in range(20):
        imaging.write(data / f"{i:02d}.jpg", imaging.encode(imaging.photo((48, 36), i), "JPEG"))
    sets = ["output.shards=10", "output.min_shard_records=1", "parallelism.threads=1"]
    whole = tmp_path / "whole"
    assert subprocess.run(command(data, whole, sets)).returncode == 0
    out = tmp_path / "out"
    finished = round(10 * fraction)
    # Each shard renames its file, then its marker: the next shard's first rename is 2 * finished + 1.
    killed = under_strace(command(data, out, sets), inject=f"rename:signal=SIGKILL:when={2 * finished + 1}")
    assert killed.returncode != 0 and not (out / "manifest.json").exists()
    rerun = subprocess.run(command(data, out, sets), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming: {finished} shards finished by an interrupted or held run" in rerun.stdout
    assert f"reused {finished} finished shards; converted {20 - 2 * finished} images" in rerun.stdout
    assert state(out) == state(whole)


def test_images_replaced_between_a_kill_and_the_rerun_are_converted_anew(tmp_path):
    """Killed after 5 of 10 shards; every image is then replaced by another of the same name
    (a user fixing files before rerunning): no finished shard is reused, and the dataset is
    the one a whole run writes from the images as they are now, not a mix of both versions."""
    data = tmp_path / "in"

    def write_images(seed):
        for i in range(20):
            imaging.write(data / f"{i:02d}.jpg", imaging.encode(imaging.photo((48, 36), seed + i), "JPEG"))

    write_images(0)
    sets = ["output.shards=10", "output.min_shard_records=1", "parallelism.threads=1"]
    out = tmp_path / "out"
    killed = under_strace(command(data, out, sets), inject="rename:signal=SIGKILL:when=11")
    assert killed.returncode != 0 and not (out / "manifest.json").exists()
    write_images(100)
    rerun = subprocess.run(command(data, out, sets), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming: 5 shards finished by an interrupted or held run" in rerun.stdout
    assert "reused" not in rerun.stdout
    whole = tmp_path / "whole"
    assert subprocess.run(command(data, whole, sets)).returncode == 0
    assert state(out) == state(whole)


@pytest.mark.parametrize("sig, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_ctrl_c_and_sigterm_stop_with_one_line(tmp_path, sig, status):
    data = tmp_path / "in"
    for i in range(12):
        imaging.write(data / f"{i:02d}.jpg", imaging.encode(imaging.photo((48, 36), i), "JPEG"))
    sets = ["output.shards=6", "output.min_shard_records=1", "parallelism.threads=1"]
    done = under_strace(command(data, tmp_path / "out", sets), inject=f"rename:signal={sig.name}:when=5")
    assert done.returncode == status
    assert done.stderr.strip().splitlines() == [
        "interrupted: 2 shards finished and kept; rerun the same command to resume"]
    assert not (tmp_path / "out" / ".image2tfrecord-lock.json").exists()


def test_no_process_outlives_a_killed_run(tmp_path):
    """With worker processes, SIGKILL of the job leaves neither forkserver nor worker."""
    import time

    data = tmp_path / "in"
    for i in range(12):
        imaging.write(data / f"{i:02d}.jpg", imaging.encode(imaging.photo((48, 36), i), "JPEG"))
    log = tmp_path / "trace.log"
    sets = ["output.shards=6", "output.min_shard_records=1", "parallelism.processes=2"]
    done = under_strace(command(data, tmp_path / "out", sets),
                        inject="rename:signal=SIGKILL:when=3", log=log)
    assert done.returncode != 0
    pids = {int(line.split()[0]) for line in log.read_text().splitlines() if line.split()[0].isdigit()}
    pids |= {int(m) for m in re.findall(r"clone\S*\(.*?\)\s+=\s+(\d+)", log.read_text())}
    deadline = time.monotonic() + 10  # the forkserver notices within half a second
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = {p for p in pids if Path(f"/proc/{p}").exists() and "zombie" not in _status(p)}
        time.sleep(0.1)
    assert not alive, [Path(f"/proc/{p}/cmdline").read_bytes()[:80] for p in alive if Path(f"/proc/{p}").exists()]


def _status(pid):
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


@pytest.fixture
def small_disk(tmp_path):
    """A real 300 KB file system (tmpfs), so the disk fills up for real."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)])


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, small_disk, capsys):
    data = tmp_path / "in"
    for i in range(12):
        imaging.write(data / f"{i:02d}.png", imaging.encode(imaging.photo((160, 120), i), "PNG"))
    out = small_disk / "out"
    code = main(["convert", "--set", f"input.path={data}", "--set", f"output.path={out}", "--set", "output.shards=6",
                 "--set", "output.min_shard_records=1",
                 "--set", "image.format=raw", "--set", "parallelism.threads=1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith(f"config error: output.path: no space left on the device of {out};")
    assert "rerun the same command to resume" in err[0]
    assert not list(out.rglob("*.partial")) and not (out / "manifest.json").exists()


def test_an_output_that_cannot_be_written_is_refused_before_any_conversion(tmp_path, capsys):
    readonly = tmp_path / "ro"
    readonly.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(readonly)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        data = imaging.make_class_folders(tmp_path / "in", classes=("a",), per_class=2)
        assert main(["convert", "--set", f"input.path={data}", "--set", f"output.path={readonly / 'out'}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"config error: output.path: cannot write to {readonly / 'out'}: Read-only file system"]
    finally:
        subprocess.run(["umount", str(readonly)])
