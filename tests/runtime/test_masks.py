"""Masks: palette PNGs, mapping back to the original, names that stay inside --out."""

from __future__ import annotations

import numpy as np
from PIL import Image

from toolkit.runtime.masks import (
    IGNORE,
    class_pixels,
    mask_image,
    mask_names,
    save_atomic,
    to_original,
)
from toolkit.runtime.preprocess import Geometry


def test_names_are_safe_and_unique():
    keys = ["a/x.png", "b/x.png", "../../etc/passwd.png", "stack.npy#3", ".hidden.png", "y.jpg"]
    names = mask_names(keys)
    assert len(set(names.values())) == len(keys)
    for name in names.values():
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert name.endswith(".png")
    assert names["y.jpg"] == "y.png"
    assert names["stack.npy#3"] == "stack-3.png"
    assert names["a/x.png"].startswith("x-") and names["a/x.png"] != names["b/x.png"]


def test_palette_png_round_trips_class_indices(tmp_path):
    mask = np.array([[0, 1], [2, IGNORE]], dtype=np.uint8)
    save_atomic(mask_image(mask), tmp_path / "m.png")
    loaded = Image.open(tmp_path / "m.png")
    assert loaded.mode == "P"
    np.testing.assert_array_equal(np.asarray(loaded), mask)
    assert loaded.getpalette()[3:6] == [128, 0, 0]
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"]  # no temp file left


def test_masks_map_back_to_the_original_geometry():
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[:, 5:] = 1
    stretched = to_original(mask, Geometry((40, 20), (0, 0, 10, 10), (0, 0, 40, 20)))
    assert stretched.shape == (20, 40)
    assert stretched[0, 0] == 0 and stretched[0, 39] == 1
    cropped = to_original(mask, Geometry((40, 20), (0, 0, 10, 10), (10, 0, 30, 20)))
    assert cropped[0, 0] == IGNORE and cropped[0, 12] == 0 and cropped[0, 28] == 1
    assert class_pixels(cropped, ["a", "b"]) == {"a": 200, "b": 200}
