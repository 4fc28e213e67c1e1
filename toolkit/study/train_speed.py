"""Training throughput: `toolkit.train.fit` against a bare PyTorch loop (torch, lazily used).

Both do the same work per epoch on the digits arrays: one shuffled training pass
(forward, backward, AdamW step) and one validation pass, with the same model, batch size,
optimizer defaults and thread count. Images/s = training images / epoch wall time; the
first epoch is a warmup whenever there is more than one. fit trains for the plan's epochs
(the model is used afterwards); the bare loop runs at most two.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.runfolder import RunFolder

if TYPE_CHECKING:
    from collections.abc import Sequence

    import torch

DATA = "digits"


@dataclass(frozen=True)
class TrainingSpeed:
    """fit vs bare loop, images per second of epoch wall time."""

    model: str
    input_size: list[int]
    batch: int
    epochs: int  # fit's; the bare loop runs min(epochs, 2)
    train_images: int
    fit_ips: float
    bare_ips: float
    fit_epoch_s: list[float]
    bare_epoch_s: list[float]

    @property
    def ratio(self) -> float:
        """fit images/s over bare-loop images/s (1.0 = no overhead)."""
        return self.fit_ips / self.bare_ips

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready), ratio included."""
        return {**asdict(self), "ratio": self.ratio}


def steady(epoch_s: list[float]) -> float:
    """Mean epoch time, leaving out the first epoch when there are more."""
    timed = epoch_s[1:] if len(epoch_s) > 1 else epoch_s
    return sum(timed) / len(timed)


def train_with_fit(
    model: str,
    size: tuple[int, int, int],
    epochs: int,
    batch: int,
    limit: int | None,
    runs_dir: Path,
) -> Path:
    """A real cnnkit training run on digits (no augmentation); its run folder."""
    from toolkit.train import TrainConfig, fit

    config = TrainConfig(
        model=model,
        data=DATA,
        epochs=epochs,
        batch_size=batch,
        input_size=tuple(size),
        augment=False,
        device="cpu",
        limit=limit,
        name=f"{model}-{DATA}",
        runs_dir=str(runs_dir),
        exist_ok=True,
    )
    return fit(config, quiet=False)  # its epoch lines are the report's progress


def fit_epoch_times(run_dir: Path) -> list[float]:
    """Epoch wall times from the run's metrics.jsonl."""
    from toolkit.train.rundir import read_metrics

    return [float(row["time_s"]) for row in read_metrics(run_dir)]


def normalized_split(
    split: str,
    size: tuple[int, int, int],
    limit: int | None,
    mean: Sequence[float],
    std: Sequence[float],
) -> tuple[torch.Tensor, torch.Tensor]:
    """(float32 NCHW tensor, int64 targets) of a digits split, preprocessed as training does."""
    import torch

    from toolkit.data import split_arrays
    from toolkit.export.calibration import normalize_batch

    images, targets, _ = split_arrays(DATA, split, tuple(size), 0)
    if limit is not None:
        images, targets = images[:limit], targets[:limit]
    x = normalize_batch(images, mean, std)
    return torch.from_numpy(x), torch.from_numpy(targets.copy())


def bare_loop(
    model_name: str,
    size: tuple[int, int, int],
    epochs: int,
    batch: int,
    limit: int | None,
    mean: Sequence[float],
    std: Sequence[float],
) -> list[float]:
    """The textbook loop: shuffle, forward, loss, backward, step; then a validation pass."""
    import torch
    from torch.nn import functional as F

    from toolkit import models

    torch.manual_seed(0)
    train_x, train_y = normalized_split("train", size, limit, mean, std)
    val_x, _ = normalized_split("val", size, limit, mean, std)
    model = models.build(model_name, num_classes=10, in_channels=size[0])
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_x))
        for first in range(0, len(order), batch):
            index = order[first : first + batch]
            if len(index) < 2:
                continue  # BatchNorm cannot train on a batch of one (fit drops it too)
            loss = F.cross_entropy(model(train_x[index]), train_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for first in range(0, len(val_x), batch * 2):
                model(val_x[first : first + batch * 2])
        times.append(time.perf_counter() - start)
    return times


def training_speed(
    model: str,
    size: tuple[int, int, int],
    *,
    epochs: int,
    batch: int,
    limit: int | None,
    threads: int,
    runs_dir: Path,
) -> tuple[TrainingSpeed, Path]:
    """Train with fit, then the bare loop on the same data; speeds and the run folder."""
    import torch

    from toolkit.data.dataset import dataset_stats

    torch.set_num_threads(threads)
    run_dir = train_with_fit(model, size, epochs, batch, limit, runs_dir)
    mean, std = dataset_stats(DATA, tuple(size), 0)
    # Two epochs give the bare loop a warmup and a steady epoch; more would only add time.
    bare = bare_loop(model, size, min(epochs, 2), batch, limit, mean, std)
    fit_times = fit_epoch_times(run_dir)
    config = json.loads(RunFolder(run_dir).config.read_text())
    n_train = len(normalized_split("train", size, limit, mean, std)[1])
    speed = TrainingSpeed(
        model=model,
        input_size=list(config["input_size"]),
        batch=batch,
        epochs=epochs,
        train_images=n_train,
        fit_ips=n_train / steady(fit_times),
        bare_ips=n_train / steady(bare),
        fit_epoch_s=fit_times,
        bare_epoch_s=bare,
    )
    return speed, run_dir
