"""Datasets (torch side): built-in digits and digit-scenes, image folders, batch transforms."""

from toolkit.data.dataset import (
    ArrayDataset,
    BatchKey,
    BatchKeySampler,
    build_dataset,
    dataset_stats,
    default_augment,
)
from toolkit.data.sources import Source, parse_source, split_arrays
from toolkit.data.transforms import Augment

__all__ = [
    "ArrayDataset",
    "Augment",
    "BatchKey",
    "BatchKeySampler",
    "Source",
    "build_dataset",
    "dataset_stats",
    "default_augment",
    "parse_source",
    "split_arrays",
]
