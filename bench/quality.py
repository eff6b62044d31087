"""What each contender's output looks like, so speeds are compared at a known quality.

For a sample of the inputs, every contender's record is decoded and held against the
same reference: the source decoded at full size (no DCT scaling) and resampled per RGB
channel in floating point with Lanczos to the record's own size. The figure is the mean
PSNR in dB over the sample (higher is closer; JPEG q90 alone costs a few dB).
"""
from __future__ import annotations

import io
import math
import sys
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import numpy as np
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from transforms.dataset.framing import iter_records  # noqa: E402
from transforms.records.features import KEY_ENCODED, KEY_FILENAME  # noqa: E402
from transforms.records.proto import parse_example  # noqa: E402


@lru_cache(maxsize=None)
def reference(source: Path, size: Tuple[int, int]) -> np.ndarray:
    """`source` at full size, upright, resampled to `size` per channel in float32 Lanczos."""
    with Image.open(source) as image:
        rgb = ImageOps.exif_transpose(image).convert("RGB")
    channels = [Image.fromarray(np.asarray(band, np.float32), "F").resize(size, Image.Resampling.LANCZOS)
                for band in rgb.split()]
    return np.stack([np.asarray(c, np.float64) for c in channels], axis=-1)


def psnr(ours: np.ndarray, ideal: np.ndarray) -> float:
    mse = float(np.mean((ours - np.clip(ideal, 0, 255)) ** 2))
    return 10 * math.log10(255 ** 2 / mse) if mse else float("inf")


def _records(folder: Path) -> Iterator[Dict[str, list]]:
    for shard in sorted(folder.rglob("*.tfrecord")):
        with open(shard, "rb") as handle:
            for _, record in iter_records(handle):
                yield parse_example(record)


def mean_psnr(folder: Path, sources: Dict[str, Path]) -> Optional[float]:
    """Mean PSNR of the records in `folder` whose image/filename is a key of `sources`."""
    scores: List[float] = []
    wanted: Set[str] = set(sources)
    for features in _records(folder):
        name = features.get(KEY_FILENAME, [b""])[0].decode()
        if name not in wanted:
            continue
        with Image.open(io.BytesIO(features[KEY_ENCODED][0])) as image:
            pixels = np.asarray(image.convert("RGB"), np.float64)
        scores.append(psnr(pixels, reference(sources[name].resolve(), (pixels.shape[1], pixels.shape[0]))))
    return sum(scores) / len(scores) if scores else None
