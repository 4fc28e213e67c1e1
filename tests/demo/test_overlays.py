"""The demo's segmentation picture explains itself: truth beside prediction, a legend."""

from __future__ import annotations

import numpy as np
from PIL import Image

from toolkit.demo.overlays import BORDER, class_colour, overlay_grid
from toolkit.runtime.masks import overlay_image


def write_scene(folder, name: str, shift: int) -> np.ndarray:
    """A 32x32 gray scene with a square of class 1 and one of class 2; its truth mask."""
    mask = np.zeros((32, 32), np.uint8)
    mask[4:14, 4 + shift : 14 + shift] = 1
    mask[18:28, 16:26] = 2
    Image.fromarray((mask * 100).astype(np.uint8), "L").save(folder / name)
    (folder.parent / f"{folder.name}-truth").mkdir(exist_ok=True)
    Image.fromarray(mask).save(folder.parent / f"{folder.name}-truth" / name)
    return mask


def test_truth_beside_prediction_with_a_legend(tmp_path):
    images, overlays = tmp_path / "images" / "fcn", tmp_path / "overlays"
    images.mkdir(parents=True)
    overlays.mkdir()
    for i in range(5):
        mask = write_scene(images, f"{i:04d}.png", shift=i)
        predicted = np.roll(mask, 2, axis=1)  # a slightly wrong prediction
        name = f"{i:04d}.png"
        overlay_image(Image.open(images / name), predicted).save(overlays / name)
    out = overlay_grid(overlays, tmp_path / "grid.png", ["background", "one", "two"], images)
    grid = np.asarray(Image.open(out).convert("RGB"))
    tile_w = 2 * 32 * 3 + 2  # truth and prediction panels at 3x, a 2-pixel gap
    assert grid.shape[1] == 4 * tile_w + 5 * BORDER  # four bordered tiles a row
    legend = grid[2 * (32 * 3) + 3 * BORDER :]  # below two rows of tiles
    colours = {tuple(px) for px in legend.reshape(-1, 3)}
    assert class_colour(1) in colours and class_colour(2) in colours


def test_no_truth_shows_the_prediction_alone(tmp_path):
    overlays = tmp_path / "overlays"
    overlays.mkdir()
    Image.new("RGB", (20, 10), (9, 9, 9)).save(overlays / "a.png")
    out = overlay_grid(overlays, tmp_path / "grid.png", ["background", "thing"])
    assert Image.open(out).size[0] == 20 * 3 + 2 * BORDER
    assert overlay_grid(tmp_path / "empty", tmp_path / "none.png", ["a"]) is None
