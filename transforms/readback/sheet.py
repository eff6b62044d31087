"""A contact sheet: decoded records as a grid of thumbnails with their captions."""
from __future__ import annotations

import math
from typing import Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CAPTION_HEIGHT = 16


Boxes = Sequence[Tuple[float, float, float, float, str]]  # normalised xmin, ymin, xmax, ymax, class
PALETTE = ((255, 80, 80), (80, 220, 80), (90, 150, 255), (255, 210, 60), (230, 90, 230), (70, 220, 220))


def contact_sheet(items: Sequence[Tuple[np.ndarray, str]], tile: int = 128, columns: int = 0,
                  boxes: Sequence[Boxes] = ()) -> Image.Image:
    """Thumbnails (aspect kept, centred on grey) in a grid, each captioned below; with
    `boxes` (one list per item), each object outlined in a colour of its class and named."""
    columns = columns or max(1, math.ceil(math.sqrt(len(items))))
    rows = max(1, math.ceil(len(items) / columns))
    cell_h = tile + CAPTION_HEIGHT
    sheet = Image.new("RGB", (columns * tile, rows * cell_h), (40, 40, 40))
    pen = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for i, (pixels, caption) in enumerate(items):
        x, y = (i % columns) * tile, (i // columns) * cell_h
        image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        image = image.convert("RGB")
        image.thumbnail((tile - 4, tile - 4))
        left, top = x + (tile - image.width) // 2, y + (tile - image.height) // 2
        sheet.paste(image, (left, top))
        classes = sorted({box[4] for item in boxes for box in item})
        for x0, y0, x1, y1, name in boxes[i] if i < len(boxes) else ():
            colour = PALETTE[classes.index(name) % len(PALETTE)]
            corners = (left + x0 * image.width, top + y0 * image.height,
                       left + x1 * image.width - 1, top + y1 * image.height - 1)
            pen.rectangle(corners, outline=colour)
            pen.text((corners[0] + 2, corners[1] + 1), name[:12], fill=colour, font=font)
        pen.text((x + 3, y + tile + 2), caption[: tile // 6], fill=(235, 235, 235), font=font)
    return sheet
