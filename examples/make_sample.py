"""Make the bundled sample: small labelled images in class folders (run once, output committed).

    python examples/make_sample.py examples/sample

Three classes of shapes, with a few of the cases real datasets hold: a PNG with
transparency, a greyscale JPEG, a phone-style JPEG rotated by its EXIF orientation.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

CLASSES = ("circles", "squares", "triangles")
PER_CLASS = 8


def draw(shape: str, size: tuple, rng: random.Random, mode: str = "RGB") -> Image.Image:
    background = tuple(rng.randrange(120, 256) for _ in range(3))
    colour = tuple(rng.randrange(0, 120) for _ in range(3))
    image = Image.new("RGBA", size, background + (255 if mode != "RGBA" else 0,))
    pen = ImageDraw.Draw(image)
    w, h = size
    m = min(w, h) // 6
    if shape == "circles":
        pen.ellipse((m, m, w - m, h - m), fill=colour + (255,))
    elif shape == "squares":
        pen.rectangle((m, m, w - m, h - m), fill=colour + (255,))
    else:
        pen.polygon(((w // 2, m), (w - m, h - m), (m, h - m)), fill=colour + (255,))
    return image if mode == "RGBA" else image.convert(mode)


def main(out: Path) -> None:
    rng = random.Random(1234)
    for shape in CLASSES:
        folder = out / shape
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(PER_CLASS):
            size = (rng.randrange(120, 200), rng.randrange(100, 180))
            if i == 0 and shape == "squares":
                draw(shape, size, rng, "RGBA").save(folder / f"{shape}_{i:02d}.png")
            elif i == 1:
                draw(shape, size, rng, "L").save(folder / f"{shape}_{i:02d}.jpg", quality=85)
            elif i == 2 and shape == "triangles":
                upright = draw(shape, size, rng)
                exif = Image.Exif()
                exif[0x0112] = 6  # stored rotated; a viewer turns it 90 degrees clockwise
                upright.transpose(Image.Transpose.ROTATE_90).save(
                    folder / f"{shape}_{i:02d}.jpg", quality=85, exif=exif)
            else:
                draw(shape, size, rng).save(folder / f"{shape}_{i:02d}.jpg", quality=85)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/sample"))
