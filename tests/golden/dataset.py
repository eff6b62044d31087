"""The golden dataset: a fixed set of generated images converted under a few configs.

The SHA-256 of every file a conversion writes (shards, indexes, labels, failures) is
checked in (`expected.json`), so a refactoring that changes a single output byte fails.
Regenerate after an intended change with `python -m tests.golden.dataset --update`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Dict, List

from PIL import Image

from tests.support import imaging

EXPECTED = Path(__file__).with_name("expected.json")
# Output bytes depend on the codecs; the hashes hold for these versions only.
CODEC_PACKAGES = ("pillow", "simplejpeg", "numpy", "opencv-python-headless")

CONFIGS: Dict[str, List[str]] = {
    "jpeg_shorter_side": ["image.resize.mode=shorter_side", "image.resize.size=48",
                          "splits={train: 0.75, validation: 0.25}", "output.shards=2",
                              "output.min_shard_records=1", "output.index=true"],
    "png_pad": ["image.format=png", "image.resize.mode=pad", "image.resize.width=40",
                "image.resize.height=40", "image.channels=4"],
    "raw_fill_gzip": ["image.format=raw", "image.resize.mode=fill", "image.resize.width=32",
                      "image.resize.height=24", "output.compression=gzip", "output.shards=3",
                      "output.min_shard_records=1"],
    "jpeg_rgb_fit_bilinear": ["image.resize_space=rgb", "image.resample=bilinear", "image.resize.mode=fit",
                              "image.resize.width=50", "image.resize.height=50", "image.channels=1"],
}


def make_inputs(root: Path) -> Path:
    """Class folders of photo-like JPEGs, PNGs with alpha, grey, EXIF-rotated and broken files."""
    seed = 0
    for name in ("cat", "dog", "emu"):
        for i in range(4):
            seed += 1
            size = (120, 90) if i % 2 else (90, 122)
            photo = imaging.encode(imaging.photo(size, seed), "JPEG", quality=88)
            imaging.write(root / name / f"{name}_{i}.jpg", photo)
    rgba = imaging.photo((64, 48), 99).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((64, 48)))
    imaging.write(root / "cat" / "alpha.png", imaging.encode(rgba, "PNG"))
    imaging.write(root / "dog" / "grey.jpg", imaging.encode(imaging.photo((70, 50), 7).convert("L"), "JPEG"))
    imaging.write(root / "emu" / "rotated.jpg", imaging.with_orientation(imaging.asymmetric((60, 40)), 6, "JPEG"))
    whole = imaging.encode(imaging.photo((100, 80), 5), "JPEG")
    imaging.write(root / "emu" / "truncated.jpg", whole[: len(whole) // 2])
    imaging.write(root / "dog" / "notes.jpg", b"not an image at all\n")
    return root


def output_hashes(out: Path, data: Path) -> Dict[str, str]:
    """SHA-256 of each file written (failures with the input root made relative)."""
    hashes = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json"):
        content = path.read_bytes()
        if path.name == "failures.jsonl":
            content = content.replace(str(data).encode(), b"INPUT")
        hashes[path.relative_to(out).as_posix()] = hashlib.sha256(content).hexdigest()
    return hashes


def convert_all(work: Path) -> Dict[str, Dict[str, str]]:
    from beam_jobs.cli import main

    data = make_inputs(work / "images")
    found = {}
    for name, sets in CONFIGS.items():
        out = work / name
        args = ["convert", "--set", f"input.path={data}", "--set", f"output.path={out}",
                "--set", "errors.max_failed_fraction=1.0"]
        for item in sets:
            args += ["--set", item]
        code = main(args)
        if code != 0:
            raise RuntimeError(f"{name}: convert exited {code}")
        found[name] = output_hashes(out, data)
    return found


def codec_versions() -> Dict[str, str]:
    return {name: metadata.version(name) for name in CODEC_PACKAGES}


def cpu_features() -> str:
    """The instruction sets OpenCV finds here. One raw fill shard came out with other bytes on an
    AVX-512 machine than where it was recorded: same code, same codec versions. The cause is not
    pinned down; turning off OpenCV's and numpy's AVX-512 paths did not change the bytes."""
    import cv2

    return cv2.getCPUFeaturesLine()


def expected_outputs(expected: dict) -> Dict[str, Dict[str, str]]:
    """The recorded hashes, with the files recorded as different on this machine's CPU."""
    outputs = {name: dict(files) for name, files in expected["outputs"].items()}
    for name, files in expected.get("by_cpu", {}).get(cpu_features(), {}).items():
        outputs[name].update(files)
    return outputs


def differences(found: Dict[str, Dict[str, str]], base: Dict[str, Dict[str, str]]) -> Dict[str, Dict[str, str]]:
    """The files of `found` whose hashes are not `base`'s."""
    out: Dict[str, Dict[str, str]] = {}
    for name, files in found.items():
        changed = {f: h for f, h in files.items() if base.get(name, {}).get(f) != h}
        if changed:
            out[name] = changed
    return out


if __name__ == "__main__":
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--update", action="store_true", help="rewrite expected.json")
    parser.add_argument("--add-cpu", action="store_true",
                        help="keep the recorded hashes and add this CPU's differences from them")
    args = parser.parse_args()
    import contextlib

    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        found = convert_all(Path(tmp))
    result = {"versions": codec_versions(), "outputs": found}
    if args.add_cpu:
        result = json.loads(EXPECTED.read_text())
        result.setdefault("by_cpu", {})[cpu_features()] = differences(found, result["outputs"])
        args.update = True
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    if args.update:
        EXPECTED.write_text(text)
    sys.stdout.write(text)
