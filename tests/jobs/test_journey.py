"""The user's journey: the plan before (and that the job then does what it said), progress
during, the reasons after; trying settings on a few images; mistakes before any work."""
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from beam_jobs.cli import main
from tests.support import imaging
from tests.support.readback import manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("journey")
    data = imaging.make_class_folders(root / "in", classes=("ant", "bee", "cow", "dog"), per_class=50, size=(64, 48))
    (data / "ant" / "notes.txt").write_text("not an image")
    return data


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_plan_says_what_the_job_then_writes(photos, tmp_path, capsys):
    sets = ["--set", f"input.path={photos}", "--set", f"output.path={tmp_path / 'out'}",
            "--set", "splits={train: 0.8, validation: 0.2}", "--set", "split_method=exact", "--set", "stratify=true",
            "--set", "output.shards={train: 4, validation: 2}", "--set", "output.min_shard_records=10"]
    code, planned, _ = run(capsys, "convert", *sets, "--plan")
    assert code == 0 and not (tmp_path / "out").exists()
    assert "files: 201 found, 1 skipped by input.extensions, 200 taken" in planned
    assert "200 images in 4 classes:" in planned and "    50  ant" in planned
    assert "train: 160 records in 4 shards" in planned and "validation: 40 records in 2 shards" in planned
    assert "nothing written" in planned and "config:" in planned
    code, _, _ = run(capsys, "convert", *sets, "--quiet")
    info = manifest(tmp_path / "out")
    assert code == 0
    assert {s: (e["num_examples"], e["num_shards"]) for s, e in info["splits"].items()} == {
        "train": (160, 4), "validation": (40, 2)}
    assert info["splits"]["validation"]["classes"] == {"ant": 10, "bee": 10, "cow": 10, "dog": 10}


def test_the_plan_says_when_the_sampled_images_do_not_convert(photos, tmp_path, capsys):
    """A listing whose paths lead nowhere (a wrong base folder: the commonest listing mistake)
    shows in the plan, with an example, before a run makes every image a failure line."""
    listing = tmp_path / "list.csv"
    listing.write_text("path,label\n" + "".join(f"elsewhere/{i}.jpg,ant\n" for i in range(100))
                       + f"{next((photos / 'ant').glob('*.jpg'))},ant\n")
    code, planned, _ = run(capsys, "convert", "--set", f"input.path={listing}", "--set", f"output.path={tmp_path}/o",
                           "--plan")
    assert code == 0
    line, = [line for line in planned.splitlines() if "failed now:" in line]
    assert re.match(r"  failed now: (63|64) of 64 sampled \(read: FileNotFoundError\), e\.g\. .*/elsewhere/\d+\.jpg: "
                    r"FileNotFoundError: ", line), line
    listing.write_text("path,label\n" + "".join(f"elsewhere/{i}.jpg,ant\n" for i in range(10)))
    code, planned, _ = run(capsys, "convert", "--set", f"input.path={listing}", "--set", f"output.path={tmp_path}/o",
                           "--plan")
    assert "(record size unknown: none of 10 sampled images converted)" in planned
    assert "  failed now: 10 of 10 sampled (read: FileNotFoundError)" in planned
    assert ("  the sampled failure rate, 100%, is over errors.max_failed_fraction=0.01: the run would exit 2 (its "
            "records and failures written)") in planned
    # over a dataset already there, the plan says the run would keep it and be held (conversion.RunHeld)
    good = tmp_path / "good.csv"
    good.write_text("path,label\n" + f"{next((photos / 'ant').glob('*.jpg'))},ant\n")
    assert run(capsys, "convert", "--set", f"input.path={good}", "--set", f"output.path={tmp_path}/o",
               "--quiet")[0] == 0
    code, planned, _ = run(capsys, "convert", "--set", f"input.path={listing}", "--set", f"output.path={tmp_path}/o",
                           "--plan")
    assert (f"  {tmp_path}/o holds a dataset of 1 records: --overwrite replaces it when this run commits; but the "
            "sampled failure rate, 100%, is over errors.max_failed_fraction=0.01: it would be kept, and this run "
            "held") in planned


