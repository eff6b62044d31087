"""Make the bundled detection sample: photos-like scenes with shapes, their Pascal VOC boxes
and class-index masks (run once, output committed).

    python examples/make_detection_sample.py examples/detection

Two of the images carry an EXIF orientation, with boxes drawn on the upright picture (as
annotation tools show it), so the sample exercises the geometry as real phone photos do.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

CLASSES = ("circle", "square")
TRANSPOSE_FOR = {1: None, 6: Image.Transpose.ROTATE_90, 3: Image.Transpose.ROTATE_180}


def scene(index: int, rng: random.Random):
    """An upright picture, its objects (class, box) and its class-index mask."""
    size = (rng.randrange(200, 320), rng.randrange(150, 240))
    image = Image.new("RGB", size, tuple(rng.randrange(150, 256) for _ in range(3)))
    mask = Image.new("L", size, 0)
    pens = ImageDraw.Draw(image), ImageDraw.Draw(mask)
    objects = []
    for _ in range(rng.randrange(1, 4)):
        label = rng.choice(CLASSES)
        w, h = rng.randrange(30, 80), rng.randrange(30, 80)
        x, y = rng.randrange(0, size[0] - w), rng.randrange(0, size[1] - h)
        box = (x, y, x + w, y + h)
        colour = tuple(rng.randrange(0, 120) for _ in range(3))
        if label == "circle":
            pens[0].ellipse(box, fill=colour)
            pens[1].ellipse(box, fill=CLASSES.index(label) + 1)
        else:
            pens[0].rectangle(box, fill=colour)
            pens[1].rectangle(box, fill=CLASSES.index(label) + 1)
        objects.append((label, box))
    return image, objects, mask


def voc(name: str, size, objects) -> str:
    body = "".join(f"  <object><name>{label}</name><difficult>0</difficult><bndbox><xmin>{b[0]}</xmin>"
                   f"<ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>\n"
                   for label, b in objects)
    return (f"<annotation>\n  <filename>{name}</filename>\n  <size><width>{size[0]}</width>"
            f"<height>{size[1]}</height><depth>3</depth></size>\n{body}</annotation>\n")


def main(root: str) -> None:
    out = Path(root)
    rng = random.Random(13)
    for folder in ("JPEGImages", "Annotations", "SegmentationClass"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    for index in range(12):
        image, objects, mask = scene(index, rng)
        orientation = 6 if index % 6 == 1 else (3 if index % 6 == 4 else 1)
        stored = image.transpose(TRANSPOSE_FOR[orientation]) if TRANSPOSE_FOR[orientation] else image
        exif = Image.Exif()
        exif[0x0112] = orientation
        name = f"scene_{index:02d}"
        stored.save(out / "JPEGImages" / f"{name}.jpg", quality=88, exif=exif)
        (out / "Annotations" / f"{name}.xml").write_text(voc(f"{name}.jpg", image.size, objects))
        mask.putpalette([0, 0, 0, 220, 40, 40, 40, 40, 220] + [0] * 759)
        mask.save(out / "SegmentationClass" / f"{name}.png")  # upright, as the boxes


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/detection")
