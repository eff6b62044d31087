"""The benchmark: the project against hand-written references, same files, same run.

    make bench                                   # generated images
    make bench BENCH_ARGS="--images ../shared/corpus/photos"     # a folder, or a listing of paths
    python bench/run.py --images DIR --photo-count 4000 --camera-count 200 --memory --repeat 3

Workloads: photo-sized JPEGs (--photo-count distinct variants of the sources: random crops,
320-1024 px, JPEG quality 60-97; --replicate for symlinked copies), camera-sized 12 MP JPEGs
(re-encoded from the sources), `format: original` pass-through, PNG and WebP output, PNG and
TIFF inputs (--input-count of the photos stored losslessly), a one-image conversion (the
fixed cost) and, unless --no-detection, the photos with and without COCO boxes (the annotation
cost).
Every contender runs as its own command; the table gives its wall time, images/s, the
project's speed as a ratio to it, the peak RSS of its whole process tree and, for the
converting workloads, the mean PSNR of its output on a sample against a floating-point
reference (bench/quality.py), so speeds are compared at a known quality. With
--repeat N, the contenders of a workload run in turn N times and the table gives each
one's median time (and its highest peak RSS), so drift in the machine's speed hits all alike.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import quality
from PIL import Image

from transforms.readback.image_records import load_manifest

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
PYTHON = sys.executable
CLI = str(Path(PYTHON).parent / "image2tfrecord")


@dataclasses.dataclass
class Measurement:
    workload: str
    contender: str
    images: int
    seconds: float
    peak_rss_mb: float
    runs: int = 1
    out: Optional[Path] = None  # where its records are
    psnr: Optional[float] = None
    each: Tuple[float, ...] = ()  # every run's seconds, in the order they ran
    cpu_seconds: float = 0.0  # user + system CPU of the command and its children (median of runs)
    each_cpu: Tuple[float, ...] = ()

    @property
    def rate(self) -> float:
        return self.images / self.seconds


def _tree_rss(pid: int) -> int:
    """RSS in bytes of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def measure(workload: str, contender: str, images: int, command: List[str], out: Path) -> Measurement:
    """Run `command` (which writes to `out`), timing it and sampling its process tree's RSS every 20 ms."""
    started = time.perf_counter()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=PROJECT)
    peak = 0
    output: List[bytes] = []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()))
    reader.start()
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.02)
    reader.join()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command was reaped by poll(): counted
    cpu = (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)
    if process.returncode != 0:
        sys.exit(f"{contender} on {workload} failed:\n{b''.join(output).decode(errors='replace')[-3000:]}")
    return Measurement(workload, contender, images, seconds, peak / 2**20, out=out, cpu_seconds=cpu)


def scored(results: List[Measurement], sample: List[Path]) -> List[Measurement]:
    """Each result with the mean PSNR of its records of the `sample` files."""
    sources = {path.name: path for path in sample}
    return [dataclasses.replace(r, psnr=quality.mean_psnr(r.out, sources)) for r in results]


def _sources(images: Optional[str], work: Path) -> List[Path]:
    """The source images: a folder's files, a listing's paths (one a line), or generated."""
    if images and Path(images).is_file():
        lines = Path(images).read_text(encoding="utf-8").splitlines()
        found = [Path(line.strip()).expanduser() for line in lines if line.strip() and not line.startswith("#")]
        missing = [str(p) for p in found if not p.is_file()]
        if missing or not found:
            sys.exit(f"--images {images}: " + (f"{len(missing)} listed files missing, e.g. {missing[0]}"
                                               if missing else "lists no files"))
        return found
    if images:
        found = sorted(p for p in Path(images).rglob("*") if p.is_file() and not p.name.startswith("."))
        if not found:
            sys.exit(f"--images {images}: no files")
        return found
    generated = work / "generated"
    if not generated.exists():
        sys.path.insert(0, str(PROJECT))
        from tests.support.imaging import photo  # the tests' photo-like images
        generated.mkdir(parents=True)
        for i in range(100):
            photo((500, 375), i).save(generated / f"gen_{i:03d}.jpg", quality=90)
    return sorted(generated.iterdir())


def replicate(sources: List[Path], count: int, folder: Path) -> List[Path]:
    """`count` files (symlinks to the sources, round robin) in a fresh folder."""
    if folder.exists() and len(list(folder.iterdir())) == count:
        return sorted(folder.iterdir())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = []
    for i in range(count):
        source = sources[i % len(sources)]
        link = folder / f"{i:06d}_{source.name}"
        link.symlink_to(source.resolve())
        files.append(link)
    return files


