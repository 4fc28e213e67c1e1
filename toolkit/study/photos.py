"""Camera-sized test images written by the benchmark itself (nothing is downloaded).

Photos: 4000x3000 JPEGs at quality 90 whose content is a smooth random scene plus
sensor-like grain, so they compress to a camera photo's few megabytes (the entropy
decoder's work grows with the file size; flat synthetic images would flatter it).
Digits: the digits test split blown up to 12 MP, for the scaled-vs-full accuracy check.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

PHOTO_SIZE = (4000, 3000)  # (W, H): 12 MP
QUALITY = 90


def grain(size: tuple[int, int], seed: int, sigma: float = 8.0) -> np.ndarray:
    """(H, W, 3) int16 Gaussian noise: the texture that makes a photo cost to decode."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((size[1], size[0], 3), dtype=np.float32) * sigma).astype(np.int16)


def scene(size: tuple[int, int], seed: int) -> np.ndarray:
    """(H, W, 3) int16 smooth random scene: a 40x30 random picture upsampled bicubically."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (30, 40, 3), dtype=np.uint8))
    return np.asarray(small.resize(size, Image.Resampling.BICUBIC)).astype(np.int16)


def write_photos(
    folder: Path, count: int, size: tuple[int, int] = PHOTO_SIZE, seed: int = 0, workers: int = 2
) -> list[Path]:
    """`count` photo-like JPEGs of `size`; every one a different scene, grain shifted."""
    folder.mkdir(parents=True, exist_ok=True)
    noise = grain(size, seed)

    def write(i: int) -> Path:
        shifted = np.roll(noise, shift=(97 * i, 131 * i), axis=(0, 1))
        pixels = np.clip(scene(size, seed + 1 + i) + shifted, 0, 255).astype(np.uint8)
        path = folder / f"photo{i:03d}.jpg"
        Image.fromarray(pixels).save(path, quality=QUALITY)
        return path

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(write, range(count)))


def write_big_digits(
    folder: Path, images: np.ndarray, size: tuple[int, int] = PHOTO_SIZE, workers: int = 2
) -> list[Path]:
    """uint8 (N, H, W[, 1]) digits, each resized (bilinear) to `size` and saved as JPEG."""
    folder.mkdir(parents=True, exist_ok=True)

    def write(i: int) -> Path:
        pixels = images[i][:, :, 0] if images[i].ndim == 3 else images[i]
        path = folder / f"digit{i:04d}.jpg"
        big = Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR)
        big.save(path, quality=QUALITY)
        return path

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(write, range(len(images))))
