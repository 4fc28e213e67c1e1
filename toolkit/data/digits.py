"""scikit-learn's handwritten digits (1797 8x8 images) as uint8 images at any input size."""

from __future__ import annotations

import gzip
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.data.images import split_indices, to_hwc

CLASSES = [str(d) for d in range(10)]


def digits_table() -> np.ndarray:
    """scikit-learn's digits.csv.gz as a (1797, 65) array: 64 pixels (0..16), then the label.

    Read from the package's data folder without importing sklearn, whose import (scipy)
    takes seconds in every process that trains or calibrates on digits.
    """
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec and spec.submodule_search_locations) or ():
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as text:
                return np.loadtxt(text, delimiter=",")
    from sklearn.datasets import load_digits  # a layout this does not know: sklearn's reader

    bunch = load_digits()
    return np.column_stack([bunch.data, bunch.target])


@lru_cache(maxsize=1)
def raw_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as uint8 (N, 8, 8) images (round(v * 255 / 16)) and int64 labels."""
    table = digits_table()
    images = np.round(table[:, :-1].reshape(-1, 8, 8) * 255.0 / 16.0).astype(np.uint8)
    return images, table[:, -1].astype(np.int64)


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
