"""The confusion matrix as a figure: row-normalised (recall), one panel per model.

At 1000 classes a full matrix is a grey square; the panel keeps the classes most involved
in mistakes (their off-diagonal counts, as true or predicted class) and says so in its
title, so the cells that matter stay readable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from toolkit.evaluate.report import ModelScore
from toolkit.plotting import pyplot, save

SHOWN_CLASSES = 20  # larger matrices keep the most-confused classes only
ANNOTATE_UP_TO = 12  # write the share in each cell up to this many classes


def most_confused(confusion: np.ndarray, count: int = SHOWN_CLASSES) -> np.ndarray:
    """Indices of the `count` classes with the most mistakes as true or predicted class."""
    off = confusion.astype(np.float64).copy()
    np.fill_diagonal(off, 0)
    involvement = off.sum(0) + off.sum(1)
    order = np.argsort(-involvement, kind="stable")[:count]
    return np.sort(order)


def normalised(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total (rows without samples stay zero)."""
    totals = confusion.sum(1, keepdims=True)
    return np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)


def draw_panel(axes, score: ModelScore) -> None:
    """One model's row-normalised confusion matrix on `axes`."""
    confusion = np.asarray(score.confusion)
    k = len(confusion)
    keep = most_confused(confusion) if k > SHOWN_CLASSES else np.arange(k)
    shares = normalised(confusion)[np.ix_(keep, keep)]
    names = [score.classes[i] for i in keep]
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the true class")
    axes.set_xticks(range(len(keep)), names, rotation=90, fontsize=7)
    axes.set_yticks(range(len(keep)), names, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    metric = f"top-1 {score.top1:.3f}" if score.top1 is not None else f"mIoU {score.miou:.3f}"
    subset = f", {len(keep)} most-confused of {k} classes" if len(keep) < k else ""
    axes.set_title(f"{Path(score.model).name} ({score.precision}): {metric}{subset}", fontsize=8)
    if len(keep) <= ANNOTATE_UP_TO:
        for (row, col), share in np.ndenumerate(shares):
            if share >= 0.005:
                colour = "white" if share > 0.5 else "black"
                axes.text(
                    col, row, f"{share:.2f}", ha="center", va="center", fontsize=6, color=colour
                )


def confusion_figure(scores: list[ModelScore], path: Path) -> Path:
    """Write one row-normalised confusion panel per model to `path`."""
    plt = pyplot()
    figure, axes = plt.subplots(1, len(scores), figsize=(5.5 * len(scores), 5.5), squeeze=False)
    for panel, score in zip(axes[0], scores, strict=True):
        draw_panel(panel, score)
    return save(figure, path)
