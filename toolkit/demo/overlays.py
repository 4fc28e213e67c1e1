"""The demo's segmentation picture: truth beside prediction, bordered tiles, a class legend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from toolkit.runtime.masks import PALETTE, overlay_image

GRID_COLUMNS = 4
GRID_CELLS = 12
SCALE = 3  # 64x64 scenes are too small to judge at 1:1
BORDER = 6
BACKDROP = (96, 96, 96)
TEXT = (255, 255, 255)


def class_colour(index: int) -> tuple[int, int, int]:
    """The RGB colour masks and overlays give class `index`."""
    return tuple(PALETTE[3 * index : 3 * index + 3])


def pair_tile(overlay: Path, image: Path | None, truth: Path | None, font) -> Image.Image:
    """One cell: 'truth' and 'prediction' overlays side by side, each labelled."""
    predicted = Image.open(overlay).convert("RGB")
    panels = [("prediction", predicted)]
    if image is not None and truth is not None and image.is_file() and truth.is_file():
        mask = np.asarray(Image.open(truth))
        panels.insert(0, ("truth", overlay_image(Image.open(image), mask)))
    w, h = (v * SCALE for v in predicted.size)
    tile = Image.new("RGB", (len(panels) * w + (len(panels) - 1) * 2, h), BACKDROP)
    draw = ImageDraw.Draw(tile)
    for i, (label, panel) in enumerate(panels):
        tile.paste(panel.resize((w, h), Image.NEAREST), (i * (w + 2), 0))
        draw.text((i * (w + 2) + 4, 2), label, fill=TEXT, font=font)
    return tile


def legend(classes: list[str], width: int, font) -> Image.Image:
    """A strip of colour swatches with the class names, wrapped to `width`."""
    entries, x, y, row_h = [], BORDER, BORDER, 22
    for index, name in enumerate(classes):
        text_w = int(ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength(name, font=font))
        if x + 22 + text_w > width - BORDER and x > BORDER:
            x, y = BORDER, y + row_h
        entries.append((x, y, index, name))
        x += 22 + text_w + 14
    strip = Image.new("RGB", (width, y + row_h + BORDER), BACKDROP)
    draw = ImageDraw.Draw(strip)
    for x, y, index, name in entries:
        draw.rectangle((x, y + 2, x + 16, y + 18), fill=class_colour(index), outline=TEXT)
        draw.text((x + 22, y + 2), name, fill=TEXT, font=font)
    return strip


def overlay_grid(
    overlays: Path, out: Path, classes: list[str], images: Path | None = None
) -> Path | None:
    """Tile the first overlays (beside their truth when `images` has a `-truth` twin) with a
    class legend below; None when there are no overlays."""
    files = sorted(overlays.glob("*.png"))[:GRID_CELLS]
    if not files:
        return None
    font = ImageFont.load_default(size=14)
    truth = images.parent / f"{images.name}-truth" if images is not None else None
    tiles = [
        pair_tile(f, images / f.name if images else None, truth / f.name if truth else None, font)
        for f in files
    ]
    tile_w, tile_h = tiles[0].size
    columns = min(len(tiles), GRID_COLUMNS)
    rows = -(-len(tiles) // columns)
    width = columns * tile_w + (columns + 1) * BORDER
    key = legend(classes, width, font)
    grid = Image.new("RGB", (width, rows * tile_h + (rows + 1) * BORDER + key.size[1]), BACKDROP)
    for i, tile in enumerate(tiles):
        column, row = i % columns, i // columns
        grid.paste(tile, (BORDER + column * (tile_w + BORDER), BORDER + row * (tile_h + BORDER)))
    grid.paste(key, (0, rows * tile_h + (rows + 1) * BORDER))
    grid.save(out)
    return out