QUALITIES = (60, 75, 85, 92, 97)
SIDES = (320, 480, 640, 800, 1024)


def distinct(sources: List[Path], count: int, folder: Path, seed: int = 7) -> List[Path]:
    """`count` distinct photos made from the sources (cached between runs): each a seeded
    random crop (half to all of each side), scaled to fit a side of 320-1024 px, saved at a
    JPEG quality of 60-97, so no two files share pixels or a quantisation table."""
    if folder.exists() and len(list(folder.iterdir())) == count:
        return sorted(folder.iterdir())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    files = []
    for i in range(count):
        with Image.open(sources[i % len(sources)]) as image:
            rgb = image.convert("RGB")
        w, h = rgb.size
        cw, ch = max(16, int(w * rng.uniform(0.5, 1))), max(16, int(h * rng.uniform(0.5, 1)))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        crop = rgb.crop((x, y, x + cw, y + ch))
        crop.thumbnail((rng.choice(SIDES),) * 2)
        path = folder / f"d{i:06d}.jpg"
        crop.save(path, quality=rng.choice(QUALITIES))
        files.append(path)
    return files


def camera_sized(sources: List[Path], count: int, folder: Path) -> List[Path]:
    """12 MP JPEGs re-encoded from the sources (cached between runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(count):
        path = folder / f"camera_{i:04d}.jpg"
        if not path.exists():
            with Image.open(sources[i % len(sources)]) as image:
                image.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC).save(path, quality=90)
        files.append(path)
    return files


def re_encoded(photos: List[Path], fmt: str, folder: Path) -> List[Path]:
    """The photos stored losslessly as `fmt` (PNG at zlib level 1, TIFF uncompressed), made once."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for photo in photos:
        target = folder / f"{photo.stem}.{fmt}"
        if not target.exists():
            with Image.open(photo) as image:
                image.convert("RGB").save(target, fmt.upper(), **({"compress_level": 1} if fmt == "png" else {}))
        out.append(target)
    return out


def write_listing(files: List[Path], path: Path) -> Path:
    path.write_text("".join(f"{f}\n" for f in files))
    return path


def project_command(folder: Path, out: Path, extra: List[str]) -> List[str]:
    return [CLI, "convert", str(HERE / "bench.yaml"), "--set", f"input.path={folder}",
            "--set", f"output.path={out}", *sum((["--set", e] for e in extra), [])]


def run_project(workload: str, folder: Path, out: Path, count: int, extra: List[str],
                keep: bool = True) -> Measurement:
    """One run of the project's CLI on `folder`; with `keep=False` its output is deleted once
    counted (a 200,000-file pass-through writes about 12 GB that nothing reads afterwards)."""
    shutil.rmtree(out, ignore_errors=True)
    result = measure(workload, "image2tfrecord", count, project_command(folder, out, extra), out)
    manifest = load_manifest(str(out))
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    if manifest.num_examples != count:
        sys.exit(f"image2tfrecord wrote {manifest.num_examples} of {count} on {workload}")
    return result


def run_reference(workload: str, kind: str, files: List[Path], work: Path, procs: int) -> Measurement:
    out = work / "out" / f"{workload}-{kind}"
    shutil.rmtree(out, ignore_errors=True)
    listing = write_listing(files, work / f"{workload}.txt")
    command = [PYTHON, str(HERE / "references.py"), kind, str(listing), str(out), "--procs", str(procs)]
    return measure(workload, kind, len(files), command, out)


def resume_line(photos: List[Path], work: Path) -> str:
    """A full run, then a run killed (strace, SIGKILL) as its 7th of 8 shards starts, then
    the same command again: the rerun converts only what the killed run had not finished."""
    if shutil.which("strace") is None:
        return "\nresume: skipped (needs strace)"
    folder = photos[0].parent
    full = run_project("resume-full", folder, work / "out" / "resume-full", len(photos), [])
    out = work / "out" / "resume"
    shutil.rmtree(out, ignore_errors=True)
    finished = 6  # of the 8 shards bench.yaml asks for: each renames its file, then its marker
    killed = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename",
                             "-e", f"inject=rename:signal=SIGKILL:when={2 * finished + 1}",
                             *project_command(folder, out, [])], capture_output=True, cwd=PROJECT)
    if killed.returncode == 0:
        return "\nresume: the kill was not reached"
    rerun = measure("resume-rerun", "image2tfrecord", len(photos), project_command(folder, out, []), out)
    return (f"\nresume: after a kill with {finished} of 8 shards finished, the same command took {rerun.seconds:.1f} s "
            f"against {full.seconds:.1f} s for a full run ({rerun.seconds / full.seconds:.2f})")


