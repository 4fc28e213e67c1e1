"""Pixels per the preprocessing contract: images through the runtime's own conversion and
resize (so training sees what inference sees), label maps resized NEAREST."""

from __future__ import annotations

import numpy as np
from PIL import Image

from toolkit.runtime.masks import IGNORE  # the label-map value that losses and metrics skip
from toolkit.runtime.preprocess import resize, to_model_mode

__all__ = ["IGNORE", "SPLITS", "mask_to_hw", "split_indices", "stratified_indices", "to_hwc"]
SPLITS = ("train", "val", "test")


def to_hwc(image: Image.Image, size: tuple[int, int, int]) -> np.ndarray:
    """Convert to the mode of `size` (C,H,W) and resize as the runtime does; uint8 HWC."""
    c, h, w = size
    resized, _ = resize(to_model_mode(image, c), (h, w), "stretch")
    return np.asarray(resized, dtype=np.uint8).reshape(h, w, c)


def mask_to_hw(mask: Image.Image, size: tuple[int, int, int]) -> np.ndarray:
    """Resize a label map NEAREST to (H, W) of `size`; uint8 class indices."""
    _, h, w = size
    if mask.mode not in ("P", "L"):
        raise ValueError(f"mask mode is {mask.mode}, expected a palette (P) or gray (L) PNG")
    if mask.size != (w, h):
        mask = mask.resize((w, h), Image.NEAREST)
    return np.asarray(mask, dtype=np.uint8)


def split_indices(
    count: int, split: str, seed: int, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
) -> np.ndarray:
    """Indices of one split of a seeded permutation of range(count) (70/15/15 by default)."""
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[split_slice(count, split, fractions)])


def stratified_indices(
    labels: np.ndarray,
    split: str,
    seed: int,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
) -> np.ndarray:
    """Indices of one split made class by class: every split holds each class in proportion
    (a class of 3 or more images has at least one in val and one in test)."""
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[rng.permutation(len(members))]
        picked.append(members[split_slice(len(members), split, fractions)])
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, np.int64)


def split_slice(count: int, split: str, fractions: tuple[float, float, float]) -> slice:
    """Where SPLIT lies in a permutation of `count` items."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    n_val = int(round(count * fractions[1]))
    n_test = count - int(round(count * fractions[0])) - n_val
    if count >= 3:  # a held-out split with none of a class cannot measure it
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    n_train = count - n_val - n_test
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val)}
    start, stop = bounds.get(split, (n_train + n_val, count))
    return slice(start, stop)
