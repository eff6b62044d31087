"""A contact sheet: decoded records as a grid of thumbnails with their captions."""
from __future__ import annotations

import math
from typing import Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CAPTION_HEIGHT = 16


def contact_sheet(items: Sequence[Tuple[np.ndarray, str]], tile: int = 128,
                  columns: int = 0) -> Image.Image:
    """Thumbnails (aspect kept, centred on grey) in a grid, each captioned below."""
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
        sheet.paste(image, (x + (tile - image.width) // 2, y + (tile - image.height) // 2))
        pen.text((x + 3, y + tile + 2), caption[: tile // 6], fill=(235, 235, 235), font=font)
    return sheet