def coco_boxes(photos: List[Path], path: Path, per_image: int = 6, polygons: bool = False) -> Path:
    """A COCO instances file for `photos`: `per_image` boxes each (10 classes), seeded, so a
    detection run and a plain run convert the same pixels; with `polygons`, each box is also a
    4-point polygon (instance masks, a PNG per object)."""
    rng = random.Random(7)
    images, annotations = [], []
    for number, photo in enumerate(photos, 1):
        with Image.open(photo) as image:
            width, height = image.size
        images.append({"id": number, "file_name": photo.name, "width": width, "height": height})
        for _ in range(per_image):
            w, h = rng.uniform(0.1, 0.5) * width, rng.uniform(0.1, 0.5) * height
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            item = {"id": len(annotations) + 1, "image_id": number, "category_id": rng.randint(1, 10),
                    "bbox": [x, y, w, h], "iscrowd": 0, "area": w * h}
            if polygons:
                item["segmentation"] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
            annotations.append(item)
    categories = [{"id": i, "name": f"class{i}"} for i in range(1, 11)]
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


def detection_runs(photos: List[Path], work: Path) -> List[Callable[[], Measurement]]:
    """The photos converted with COCO boxes (the project's row), with boxes and polygon masks,
    and without annotations (the reference the <= 10% annotation cost is measured against)."""
    folder = photos[0].parent
    boxes = coco_boxes(photos, work / "detection-boxes.json")
    masks = coco_boxes(photos, work / "detection-masks.json", polygons=True)

    def run(name: str, extra: List[str]) -> Measurement:
        measured = run_project("detection", folder, work / "out" / f"detection-{name.split()[0]}", len(photos), extra,
                               keep=False)
        return dataclasses.replace(measured, contender=name)

    coco = ["input.annotations.format=coco"]
    return [lambda: run("image2tfrecord", coco + [f"input.annotations.path={boxes}"]),
            lambda: run("plain (image2tfrecord, same images, no annotations)", []),
            lambda: run("masks (image2tfrecord, boxes + instance masks)", coco + [f"input.annotations.path={masks}"])]


def rounds(runs: List[Callable[[], Measurement]], repeat: int) -> List[Measurement]:
    """Run the contenders of one workload in turn, `repeat` times, in reverse order every other
    round (so none always follows the same one); each one's median run, every run's seconds kept.
    With several rounds, the first contender runs once untimed before them: the first run after
    the inputs were made ran slowest (detection, 2,400 photos: 0.88 against 0.95-1.03 after it)."""
    seen: List[List[Measurement]] = [[] for _ in runs]
    if repeat > 1:
        runs[0]()
    for number in range(repeat):
        order = list(range(len(runs)))
        for i in order if number % 2 == 0 else order[::-1]:
            seen[i].append(runs[i]())
    return [dataclasses.replace(ms[0], seconds=statistics.median(m.seconds for m in ms),
                                peak_rss_mb=max(m.peak_rss_mb for m in ms), runs=len(ms),
                                each=tuple(m.seconds for m in ms),
                                cpu_seconds=statistics.median(m.cpu_seconds for m in ms),
                                each_cpu=tuple(m.cpu_seconds for m in ms)) for ms in seen]


def paired_ratio(ours: Measurement, reference: Measurement, cpu: bool = False) -> str:
    """Our speed as a ratio to `reference`, round by round (runs of one round are minutes apart,
    so a drift in the machine's speed cancels out), and the median of those ratios; with `cpu`,
    the same for CPU time (user + system), which a busy neighbour on a shared machine moves less."""
    mine_each, theirs_each = (ours.each_cpu, reference.each_cpu) if cpu else (ours.each, reference.each)
    each = [theirs / mine for mine, theirs in zip(mine_each, theirs_each)]
    return f"{statistics.median(each):.2f} (rounds: {', '.join(f'{r:.2f}' for r in each)})"


