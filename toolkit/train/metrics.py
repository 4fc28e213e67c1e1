"""Metrics from a confusion matrix: top-1/top-5 and confusion for classification; pixel
accuracy, mean IoU and per-class IoU for segmentation. Sums reduce across ranks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from toolkit.data.images import IGNORE

if TYPE_CHECKING:
    from collections.abc import Callable

MAIN_METRIC = {"classification": "top1", "segmentation": "miou"}
CONFUSION_MAX_CLASSES = 50  # larger confusion matrices stay out of metrics.jsonl


class Meter:
    """Accumulates loss, confusion matrix and top-5 hits over batches (on the device)."""

    def __init__(self, num_classes: int, task: str, device: torch.device):
        self.k, self.task = num_classes, task
        self.confusion = torch.zeros(num_classes * num_classes, dtype=torch.long, device=device)
        self.sums = torch.zeros(3, dtype=torch.float64, device=device)  # loss, samples, top5

    @torch.no_grad()
    def update(self, logits: torch.Tensor, targets: torch.Tensor, loss: torch.Tensor) -> None:
        """Add one batch: its mean loss and its predictions."""
        n = targets.shape[0]
        pred = logits.argmax(1)
        valid = (
            targets != IGNORE
            if self.task == "segmentation"
            else torch.ones_like(targets, dtype=torch.bool)
        )
        index = targets[valid] * self.k + pred[valid]
        self.confusion += torch.bincount(index, minlength=self.k * self.k)
        self.sums[0] += loss.detach().double() * n
        self.sums[1] += n
        if self.task == "classification" and self.k > 5:
            top5 = logits.topk(5, dim=1).indices
            self.sums[2] += (top5 == targets[:, None]).any(1).sum()

    def running_accuracy(self) -> float:
        """Top-1 (or pixel accuracy) so far on this rank, for the progress bar."""
        confusion = self.confusion.view(self.k, self.k)
        return float(confusion.diag().sum()) / max(1, int(confusion.sum()))

    def all_reduce(self, reduce: Callable[[torch.Tensor], torch.Tensor]) -> None:
        """Sum the counts over ranks with `reduce(tensor)` (in place)."""
        reduce(self.confusion)
        reduce(self.sums)

    def summary(self, classes: list[str]) -> dict:
        """Plain numbers: loss plus the task's metrics (fractions 0..1)."""
        confusion = self.confusion.view(self.k, self.k).cpu()
        samples = max(1.0, float(self.sums[1]))
        result = {"loss": float(self.sums[0]) / samples}
        total = max(1, int(confusion.sum()))
        correct = int(confusion.diag().sum())
        if self.task == "classification":
            result["top1"] = correct / total
            if self.k > 5:
                result["top5"] = float(self.sums[2]) / samples
        else:
            result["pixel_acc"] = correct / total
            iou = iou_per_class(confusion)
            present = [v for v in iou if v is not None]
            result["miou"] = sum(present) / len(present) if present else 0.0
            result["iou"] = dict(zip(classes, iou, strict=True))
        if self.k <= CONFUSION_MAX_CLASSES:
            result["confusion"] = confusion.tolist()
        return result


def iou_per_class(confusion: torch.Tensor) -> list[float | None]:
    """IoU of each class; None for a class neither in the labels nor the predictions."""
    hits = confusion.diag().double()
    union = confusion.sum(0).double() + confusion.sum(1).double() - hits
    return [float(h / u) if u > 0 else None for h, u in zip(hits, union, strict=True)]
