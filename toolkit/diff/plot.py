"""A PNG of SQNR per layer in graph order, the first layer out of tolerance marked."""

from __future__ import annotations

import math
from pathlib import Path

from toolkit.errors import CnnkitError

MAX_LABELS = 60  # beyond this the x labels are dropped (unreadable)
CEILING_DB = 150.0  # identical tensors (infinite SQNR) are drawn here


def plot_layers(report, path: str | Path) -> Path:
    """Write the plot to `path` (.png, .svg or .pdf); needs matplotlib (train extra)."""
    from toolkit.plotting import check_plot_path, pyplot, save

    path = check_plot_path(path)
    try:
        plt = pyplot()
    except ImportError:
        raise CnnkitError(f"--plot {path}: drawing needs matplotlib (cnnkit[train])") from None
    rows = report.layers
    if not rows:
        raise CnnkitError(f"--plot {path}: no layers were matched between the two sides")
    whole = [_db(r["sqnr_db"]) for r in rows]
    # tensors without a channel axis (logits) have no worst channel: a gap, not a point
    worst = [_db(r["worst_channel_sqnr_db"]) if r["channels"] else math.nan for r in rows]
    figure, axis = plt.subplots(figsize=(max(6.0, min(0.25 * len(rows), 24.0)), 4.0))
    xs = range(len(rows))
    axis.plot(xs, whole, marker="o", markersize=3, label="SQNR (whole tensor)")
    if any(r["worst_channel_sqnr_db"] is not None for r in rows):
        axis.plot(xs, worst, marker=".", linestyle="--", label="SQNR (worst channel)")
    for i, row in enumerate(rows):
        if not row["ok"]:
            axis.axvline(i, color="red", alpha=0.4)
            axis.annotate(f"first out of tolerance: {row['name']}", (i, whole[i]), color="red")
            break
    floor = report.tolerance.get("min_sqnr")
    if floor is not None:
        axis.axhline(floor, color="gray", linestyle=":", label=f"min SQNR {floor:g} dB")
    axis.set_ylabel("SQNR, dB (B as signal)")
    axis.set_xlabel("tensor, in graph order")
    if len(rows) <= MAX_LABELS:
        axis.set_xticks(list(xs))
        axis.set_xticklabels([r["name"] for r in rows], rotation=90, fontsize=6)
    axis.set_title(f"{Path(report.a.split(' (')[0]).name} vs {Path(report.b.split(' (')[0]).name}")
    axis.legend(fontsize=7)
    return save(figure, path)


def _db(value: float | None) -> float:
    return CEILING_DB if value is None else min(value, CEILING_DB)
