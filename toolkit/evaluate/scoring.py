"""One model over one split: run it in batches, count, and summarise into a ModelScore.

`Tally` holds the counts (confusion matrix in the model's classes, missed samples, top-5
hits); `summarise` turns counts into the report's numbers, for a model run here and for
rows `infer` wrote earlier alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.evaluate import metrics
from toolkit.evaluate.data import Split
from toolkit.evaluate.mapping import remap
from toolkit.evaluate.report import ModelScore
from toolkit.evaluate.sides import ModelSide
from toolkit.progress import progress_bar

TOP5 = 5


@dataclass
class Tally:
    """Counts over batches, in the model's classes."""

    classes: list[str]
    task: str
    confusion: np.ndarray = None
    missed: np.ndarray = None
    top5_hits: int = 0
    top5_known: bool = True  # False once a batch came without class scores

    def __post_init__(self):
        k = len(self.classes)
        self.confusion = np.zeros((k, k), np.int64) if self.confusion is None else self.confusion
        self.missed = np.zeros(k, np.int64) if self.missed is None else self.missed

    def add(self, pred: np.ndarray, targets: np.ndarray, scores: np.ndarray | None = None) -> None:
        """Fold in one batch of predictions (and class scores for top-5)."""
        self.confusion += metrics.confusion_matrix(pred, targets, len(self.classes))
        if self.task != "classification":
            return
        if scores is None:
            self.top5_known = False
        else:
            self.top5_hits += metrics.top_k_hits(scores, targets, TOP5)


@dataclass
class Outcome:
    """A model's score plus what the report builds across models."""

    score: ModelScore
    predictions: list[np.ndarray] = field(default_factory=list)  # per batch, model class indices
    misclassified: list[dict] = field(default_factory=list)


def summarise(tally: Tally, samples: int, **facts) -> ModelScore:
    """The report's numbers from counts; `facts` are ModelScore's other fields."""
    c, missed, classes = tally.confusion, tally.missed, tally.classes
    score = ModelScore(
        task=tally.task, samples=samples, classes=classes, confusion=c.tolist(), **facts
    )
    if tally.task == "classification":
        score.top1 = metrics.accuracy(c, missed)
        if len(classes) > TOP5 and tally.top5_known:
            score.top5 = tally.top5_hits / samples if samples else 0.0
        score.per_class = metrics.per_class(c, classes, missed)
    else:
        ious = metrics.iou_per_class(c, missed)
        score.per_class_iou = dict(zip(classes, ious, strict=True))
        score.miou = metrics.mean_iou(c, missed)
        score.pixel_accuracy = metrics.accuracy(c, missed)
    score.worst_pairs = metrics.worst_pairs(c, classes)
    return score


def predicted(output: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(class indices, class scores or None) of one batch of model output."""
    if task == "classification":
        if output.ndim == 2:
            return output.argmax(1), output
        return output.reshape(len(output)).astype(np.int64), None
    if output.ndim == 4:
        return output.argmax(1), None
    return output.astype(np.int64), None


def run_side(
    side: ModelSide, split: Split, mapping: np.ndarray, batch_size: int, quiet: bool
) -> Outcome:
    """Score `side` on `split` (data classes mapped to the model's by `mapping`)."""
    classes = list(side.classes)
    tally = Tally(classes, split.task)
    np.add.at(tally.missed, mapping, split.missed if split.missed is not None else 0)
    outcome = Outcome(score=None)
    started = time.perf_counter()
    with progress_bar(quiet) as bar:
        task = bar.add_task(f"eval {side.name}", total=len(split.keys), status="")
        for start in range(0, len(split.keys), batch_size):
            images = split.images[start : start + batch_size]
            targets = remap(split.targets[start : start + batch_size], mapping)
            pred, scores = predicted(side.scores(images), split.task)
            check_shape(side, pred, targets)
            tally.add(pred, targets, scores)
            outcome.predictions.append(pred)
            if split.task == "classification":
                outcome.misclassified += wrong_rows(side, split, start, pred, targets, classes)
            bar.update(task, advance=len(images))
    outcome.score = summarise(
        tally,
        split.samples,
        model=side.name,
        provider=side.provider,
        precision=side.precision,
        unreadable=split.unreadable,
        seconds=time.perf_counter() - started,
    )
    return outcome


def check_shape(side: ModelSide, pred: np.ndarray, targets: np.ndarray) -> None:
    """Predictions must line up with targets (a segmentation output at another size)."""
    if pred.shape != targets.shape:
        raise CnnkitError(
            f"{side.name}: predictions of shape {list(pred.shape)} do not match the targets' "
            f"{list(targets.shape)} (check --input-size)"
        )


def wrong_rows(side, split: Split, start: int, pred, targets, classes) -> list[dict]:
    """{model, path, label, predicted} of the misclassified samples of one batch."""
    rows = []
    for i in np.flatnonzero(pred != targets):
        rows.append(
            {
                "model": side.name,
                "path": split.keys[start + i],
                "label": classes[targets[i]],
                "predicted": classes[pred[i]] if 0 <= pred[i] < len(classes) else str(pred[i]),
            }
        )
    return rows
