"""Segmentation outputs: masks at the original size, palette PNGs, overlays, safe file names."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.runtime.preprocess import Geometry
from toolkit.safeio import publish

IGNORE = 255  # pixels the model did not see (outside a center crop)
IGNORE_16 = 65535  # the same in 16-bit masks (models with more than 255 classes)


def palette() -> list[int]:
    """The PASCAL VOC colour map (class i's colour from the bits of i), 256 RGB triples."""
    colours = []
    for index in range(256):
        r = g = b = 0
        value = index
        for shift in range(7, -1, -1):
            r |= (value & 1) << shift
            g |= ((value >> 1) & 1) << shift
            b |= ((value >> 2) & 1) << shift
            value >>= 3
        colours.extend((r, g, b))
    colours[-3:] = [255, 255, 255]  # IGNORE shows white
    return colours


PALETTE = palette()


def to_original(mask: np.ndarray, geometry: Geometry) -> np.ndarray:
    """A mask in model-input pixels mapped back onto the original image (NEAREST)."""
    x0, y0, x1, y1 = geometry.content
    sx0, sy0, sx1, sy1 = geometry.source
    wide = mask.dtype == np.uint16
    shown = Image.fromarray(np.ascontiguousarray(mask[y0:y1, x0:x1]))
    shown = shown.resize((max(1, sx1 - sx0), max(1, sy1 - sy0)), Image.Resampling.NEAREST)
    canvas = Image.new(shown.mode, geometry.original, IGNORE_16 if wide else IGNORE)
    canvas.paste(shown, (sx0, sy0))
    return np.asarray(canvas).astype(mask.dtype, copy=False)


def class_pixels(mask: np.ndarray, labels: list[str]) -> dict[str, int]:
    """Pixel count per class, every class listed (ignored pixels left out)."""
    counts = np.bincount(mask.ravel(), minlength=max(256, len(labels)))
    return {label: int(counts[i]) for i, label in enumerate(labels)}


def safe_stem(key: str) -> str:
    """A file-name stem from an input key that cannot escape the output folder."""
    base, _, index = key.rpartition("#")
    if base.lower().endswith(".npy") and index.isdigit():
        name = f"{Path(base).stem}-{index}"  # one array of an .npy stack
    else:
        name = Path(key).stem
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".") or "input"
    return cleaned[:100]


def mask_names(keys: list[str]) -> dict[str, str]:
    """`<stem>.png` per input; stems shared by several inputs get a hash of the full key."""
    stems = {key: safe_stem(key) for key in keys}
    counts = Counter(stems.values())
    names = {}
    for key, stem in stems.items():
        if counts[stem] > 1:
            stem = f"{stem}-{hashlib.sha1(os.fsencode(key)).hexdigest()[:8]}"
        names[key] = f"{stem}.png"
    return names


def save_atomic(image: Image.Image, path: Path) -> None:
    """Write a PNG through a temp file in the same folder and os.replace it into place.

    No fsync: a killed process never leaves a half mask (the rename is atomic), and an
    fsync per mask would cost more than the model; results.jsonl is flushed the same way.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as handle:
            image.save(handle, format="PNG")
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def mask_image(mask: np.ndarray) -> Image.Image:
    """A "P" image carrying the class palette; a 16-bit grey PNG for more than 255 classes."""
    if mask.dtype == np.uint16:
        return Image.fromarray(np.ascontiguousarray(mask))  # "I;16"
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    image = Image.frombytes("P", (mask.shape[1], mask.shape[0]), mask.tobytes())
    image.putpalette(PALETTE)
    return image


def overlay_image(original: Image.Image, mask: np.ndarray, alpha: float = 0.5) -> Image.Image:
    """The original with the coloured mask blended over it."""
    if mask.dtype == np.uint16:  # colours repeat every 256 classes; ignored pixels stay white
        mask = np.where(mask == IGNORE_16, IGNORE, mask % IGNORE).astype(np.uint8)
    colours = mask_image(mask).convert("RGB")
    return Image.blend(original.convert("RGB"), colours, alpha)
