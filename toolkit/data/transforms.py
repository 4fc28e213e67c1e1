"""Batch transforms on uint8 NCHW tensors: random crop with padding, flip, jitter, normalise.

Segmentation masks move with their images (same crop offsets and flips; padding is 255,
the ignore label), so no pixel is ever interpolated in a mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from toolkit.data.images import IGNORE

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class Augment:
    """Training-time augmentation; all randomness comes from the generator passed in."""

    crop_padding: int = 2  # pixels of zero padding before a random crop back to size
    hflip: bool = False  # off for digits: a flipped digit is another symbol
    jitter: float = 0.1  # brightness and contrast factors drawn from [1 - j, 1 + j]

    def describe(self) -> str:
        """What it does, in a few words: "crop 4px, hflip, jitter 0.1"."""
        parts = [f"crop {self.crop_padding}px" if self.crop_padding > 0 else "no crop"]
        parts.append("hflip" if self.hflip else "no hflip")
        parts.append(f"jitter {self.jitter:g}" if self.jitter > 0 else "no jitter")
        return ", ".join(parts)


def random_crop(
    images: torch.Tensor, masks: torch.Tensor | None, padding: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Pad by `padding` and crop each sample back to its size at its own random offset."""
    if padding <= 0:
        return images, masks
    n, _, h, w = images.shape
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=gen)
    rows = (offsets[:, :1] + torch.arange(h))[:, :, None]  # (N, H, 1)
    cols = (offsets[:, 1:] + torch.arange(w))[:, None, :]  # (N, 1, W)
    batch = torch.arange(n)[:, None, None]
    padded = torch.nn.functional.pad(images, (padding,) * 4)
    images = padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()
    if masks is not None:
        padded_masks = torch.nn.functional.pad(masks, (padding,) * 4, value=IGNORE)
        masks = padded_masks[batch, rows, cols]
    return images, masks


def random_hflip(
    images: torch.Tensor, masks: torch.Tensor | None, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Mirror a random half of the batch left-right (masks too)."""
    flip = torch.rand(images.shape[0], generator=gen) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    if masks is not None:
        masks = torch.where(flip[:, None, None], masks.flip(-1), masks)
    return images, masks


def jitter(x: torch.Tensor, amount: float, gen: torch.Generator) -> torch.Tensor:
    """Random brightness and contrast per sample on 0..1 floats, clamped to 0..1."""
    if amount <= 0:
        return x
    n = x.shape[0]
    brightness = 1 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * amount
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * amount
    centre = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - centre) * contrast + centre).mul(brightness).clamp(0, 1)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 -> float32 0..1."""
    return images.float().div_(255.0)


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """(x - mean) / std per channel, on 0..1 floats."""
    view = (1, -1, 1, 1) if x.dim() == 4 else (-1, 1, 1)
    mean = torch.as_tensor(mean, dtype=x.dtype).view(view)
    std = torch.as_tensor(std, dtype=x.dtype).view(view)
    return (x - mean) / std


def augment_batch(
    images: torch.Tensor, masks: torch.Tensor | None, augment: Augment, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Apply crop, flip and jitter to a uint8 batch; returns float 0..1 images and masks."""
    images, masks = random_crop(images, masks, augment.crop_padding, gen)
    if augment.hflip:
        images, masks = random_hflip(images, masks, gen)
    return jitter(to_float(images), augment.jitter, gen), masks
