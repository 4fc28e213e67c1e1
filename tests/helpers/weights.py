"""Test helpers: state dicts under torchvision's names and shapes (imported normally)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

# torchvision 0.29's names and shapes (weights=None), copied from ../shared/data/.
KEYS = Path(__file__).parents[1] / "models" / "data" / "torchvision_state_dict_keys.json"
LISTING = json.loads(KEYS.read_text())


def torchvision_dict(name: str, num_classes: int = 1000) -> dict[str, torch.Tensor]:
    """A state dict under torchvision's names and shapes, every tensor distinct and known."""
    gen = torch.Generator().manual_seed(0)
    out = {}
    for i, (key, shape) in enumerate(LISTING[name].items()):
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(i, dtype=torch.int64)
            continue
        if key in ("fc.weight", "fc.bias", "classifier.6.weight", "classifier.6.bias"):
            shape = [num_classes, *shape[1:]]
        value = torch.rand(shape, generator=gen) + i  # the offset tells tensors apart
        out[key] = value.abs() + 0.1 if key.endswith("running_var") else value
    return out


def trainable_dict(name: str) -> dict[str, torch.Tensor]:
    """torchvision names and shapes with values a network can train from (small, var 1)."""
    out = {}
    for key, value in torchvision_dict(name).items():
        if value.is_floating_point():
            value = value.frac() * 0.05 + (1.0 if key.endswith("running_var") else 0.0)
        out[key] = value
    return out
