"""Accuracy from a confusion matrix, torch-free: top-1, per-class precision/recall/F1,
mean IoU, pixel accuracy, the worst-confused pairs, agreement between two models.

One confusion matrix [K, K] counts (target, predicted) pairs; a second vector `missed`
counts, per target class, the samples (or pixels) that got no prediction at all (an
unreadable image), so they stay in every denominator: recall, top-1, IoU and pixel
accuracy all count them as wrong. quantize, demo, diff and eval score through these
functions.
"""

from __future__ import annotations

import numpy as np

from toolkit.runtime.masks import IGNORE  # the label-map value metrics skip

WORST_PAIRS = 10


def confusion_matrix(pred: np.ndarray, target: np.ndarray, num_classes: int) -> np.ndarray:
    """[K, K] counts of (target, predicted) class pairs; target pixels of 255 are ignored."""
    keep = np.asarray(target) != IGNORE
    p = np.asarray(pred)[keep].astype(np.int64)
    t = np.asarray(target)[keep].astype(np.int64)
    counts = np.bincount(t * num_classes + p, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def no_missed(confusion: np.ndarray, missed: np.ndarray | None) -> np.ndarray:
    """`missed`, or zeros shaped like one row of the confusion matrix."""
    return np.zeros(len(confusion), np.int64) if missed is None else np.asarray(missed)


def accuracy(confusion: np.ndarray, missed: np.ndarray | None = None) -> float:
    """Correct over all scored samples (pixels), the missed ones included; 0.0 when none."""
    total = int(confusion.sum()) + int(no_missed(confusion, missed).sum())
    return float(np.trace(confusion)) / total if total else 0.0


def iou_per_class(confusion: np.ndarray, missed: np.ndarray | None = None) -> list[float | None]:
    """IoU of each class; None for a class neither in the targets nor the predictions."""
    hits = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) + no_missed(confusion, missed) - hits
    return [float(h / u) if u > 0 else None for h, u in zip(hits, union, strict=True)]


def mean_iou(confusion: np.ndarray, missed: np.ndarray | None = None) -> float:
    """Mean IoU over the classes present in prediction or target (0.0 when none is)."""
    present = [v for v in iou_per_class(confusion, missed) if v is not None]
    return float(np.mean(present)) if present else 0.0


def per_class(
    confusion: np.ndarray, classes: list[str], missed: np.ndarray | None = None
) -> dict[str, dict]:
    """{class: precision, recall, f1, support} for classes with support or predictions."""
    hits = np.diag(confusion).astype(np.float64)
    predicted = confusion.sum(0)
    support = confusion.sum(1) + no_missed(confusion, missed)
    table = {}
    for k, name in enumerate(classes):
        if not support[k] and not predicted[k]:
            continue
        precision = hits[k] / predicted[k] if predicted[k] else 0.0
        recall = hits[k] / support[k] if support[k] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table[name] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(support[k]),
        }
    return table


def worst_pairs(confusion: np.ndarray, classes: list[str], count: int = WORST_PAIRS) -> list[dict]:
    """The most frequent (true, predicted) mistakes: count and share of the true class."""
    off = confusion.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None, kind="stable")[::-1][:count]
    support = confusion.sum(1)
    pairs = []
    for flat in order:
        t, p = divmod(int(flat), len(classes))
        if off[t, p] == 0:
            break
        share = float(off[t, p] / support[t])
        pairs.append(
            {"true": classes[t], "predicted": classes[p], "count": int(off[t, p]), "share": share}
        )
    return pairs


def top_k_hits(scores: np.ndarray, targets: np.ndarray, k: int) -> int:
    """How many rows of [N, C] scores have their target among the k highest."""
    if len(scores) == 0:
        return 0
    top = np.argpartition(-scores, min(k, scores.shape[1]) - 1, axis=1)[:, :k]
    return int((top == np.asarray(targets)[:, None]).any(1).sum())


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of equal predictions (samples or pixels) between two models."""
    a, b = np.asarray(a), np.asarray(b)
    return float((a == b).mean()) if a.size else 0.0
