"""curves.png: loss and the main metric per epoch, train vs val (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path


def plot_curves(rows: list[dict], metric: str, path: Path) -> Path:
    """Draw loss and `metric` per epoch from metrics.jsonl rows into `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", metric), strict=True):
        for split in ("train", "val"):
            ax.plot(epochs, [row[split].get(key) for row in rows], marker="o", label=split)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
