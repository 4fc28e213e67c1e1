"""scikit-learn's handwritten digits (1797 8x8 images) as uint8 images at any input size."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from toolkit.data.images import split_indices, to_hwc

CLASSES = [str(d) for d in range(10)]


@lru_cache(maxsize=1)
def raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as uint8 (N, 8, 8) images (round(v * 255 / 16)) and int64 labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * 255.0 / 16.0).astype(np.uint8)
    return images, bunch.target.astype(np.int64)


def digit_split(split: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 uint8 digits and labels of one split (fixed 70/15/15 permutation per seed)."""
    images, labels = raw_digits()
    index = split_indices(len(images), split, seed)
    return images[index], labels[index]


def digits_arrays(
    split: str, size: tuple[int, int, int], seed: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(images NHWC uint8 resized to `size`, int64 targets, classes) for one split."""
    small, labels = digit_split(split, seed)
    images = np.stack([to_hwc(Image.fromarray(img, "L"), size) for img in small])
    return images, labels, list(CLASSES)
