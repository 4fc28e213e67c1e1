"""Pixels per the preprocessing contract: Pillow resize (BILINEAR images, NEAREST masks)."""

from __future__ import annotations

import numpy as np
from PIL import Image

SPLITS = ("train", "val", "test")
IGNORE = 255  # label-map value that losses and metrics skip


def pil_mode(channels: int) -> str:
    """The Pillow mode for a channel count: "L" for 1, "RGB" for 3."""
    if channels not in (1, 3):
        raise ValueError(f"images have 1 or 3 channels, not {channels}")
    return "L" if channels == 1 else "RGB"


def to_hwc(image: Image.Image, size: tuple[int, int, int]) -> np.ndarray:
    """Convert to the mode of `size` (C,H,W), resize BILINEAR, return uint8 HWC."""
    c, h, w = size
    image = image.convert(pil_mode(c))
    if image.size != (w, h):
        image = image.resize((w, h), Image.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return array.reshape(h, w, c)


def mask_to_hw(mask: Image.Image, size: tuple[int, int, int]) -> np.ndarray:
    """Resize a label map NEAREST to (H, W) of `size`; uint8 class indices."""
    _, h, w = size
    if mask.mode not in ("P", "L"):
        raise ValueError(f"mask mode is {mask.mode}, expected a palette (P) or gray (L) PNG")
    if mask.size != (w, h):
        mask = mask.resize((w, h), Image.NEAREST)
    return np.asarray(mask, dtype=np.uint8)


def split_indices(count: int, split: str, seed: int, fractions=(0.7, 0.15, 0.15)) -> np.ndarray:
    """Indices of one split of a seeded permutation of range(count) (70/15/15 by default)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    order = np.random.default_rng(seed).permutation(count)
    n_train = int(round(count * fractions[0]))
    n_val = int(round(count * fractions[1]))
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val)}
    start, stop = bounds.get(split, (n_train + n_val, count))
    return np.sort(order[start:stop])