def test_limit_converts_the_first_images_of_each_split(photos, tmp_path, capsys):
    out = tmp_path / "out"
    code, printed, err = run(capsys, "convert", "--set", f"input.path={photos}", "--set", f"output.path={out}",
                             "--set", "splits={train: 0.5, validation: 0.5}", "--limit", "7")
    assert code == 0, printed + err
    info = manifest(out)
    assert code == 0 and info["accounted"] and "wrote 14 of 14 images" in printed
    assert {s: e["num_examples"] for s, e in info["splits"].items()} == {"train": 7, "validation": 7}
    code, planned, _ = run(capsys, "convert", "--set", f"input.path={photos}", "--set", f"output.path={out}x",
                           "--set", "splits={train: 0.5, validation: 0.5}", "--limit", "7", "--plan")
    assert "train: 7 records" in planned and "validation: 7 records" in planned


def test_a_terminal_sees_one_live_progress_line(photos, tmp_path):
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "beam_jobs.cli", "convert", "--set", f"input.path={photos}",
                                "--set", f"output.path={tmp_path / 'out'}", "--set", "parallelism.threads=1"],
                               stdout=slave, stderr=slave, cwd=ROOT, close_fds=True)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        try:
            chunk = os.read(master, 4096) if ready else b""
        except OSError:
            chunk = b""
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=60) == 0
    text = seen.decode("utf-8", "replace")
    live = re.findall(r"\r\x1b\[K  (\d+)/200 images, \d+/s, ETA \d+:\d\d", text)
    assert live and int(live[-1]) <= 200
    assert "wrote 200 of 200 images" in text.split("\r\x1b[K")[-1]  # the summary takes the line's place


def test_the_summary_names_the_commonest_reasons_with_an_example(tmp_path, capsys):
    data = tmp_path / "in"
    for i in range(3):
        imaging.write(data / f"text{i}.jpg", b"no image here")
    whole = imaging.encode(imaging.photo((320, 240)), "JPEG")
    imaging.write(data / "cut.jpg", whole[: len(whole) // 2])
    imaging.write(data / "fine.jpg", imaging.encode(imaging.photo((40, 30)), "JPEG"))
    imaging.write(data / "readme.md", b"#")
    code, printed, _ = run(capsys, "convert", "--set", f"input.path={data}", "--set", f"output.path={tmp_path / 'o'}",
                           "--set", "errors.max_failed_fraction=1", "--set", "input.extensions=[.jpg]")
    assert code == 0
    assert "skipped 1 file whose name input.extensions does not take" in printed
    assert "failed: 4 (all in failures.jsonl); the most common reasons:" in printed
    assert re.search(r"\n\s+3  decode: UnsupportedImageFormat\n\s+e\.g\. text\d\.jpg: UnsupportedImageFormat", printed)
    assert "e.g. cut.jpg: JpegWarning: the JPEG decoder warns" in printed


def test_config_errors_come_before_beam_is_imported(tmp_path):
    check = ("import sys\nfrom beam_jobs.cli import main\n"
             f"code = main(['convert', '--set', 'input.path={tmp_path}', '--set', 'output.path={tmp_path}/o', "
             "'--set', 'image.qualty=5'])\n"
             "print(code, 'apache_beam' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.split() == ["2", "False"]
    assert done.stderr.strip() == "config error: image.qualty: unknown key; did you mean image.quality?"


@pytest.mark.parametrize("args, says", [
    (["convert"], "nothing to convert: say where the images are"),
    (["convert", "--set", "image.quality", "95"], "'image.quality' has no '=': write --set image.quality=95"),
    (["convrt"], "did you mean convert?"),
])
def test_how_to_start_and_common_slips(capsys, args, says):
    with pytest.raises(SystemExit) if args == ["convrt"] else _nothing():
        code = main(args)
        assert code == 2
    assert says in capsys.readouterr().err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_gs_without_credentials_is_one_line(tmp_path, monkeypatch):
    env = {k: v for k, v in os.environ.items() if k not in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS")}
    env.update({"HOME": str(tmp_path), "GCE_METADATA_HOST": "127.0.0.1:9", "GCE_METADATA_IP": "127.0.0.1:9",
                "CLOUDSDK_CONFIG": str(tmp_path / "gcloud")})
    done = subprocess.run([sys.executable, "-m", "beam_jobs.cli", "convert", "--set", "input.path=gs://some-bucket/p",
                           "--set", f"output.path={tmp_path / 'out'}"], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "gcloud auth application-default login" in done.stderr and "STORAGE_EMULATOR_HOST" in done.stderr
