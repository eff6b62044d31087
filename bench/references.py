"""The references the benchmark measures the project against, in the same run on the same files.

    python bench/references.py pillow   LISTING OUT --size 256 --quality 90 --procs N
    python bench/references.py tfimage  LISTING OUT --size 256 --quality 90
    python bench/references.py copy     LISTING OUT

pillow:  a hand-tuned Pillow multiprocessing loop: draft mode, exif_transpose, RGB, shorter
         side to SIZE (bicubic, as the project's default), JPEG q90, one TFRecordWriter per process.
pillow-bilinear: the same loop with bilinear (the loop issue 16 measures against).
pillow-png: the same loop writing PNG.
pillow-webp: the same loop writing WebP (quality 90, Pillow's default method).
tfimage: the tf.io / tf.image eager script tutorials teach (decode_jpeg, resize (bilinear, its
         default), encode_jpeg, one TFRecordWriter).
copy:    the plain read-and-write loop for pass-through: each file's bytes as image/encoded
         of an Example, one TFRecordWriter.

Each Example also names its file (image/filename), so bench/quality.py can find its source.
"""
from __future__ import annotations

import argparse
import io
import multiprocessing
import os
from typing import List, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _files(listing: str) -> List[str]:
    with open(listing, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def _example(tf, encoded: bytes, height: int, width: int, path: str) -> bytes:
    feature = {
        "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[encoded])),
        "image/filename": tf.train.Feature(bytes_list=tf.train.BytesList(value=[os.path.basename(path).encode()])),
        "image/height": tf.train.Feature(int64_list=tf.train.Int64List(value=[height])),
        "image/width": tf.train.Feature(int64_list=tf.train.Int64List(value=[width])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _shorter_side(width: int, height: int, size: int) -> Tuple[int, int]:
    if width <= height:
        return size, max(1, round(height * size / width))
    return max(1, round(width * size / height)), size


def _pillow_worker(job: Tuple[List[str], str, int, int, str, str]) -> int:
    import tensorflow as tf
    from PIL import Image, ImageOps

    files, out, size, quality, resample, fmt = job
    with tf.io.TFRecordWriter(out) as writer:
        for path in files:
            image = Image.open(path)
            target = _shorter_side(*image.size, size)
            image.draft("RGB", target)
            image = ImageOps.exif_transpose(image).convert("RGB")
            target = _shorter_side(*image.size, size)
            image = image.resize(target, Image.Resampling[resample.upper()])
            buffer = io.BytesIO()
            image.save(buffer, fmt, **({"quality": quality} if fmt in ("JPEG", "WEBP") else {}))
            writer.write(_example(tf, buffer.getvalue(), image.height, image.width, path))
    return len(files)


def pillow(files: List[str], out: str, size: int, quality: int, procs: int, resample: str = "bicubic",
           fmt: str = "JPEG") -> int:
    chunks = [files[i::procs] for i in range(procs)]
    jobs = [(chunk, f"{out}/pillow-{i:05d}.tfrecord", size, quality, resample, fmt) for i, chunk in enumerate(chunks)]
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        return sum(pool.map(_pillow_worker, jobs))


def tfimage(files: List[str], out: str, size: int, quality: int) -> int:
    import tensorflow as tf

    with tf.io.TFRecordWriter(f"{out}/tfimage-00000.tfrecord") as writer:
        for path in files:
            image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
            height, width = int(image.shape[0]), int(image.shape[1])
            target_w, target_h = _shorter_side(width, height, size)
            resized = tf.image.resize(image, [target_h, target_w])
            encoded = tf.io.encode_jpeg(tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8),
                                        quality=quality)
            writer.write(_example(tf, encoded.numpy(), target_h, target_w, path))
    return len(files)


def copy(files: List[str], out: str) -> int:
    import tensorflow as tf

    with tf.io.TFRecordWriter(f"{out}/copy-00000.tfrecord") as writer:
        for path in files:
            with open(path, "rb") as handle:
                data = handle.read()
            writer.write(_example(tf, data, 0, 0, path))
    return len(files)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("pillow", "pillow-bilinear", "pillow-png", "pillow-webp", "tfimage", "copy"))
    parser.add_argument("listing")
    parser.add_argument("out")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--procs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    files = _files(args.listing)
    os.makedirs(args.out, exist_ok=True)
    if args.kind == "pillow":
        count = pillow(files, args.out, args.size, args.quality, args.procs)
    elif args.kind == "pillow-bilinear":  # the loop issue 16 measures against: the same, bilinear
        count = pillow(files, args.out, args.size, args.quality, args.procs, "bilinear")
    elif args.kind == "pillow-png":  # the same loop writing PNG (Pillow's default compression)
        count = pillow(files, args.out, args.size, args.quality, args.procs, "bicubic", "PNG")
    elif args.kind == "pillow-webp":  # the same loop writing WebP
        count = pillow(files, args.out, args.size, args.quality, args.procs, "bicubic", "WEBP")
    elif args.kind == "tfimage":
        count = tfimage(files, args.out, args.size, args.quality)
    else:
        count = copy(files, args.out)
    print(f"{args.kind}: {count} images")


if __name__ == "__main__":
    main()
