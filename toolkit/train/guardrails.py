"""What a small data set deserves to hear before its figures mislead (train's data check).

On 60 images split 42/9/9 a batch of 64 is one step an epoch, and a best epoch picked on 9
validation images says little about the test split: the run says so once, up front, and
keeps the warnings in config.json.
"""

from __future__ import annotations

import numpy as np

from toolkit.progress import note

MIN_SPLIT = 20  # a held-out split smaller than this measures noise


def class_counts(dataset) -> np.ndarray:
    """How many samples of each class a classification split holds."""
    return np.bincount(np.asarray(dataset.targets), minlength=len(dataset.classes))


def counts_line(splits: dict) -> str:
    """One line: each split's size, and per class for classification."""
    parts = []
    for name, dataset in splits.items():
        part = f"{name} {len(dataset)}"
        if dataset.task == "classification":
            pairs = zip(dataset.classes, class_counts(dataset), strict=True)
            part += " (" + ", ".join(f"{c} {n}" for c, n in pairs) + ")"
        parts.append(part)
    return "data: " + " | ".join(parts)


def small_data_warnings(splits: dict, batch_size: int) -> list[str]:
    """Warnings for a batch larger than the training split, tiny or class-less splits."""
    found = []
    train = len(splits["train"])
    if batch_size > train:
        found.append(
            f"--batch-size {batch_size} is larger than the {train} training samples: each "
            f"epoch is one step; try --batch-size {max(1, train // 4)}"
        )
    for name in ("val", "test"):
        dataset = splits[name]
        if len(dataset) < MIN_SPLIT:
            use = "the best epoch is picked on it" if name == "val" else "its score is noise"
            found.append(
                f"the {name} split holds {len(dataset)} samples (< {MIN_SPLIT}): {use}; "
                "add data before trusting its figures"
            )
        if dataset.task == "classification":
            pairs = zip(dataset.classes, class_counts(dataset), strict=True)
            missing = [c for c, n in pairs if n == 0]
            if missing:
                found.append(f"the {name} split has no sample of: {', '.join(missing)}")
    return found


def announce(splits: dict, batch_size: int, quiet: bool) -> list[str]:
    """Print the split counts (unless quiet) and each warning once; the warnings."""
    if not quiet:
        note(counts_line(splits))
    warnings = small_data_warnings(splits, batch_size)
    for warning in warnings:
        note(f"warning: {warning}")
    return warnings
