"""digit-scenes: a segmentation set composed from the digits, deterministic from a seed.

Each scene pastes 1-4 digits at random positions and scales on a black canvas; the label
map is digit class + 1 where the digit's stroke is bright, 0 (background) elsewhere.
Scenes of a split are composed only from that split's digits, so the test scenes hold
digits that the training scenes never saw.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from toolkit.data.digits import digit_split
from toolkit.data.images import SPLITS, mask_to_hw, to_hwc

CLASSES = ["background"] + [str(d) for d in range(10)]
DEFAULT_CANVAS = 64
SCENES_PER_SPLIT = {"train": 2000, "val": 300, "test": 300}
STROKE = 32  # a resized digit pixel at or above this (its ink, slightly bold) is the digit


def compose_scene(
    rng: np.random.Generator, digits: np.ndarray, labels: np.ndarray, canvas: int
) -> tuple[np.ndarray, np.ndarray]:
    """One (canvas x canvas) uint8 image and its label map, digits not overlapping."""
    image = np.zeros((canvas, canvas), np.uint8)
    mask = np.zeros((canvas, canvas), np.uint8)
    taken = np.zeros((canvas, canvas), bool)
    lo, hi = max(8, canvas * 9 // 32), max(9, canvas * 15 // 32)
    for _ in range(int(rng.integers(1, 5))):
        for _attempt in range(10):
            side = int(rng.integers(lo, hi + 1))
            y, x = (int(v) for v in rng.integers(0, canvas - side + 1, size=2))
            if not taken[y : y + side, x : x + side].any():
                break
        else:
            continue
        pick = int(rng.integers(len(digits)))
        glyph = np.asarray(Image.fromarray(digits[pick], "L").resize((side, side), Image.BILINEAR))
        image[y : y + side, x : x + side] = glyph
        mask[y : y + side, x : x + side] = np.where(glyph >= STROKE, labels[pick] + 1, 0)
        taken[y : y + side, x : x + side] = True
    return image, mask


def scenes_arrays(
    split: str, size: tuple[int, int, int], seed: int, canvas: int = DEFAULT_CANVAS
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images NHWC uint8 at `size`, uint8 label maps (N,H,W), classes) for one split."""
    digits, labels = digit_split(split, seed)
    rng = np.random.default_rng([seed, SPLITS.index(split), canvas])
    images, masks = [], []
    for _ in range(SCENES_PER_SPLIT[split]):
        image, mask = compose_scene(rng, digits, labels, canvas)
        images.append(to_hwc(Image.fromarray(image, "L"), size))
        masks.append(mask_to_hw(Image.fromarray(mask, "L"), size))
    return np.stack(images), np.stack(masks), list(CLASSES)
