"""Human lines for the terminal (numbers are formatted here and nowhere else)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.data import parse_source
from toolkit.data.dataset import symbol_like

if TYPE_CHECKING:
    from torch import nn

    from toolkit.train.config import TrainConfig
    from toolkit.train.distributed import Context


def epoch_line(row: dict, metric: str, epochs: int) -> str:
    """One line per epoch: losses, main metric, lr, time and the diagnostics."""
    train, val = row["train"], row["val"]
    parts = [
        f"epoch {row['epoch']}/{epochs}",
        f"train loss {train['loss']:.4f} {metric} {train[metric]:.2%}",
        f"val loss {val['loss']:.4f} {metric} {val[metric]:.2%}",
        f"lr {row['lr']:.2e}",
        f"{row['time_s']:.1f}s",
    ]
    dead = row["diagnostics"]["dead_relu"]
    if dead is not None:
        parts.append(f"dead-relu {dead['fraction']:.1%}")
    grads = row["diagnostics"]["grad_norm"]
    if grads:
        low, high = grads["min"], grads["max"]
        parts.append(f"grad {low['layer']} {low['norm']:.1e} .. {high['layer']} {high['norm']:.1e}")
    return " | ".join(parts)


def final_line(results: dict, metric: str) -> str:
    """The run's outcome on the test split."""
    test = results["test"]
    return (
        f"test {metric} {test[metric]:.2%} (loss {test['loss']:.4f}, best epoch "
        f"{results['best_epoch']}, {results['time_s']:.0f}s) -> {results['run_dir']}"
    )


def start_line(
    config: TrainConfig, splits: dict, ctx: Context, run_dir: Path, model: nn.Module
) -> str:
    """What is about to happen, in one line: data, size, epochs, device, augmentation, tuning."""
    c, h, w = config.input_size
    counts = "/".join(str(len(splits[s])) for s in ("train", "val", "test"))
    ranks = f" x {ctx.world} processes" if ctx.world > 1 else ""
    return (
        f"train {config.model} on {config.data} ({counts} train/val/test, {c}x{h}x{w}) "
        f"for {config.epochs} epochs on {ctx.device}{ranks} | "
        f"{augment_text(config, splits['train'])} | {tuning_text(config, model)} -> {run_dir}"
    )


def augment_text(config: TrainConfig, train) -> str:
    """The augmentation in effect, and why flips are off when the data decided it."""
    augment = train.augment
    if augment is None:
        return "augment off"
    why = ""
    if config.hflip is None and not augment.hflip:
        symbols = symbol_like(train.classes) and parse_source(config.data).hflip
        why = " (class names are symbols)" if symbols else f" ({config.data.split(':')[0]})"
    return f"augment {augment.describe()}{why}"


def tuning_text(config: TrainConfig, model: nn.Module) -> str:
    """Initial weights, frozen layers and the backbone learning rate, in a few words."""
    start = f"init {config.init_from}" if config.init_from else "random init"
    frozen = sum(1 for p in model.parameters() if not p.requires_grad)
    total = sum(1 for _ in model.parameters())
    parts = [start, f"freeze {config.freeze}" + (f" ({frozen}/{total} tensors)" if frozen else "")]
    if config.backbone_lr_scale != 1.0:
        parts.append(f"backbone lr x{config.backbone_lr_scale:g}")
    return ", ".join(parts)
