"""In-memory datasets: uint8 tensors, augmented and normalised a whole batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from toolkit.data.sources import parse_source, split_arrays
from toolkit.data.transforms import Augment, augment_batch, normalize, to_float

if TYPE_CHECKING:
    from collections.abc import Sequence


class BatchKey(NamedTuple):
    """A batch request: its sample indices plus (epoch, number) to seed its augmentation."""

    epoch: int
    number: int
    indices: list[int]


def batch_seed(seed: int, epoch: int, number: int) -> int:
    """A distinct, reproducible generator seed per (run seed, epoch, batch number)."""
    return (seed * 1_000_003 + epoch) * 100_003 + number


class ArrayDataset(Dataset):
    """A split held as uint8 NCHW tensors; `ds[i]` is one sample, `ds[BatchKey]` a batch."""

    def __init__(
        self,
        images: np.ndarray,
        targets: np.ndarray,
        classes: list[str],
        *,
        task: str,
        mean,
        std,
        augment: Augment | None = None,
        seed: int = 0,
    ):
        self.images = torch.from_numpy(np.array(images).transpose(0, 3, 1, 2).copy())
        self.targets = torch.from_numpy(np.array(targets))
        self.classes, self.task = list(classes), task
        self.mean, self.std = list(mean), list(std)
        self.augment, self.seed = augment, seed

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key):
        if isinstance(key, BatchKey):
            gen = torch.Generator().manual_seed(batch_seed(self.seed, key.epoch, key.number))
            return self.batch(key.indices, gen)
        images, targets = self.batch([int(key)], None)
        return images[0], targets[0]

    def batch(
        self, indices: list[int], gen: torch.Generator | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised float images and int64 targets of `indices` (augmented when gen is given)."""
        index = torch.as_tensor(indices, dtype=torch.long)
        images, targets = self.images[index], self.targets[index]
        masks = targets if self.task == "segmentation" else None
        if self.augment is not None and gen is not None:
            x, masks = augment_batch(images, masks, self.augment, gen)
        else:
            x = to_float(images)
        if masks is not None:
            targets = masks
        return normalize(x, self.mean, self.std), targets.long()


class BatchKeySampler(Sampler):
    """Group an index sampler's order into BatchKeys (the DataLoader then fetches whole batches)."""

    def __init__(self, sampler, batch_size: int, drop_single: bool = False):
        self.sampler, self.batch_size, self.epoch = sampler, batch_size, 0
        self.drop_single = drop_single  # a last batch of one breaks BatchNorm in training

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for `epoch` (the inner sampler is seeded by seed + epoch)."""
        self.epoch = epoch
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[BatchKey]:
        order = list(self.sampler)
        for number in range(len(self)):
            start = number * self.batch_size
            yield BatchKey(self.epoch, number, order[start : start + self.batch_size])

    def __len__(self) -> int:
        count = len(self.sampler)
        full, rest = divmod(count, self.batch_size)
        keep_rest = rest > 1 or (rest == 1 and not (self.drop_single and full))
        return full + int(keep_rest)


def default_augment(
    source: str, input_size: tuple[int, int, int], classes: Sequence[str] = ()
) -> Augment:
    """The augmentation a source trains with by default (flips only where they are harmless)."""
    hflip = parse_source(source).hflip and not symbol_like(classes)
    return Augment(crop_padding=max(1, round(input_size[1] / 16)), hflip=hflip)


def symbol_like(classes: Sequence[str]) -> bool:
    """Class names that are single characters (0..9, a..z): a mirrored symbol is another one."""
    return bool(classes) and all(len(name) == 1 and name.isalnum() for name in classes)


def dataset_stats(
    source: str,
    input_size: tuple[int, int, int],
    seed: int = 0,
    classes: Sequence[str] | None = None,
) -> tuple[list[float], list[float]]:
    """Per-channel mean and std (0..1 scale) of the training split."""
    images, _, _ = split_arrays(source, "train", input_size, seed, classes)
    pixels = images.reshape(-1, images.shape[-1]).astype(np.float64) / 255.0
    std = np.maximum(pixels.std(axis=0), 1e-3)
    return [round(float(v), 6) for v in pixels.mean(axis=0)], [round(float(v), 6) for v in std]


def build_dataset(  # noqa: PLR0913 - the dataset's own settings, keyword-only
    source: str,
    split: str,
    input_size: tuple[int, int, int],
    *,
    augment: bool | Augment = False,
    mean: Sequence[float],
    std: Sequence[float],
    seed: int = 0,
    limit: int | None = None,
    classes: Sequence[str] | None = None,
) -> ArrayDataset:
    """A split of `source` as a torch Dataset of (normalised float tensor, target)."""
    images, targets, classes = split_arrays(source, split, input_size, seed, classes)
    if limit is not None:
        images, targets = images[:limit], targets[:limit]
    if augment is True:
        augment = default_augment(source, input_size, classes)
    return ArrayDataset(
        images,
        targets,
        classes,
        task=parse_source(source).task,
        mean=mean,
        std=std,
        augment=augment or None,
        seed=seed,
    )
