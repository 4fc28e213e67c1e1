"""curves.png: loss and the main metric per epoch, train vs val, the kept epoch marked."""

from __future__ import annotations

import math
from pathlib import Path

from toolkit.plotting import pyplot, save


def best_epoch(rows: list[dict], metric: str) -> int | None:
    """The epoch best.pt keeps: the highest val `metric`, a tie going to the later epoch."""
    best, best_value = None, -math.inf
    for row in rows:
        value = row["val"].get(metric)
        if value is not None and math.isfinite(value) and value >= best_value:
            best, best_value = row["epoch"], value
    return best


def plot_curves(rows: list[dict], metric: str, path: Path) -> Path:
    """Draw loss and `metric` per epoch from metrics.jsonl rows into `path`."""
    plt = pyplot()
    epochs = [row["epoch"] for row in rows]
    kept = best_epoch(rows, metric)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", metric), strict=True):
        for split in ("train", "val"):
            ax.plot(epochs, [row[split].get(key) for row in rows], marker="o", label=split)
        if kept is not None:
            ax.axvline(kept, color="tab:green", linestyle="--", label=f"best.pt (epoch {kept})")
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"{key} (val picks best.pt)" if key == metric else key)
        ax.grid(alpha=0.3)
        ax.legend()
    return save(fig, path)
