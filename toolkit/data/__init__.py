"""Datasets: built-in digits and digit-scenes and image folders as uint8 arrays (torch-free,
so `cnnkit eval` reads them on the runtime extra); the torch side (ArrayDataset, the
samplers, batch transforms) lives in toolkit.data.dataset and toolkit.data.transforms."""

from toolkit.data.sources import Source, parse_source, split_arrays

__all__ = ["Source", "parse_source", "split_arrays"]
