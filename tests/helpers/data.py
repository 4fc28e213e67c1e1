"""Test helpers for tests/data/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from toolkit.data.labelmap import VOID


def write_class_folder(root: Path, classes=("cat", "dog"), per_class: int = 10) -> Path:
    """root/<class>/img_i.png|jpg with a class-dependent brightness, plus one corrupt file."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (12, 16, 3)) + 150 * k
            suffix = "png" if i % 2 else "jpg"
            Image.fromarray(pixels.astype(np.uint8), "RGB").save(folder / f"img_{i}.{suffix}")
    (root / classes[0] / "broken.png").write_bytes(b"not an image at all")
    return root


def palette_mask(labels: np.ndarray) -> Image.Image:
    """A VOC-style palette PNG holding `labels` as indices."""
    mask = Image.fromarray(labels.astype(np.uint8), "P")
    mask.putpalette([v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)])
    return mask


def write_voc(root: Path, count: int = 10, lists: bool = True) -> Path:
    """JPEGImages/ + SegmentationClass/ (+ ImageSets/Segmentation/{train,val}.txt)."""
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    for i in range(count):
        labels = np.zeros((20, 24), np.uint8)
        labels[4:12, 6:18] = 1 + i % 2
        labels[0, :] = 255
        image = np.where(labels[..., None] > 0, 200, 30).astype(np.uint8).repeat(3, axis=2)
        Image.fromarray(image, "RGB").save(root / "JPEGImages" / f"im{i:02d}.jpg")
        palette_mask(labels).save(root / "SegmentationClass" / f"im{i:02d}.png")
    if lists:
        sets = root / "ImageSets" / "Segmentation"
        sets.mkdir(parents=True)
        (sets / "train.txt").write_text("".join(f"im{i:02d}\n" for i in range(count - 3)))
        (sets / "val.txt").write_text("".join(f"im{i:02d}\n" for i in range(count - 3, count)))
    return root


COLOURS = {"background": (0, 0, 0), "crack": (250, 50, 83), "rust": (51, 221, 255)}
LABELMAP = "# label:color_rgb:parts:actions\n" + "".join(
    f"{name}:{r},{g},{b}::\n" for name, (r, g, b) in COLOURS.items()
)


def write_cvat(root: Path, count: int = 8, labelmap: str | None = LABELMAP) -> Path:
    """A CVAT 'Segmentation mask 1.1' export: RGB colour masks, labelmap.txt, no split lists."""
    (root / "JPEGImages").mkdir(parents=True)
    (root / "SegmentationClass").mkdir()
    colours = list(COLOURS.values())
    for i in range(count):
        labels = np.zeros((16, 16), np.uint8)
        labels[2:8, 2:14] = 1
        labels[9:15, 4:12] = 2 if i % 2 else 1
        rgb = np.array(colours, np.uint8)[labels]
        rgb[0, :] = VOID  # Pascal's border colour: ignored
        Image.fromarray(rgb, "RGB").save(root / "SegmentationClass" / f"f{i}.png")
        image = (labels[..., None] * 80).repeat(3, axis=2).astype(np.uint8)
        Image.fromarray(image, "RGB").save(root / "JPEGImages" / f"f{i}.jpg")
    if labelmap is not None:
        (root / "labelmap.txt").write_text(labelmap)
    return root
