"""Test helpers for tests/export/ (imported normally; fixtures stay in conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from toolkit import models
from toolkit.data import split_arrays
from toolkit.export import export_onnx
from toolkit.export.calibration import normalize_batch
from toolkit.train.checkpoint import save_checkpoint

DIGITS_SIZE = (1, 32, 32)


MEAN, STD = [0.25], [0.35]


def fitted_lenet() -> torch.nn.Module:
    """A seeded LeNet whose last layer is fitted to digits by least squares (~92% val top-1).

    Seconds instead of minutes of SGD, yet its predictions are varied enough for
    quantization to be measurable (the slow acceptance test trains for real).
    """
    torch.manual_seed(0)
    model = models.build("lenet").eval()
    images, targets, _ = split_arrays("digits", "train", DIGITS_SIZE, 0)
    x = torch.from_numpy(normalize_batch(np.asarray(images), MEAN, STD))
    with torch.no_grad():
        features = model.head[:-1](model.features(x)).numpy()
    design = np.hstack([features, np.ones((len(features), 1), np.float32)])
    onehot = np.eye(10, dtype=np.float32)[np.asarray(targets)]
    solution = np.linalg.lstsq(design, onehot, rcond=None)[0]
    with torch.no_grad():
        model.head[-1].weight.copy_(torch.from_numpy(solution[:-1].T))
        model.head[-1].bias.copy_(torch.from_numpy(solution[-1]))
    return model


def write_run(folder: Path, model: torch.nn.Module) -> Path:
    """A run folder as `cnnkit train` leaves it: best.pt and config.json."""
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "model": model.cnnkit_name,
        "model_args": model.cnnkit_args,
        "task": "classification",
        "classes": [str(i) for i in range(10)],
        "input_size": list(DIGITS_SIZE),
        "mean": MEAN,
        "std": STD,
        "state_dict": model.state_dict(),
        "optimizer": {},
        "scheduler": {},
        "epoch": 1,
        "metrics": {},
        "rng": {},
    }
    save_checkpoint(checkpoint, folder / "best.pt")
    (folder / "config.json").write_text(json.dumps({"model": "lenet", "data": "digits", "seed": 0}))
    return folder


def write_pngs(folder: Path, channels: int, count: int) -> Path:
    """Digits from the test split as PNG files (RGB copies for 3 channels)."""
    images, _, _ = split_arrays("digits", "test", (1, 40, 40), 0)
    for i in range(count):
        pixels = np.asarray(images[i])[..., 0]
        if channels == 3:
            pixels = np.stack([pixels, pixels[::-1], pixels.T], axis=-1)
        Image.fromarray(pixels).save(folder / f"img_{i:02d}.png")
    return folder


def export_small_fcn(folder: Path) -> None:
    """FOLDER/fcn8s.onnx: a gray FCN-8s (ResNet-18 backbone), digit-scenes-shaped."""
    export_onnx(
        "fcn8s",
        folder / "fcn8s.onnx",
        in_channels=1,
        input_size=(1, 32, 32),
        model_args={"backbone": "resnet18"},
        quiet=True,
    )