def table(results: List[Measurement]) -> str:
    ours = {r.workload: r for r in results if r.contender == "image2tfrecord"}
    lines = ["| workload | contender | images | seconds (median of runs) | images/s | image2tfrecord speed ratio "
             "| peak RSS (MB) | PSNR (dB) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        ratio = ours[r.workload].rate / r.rate if r.workload in ours else float("nan")
        shown = "1.00 (itself)" if r.contender == "image2tfrecord" else f"{ratio:.2f}x"
        psnr = "" if r.psnr is None else f"{r.psnr:.2f}"
        lines.append(f"| {r.workload} | {r.contender} | {r.images} | {r.seconds:.1f} ({r.runs}) | {r.rate:.0f} | "
                     f"{shown} | {r.peak_rss_mb:.0f} | {psnr} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", help="folder of source images, or a listing of their paths (one a line); "
                                         "default: generate 100 photo-sized ones")
    parser.add_argument("--work", default=str(HERE / "results"), help="scratch folder")
    parser.add_argument("--photo-count", type=int, default=4000)
    parser.add_argument("--camera-count", type=int, default=200)
    parser.add_argument("--input-count", type=int, default=1000,
                        help="photos re-encoded as PNG and TIFF for the png-input and tiff-input workloads")
    parser.add_argument("--workloads", default="photo,camera,passthrough,png,webp,png-input,tiff-input,one",
                        help="photo: photo-sized JPEG -> JPEG; camera: 12 MP JPEGs; passthrough: format original; "
                             "png: PNG output; webp: WebP output; png-input, tiff-input: the photos stored as "
                             "PNG or TIFF (--input-count), to JPEG; one: a one-image conversion (the fixed cost); "
                             "or none")
    parser.add_argument("--replicate", action="store_true",
                        help="photo workloads replicate the sources (symlinks) instead of making distinct variants")
    parser.add_argument("--memory-files", type=int, default=20000,
                        help="files in the large run of --memory (issue 16 asks about 200000)")
    parser.add_argument("--memory", action="store_true",
                        help="also compare the project's peak RSS on 4,000 and --memory-files files (pass-through)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="run each workload's contenders in turn this many times, alternating their order; "
                             "report medians (issue 16 reads medians of three; this machine's speed drifts by "
                             "up to 20%% within the hour, so one round compares little)")
    parser.add_argument("--quality-sample", type=int, default=100,
                        help="how many distinct inputs of each converting workload the PSNR is taken over")
    parser.add_argument("--beam-sink", action="store_true",
                        help="also run the photo workload with output.sink: beam (WriteToTFRecord)")
    parser.add_argument("--resume", action="store_true",
                        help="also time a rerun after a kill at 70%% of the photo workload against a full run")
    parser.add_argument("--detection", action=argparse.BooleanOptionalAction, default=True,
                        help="convert the photos with 6 COCO boxes each (and with polygon masks) against the same "
                             "photos without annotations: the annotation cost (issue 13's goal: ratio >= 0.90); "
                             "on by default, --no-detection skips it")
    parser.add_argument("--detection-rounds", type=int, default=8,
                        help="rounds of the boxes/plain pair of --detection (at least --repeat): the annotation "
                             "cost is a few percent and one round's ratio swings by 15%% on a shared 2-core "
                             "machine, so its median needs more rounds than a contender's speed does; an even "
                             "number runs either order as often")
    parser.add_argument("--rgb-space", action="store_true",
                        help="also run the photo workload with image.resize_space: rgb (resize before the encoder)")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE",
                        help="also run the photo workload with this --set, as its own contender (repeatable)")
    args = parser.parse_args()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    procs = os.cpu_count() or 1
    sources = _sources(args.images, work)
    results: List[Measurement] = []
    wanted = args.workloads.split(",")
    def photo_set(count: int) -> List[Path]:
        """The photo workload's files: distinct variants (default), or the sources replicated."""
        if args.replicate:
            return replicate(sources, count, work / f"photos-{count}")
        return distinct(sources, count, work / f"distinct-{count}")

    if set(wanted) & {"photo", "passthrough", "png", "webp", "png-input", "tiff-input"}:
        photos = photo_set(args.photo_count)
    if "photo" in wanted:
        folder = photos[0].parent
        def variant(name: str, setting: str) -> Callable[[], Measurement]:
            """The project on the photos with one `--set`, as its own contender."""
            return lambda: dataclasses.replace(
                run_project("photo", folder, work / "out" / f"photo-{name.split()[-1]}", len(photos), [setting]),
                contender=f"image2tfrecord, {name}")

        runs = [lambda: run_project("photo", folder, work / "out" / "photo", len(photos), [])]
        if args.beam_sink:
            runs.append(variant("sink beam", "output.sink=beam"))
        if args.rgb_space:
            runs.append(variant("resize_space rgb", "image.resize_space=rgb"))
        runs += [variant(setting.replace("=", " "), setting) for setting in args.variant]
        runs.append(lambda: run_reference("photo", "pillow", photos, work, procs))
        runs.append(lambda: run_reference("photo", "pillow-bilinear", photos, work, procs))
        runs.append(lambda: run_reference("photo", "tfimage", photos, work, procs))
        results += scored(rounds(runs, args.repeat), photos[:args.quality_sample])
    if "png" in wanted:  # PNG output: a codec that may hold the GIL, against a Pillow loop writing PNG
        folder = photos[0].parent
        results += scored(rounds([
            lambda: run_project("png", folder, work / "out" / "png", len(photos), ["image.format=png"]),
            lambda: run_reference("png", "pillow-png", photos, work, procs)], args.repeat),
            photos[:args.quality_sample])
    if "webp" in wanted:  # WebP output, against the Pillow loop writing WebP
        folder = photos[0].parent
        results += scored(rounds([
            lambda: run_project("webp", folder, work / "out" / "webp", len(photos), ["image.format=webp"]),
            lambda: run_reference("webp", "pillow-webp", photos, work, procs)], args.repeat),
            photos[:args.quality_sample])
    for fmt in ("png", "tiff"):  # lossless inputs: Pillow decodes them, at full size (no DCT scaling)
        if f"{fmt}-input" in wanted:
            inputs = re_encoded(photos[:args.input_count], fmt, work / f"{fmt}-{args.input_count}")
            name = f"{fmt} input"
            results += scored(rounds([
                functools.partial(run_project, name, inputs[0].parent, work / "out" / f"{fmt}-input", len(inputs), []),
                functools.partial(run_reference, name, "pillow", inputs, work, procs)], args.repeat),
                inputs[:args.quality_sample])
    if "one" in wanted:  # the fixed cost: a conversion of one image, everything but per-image work
        one = work / "one-image"
        if not one.exists():
            one.mkdir(parents=True)
            shutil.copy(sources[0], one / sources[0].name)
        results += rounds([lambda: run_project("one image", one, work / "out" / "one", 1, [])], max(3, args.repeat))
    if "camera" in wanted:
        cameras = replicate(camera_sized(sources, args.camera_count, work / "camera"), args.camera_count,
                            work / f"cameras-{args.camera_count}")
        results += scored(rounds([
            lambda: run_project("camera", cameras[0].parent, work / "out" / "camera", len(cameras), []),
            lambda: run_reference("camera", "pillow", cameras, work, procs),
            lambda: run_reference("camera", "tfimage", cameras, work, procs)], args.repeat),
            cameras[:min(args.quality_sample, len(sources))])
    if "passthrough" in wanted:
        results += rounds([
            lambda: run_project("passthrough", photos[0].parent, work / "out" / "passthrough", len(photos),
                                ["image.format=original", "image.resize.mode=none"]),
            lambda: run_reference("passthrough", "copy", photos, work, procs)], args.repeat)
    cost_line = ""  # the annotation cost, printed under the table
    if args.detection:
        photos = photo_set(args.photo_count)
        boxes, plain, masks = detection_runs(photos, work)
        # Masks run after the pairs: between rounds, a plain run that followed a masks run was slower
        # (7 rounds, 2026-12-06: boxes/plain 0.98 where plain followed masks, 0.88 where it followed boxes).
        detection = rounds([boxes, plain], max(args.repeat, args.detection_rounds)) + rounds([masks], args.repeat)
        results += detection
        cost_line = ("\nannotation cost: speed with boxes / speed without, per round: "
                     + paired_ratio(detection[0], detection[1]) + " (goal >= 0.90); in CPU time: "
                     + paired_ratio(detection[0], detection[1], cpu=True) + "; fastest runs: "
                     + f"{min(detection[1].each) / min(detection[0].each):.2f}; instance masks: "
                     + f"{detection[1].seconds / detection[2].seconds:.2f} (medians)")
    if args.resume:
        print(resume_line(photo_set(args.photo_count), work))
    print(f"\nmachine: {platform.machine()}, {procs} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print(table(results))
    if cost_line:
        print(cost_line)
    if args.memory:  # pass-through (no decoding), so the runner's per-file state is what grows
        passthrough = ["image.format=original", "image.resize.mode=none"]
        small = replicate(sources, 4000, work / "photos-4000")
        large = replicate(sources, args.memory_files, work / f"photos-{args.memory_files}")
        a = run_project("memory-4000", small[0].parent, work / "out" / "m4", 4000, passthrough, keep=False)
        b = run_project(f"memory-{args.memory_files}", large[0].parent, work / "out" / "mlarge", args.memory_files,
                        passthrough, keep=False)
        print(f"\npeak RSS, whole process tree, pass-through: {a.peak_rss_mb:.0f} MB at 4,000 files, "
              f"{b.peak_rss_mb:.0f} MB at {args.memory_files:,}: ratio {b.peak_rss_mb / a.peak_rss_mb:.2f} "
              "(goal <= 1.25)")


if __name__ == "__main__":
    main()
