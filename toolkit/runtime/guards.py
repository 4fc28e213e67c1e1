"""Limits every input and every model must respect before the runtime spends memory on them.

Each check is one call from the Predictor: non-regular files (FIFOs, devices) are never
opened, arrays obey the same pixel limit as images, the model's own input size obeys it
too, and a non-finite output never becomes an "ok" row.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.errors import CnnkitError
from toolkit.runtime.preprocess import ImageError, ModelSpec, normalization_table


def pixel_limit(max_pixels: int | None) -> int:
    """--max-pixels, else Pillow's decompression-bomb limit."""
    return int(max_pixels or Image.MAX_IMAGE_PIXELS or 89_478_485)


def require_regular(path: Path, key: str) -> None:
    """ImageError unless `path` is a regular file: opening a FIFO or a device would block."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ImageError(key, "no such file (or a dangling link)") from None
    except OSError as exc:
        raise ImageError(key, f"cannot read it ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise ImageError(key, "is a folder, not an image")
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
        raise ImageError(key, f"is {kind}, not a regular file; not opened")


def check_array(array: np.ndarray, limit: int, key: str) -> None:
    """Arrays obey the pixel limit and hold at least one value per axis."""
    if array.size == 0:
        raise ImageError(key, f"array of shape {array.shape} holds no values")
    if array.ndim >= 2:
        height, width = (
            (array.shape[0], array.shape[1]) if array.dtype == np.uint8 else array.shape[-2:]
        )
        if height * width > limit:
            raise ImageError(
                key,
                f"{width}x{height} = {height * width:,} pixels is over the limit of {limit:,}"
                " (raise it with --max-pixels)",
            )


def check_input_size(size: tuple[int, int], limit: int, where) -> None:
    """The model input size (metadata, --input-size or the graph) obeys the pixel limit too."""
    height, width = size
    if height * width > limit:
        raise CnnkitError(
            f"{where}: input size {height}x{width} = {height * width:,} pixels is over the"
            f" limit of {limit:,} per image (check --input-size; raise the limit with --max-pixels)"
        )


def check_spec(spec: ModelSpec, max_pixels: int | None, where) -> None:
    """The model's input size obeys the limit; extreme --mean/--std warn nowhere.

    --max-pixels may lower the limit for images; the model's own size keeps the default.
    The normalisation table is built (and cached) here with numpy's overflow warnings off:
    a --std of 1e-40 gives infinite inputs, reported as each input's error row instead.
    """
    check_input_size(spec.size, max(pixel_limit(None), max_pixels or 0), where)
    with np.errstate(all="ignore"):
        normalization_table(tuple(spec.mean), tuple(spec.std), spec.channels)


def finite_outputs(logits: np.ndarray) -> np.ndarray:
    """One bool per input: True when every value the model gave for it is finite."""
    return np.isfinite(logits.reshape(len(logits), -1)).all(axis=1)


NON_FINITE = "the model gave NaN or infinite outputs (check the input, --mean and --std)"
