"""What eval found, as numbers: one ModelScore per model and the EvalReport around them.

`to_dict` is the `eval --json` schema of DESIGN.md (models[].model, provider, precision,
samples, top1, top5, per_class, confusion; segmentation: miou, per_class_iou,
pixel_accuracy); text is formatted by the CLI only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CLASSIFICATION_DELTAS = ("top1", "top5")
SEGMENTATION_DELTAS = ("miou", "pixel_accuracy")


@dataclass
class ModelScore:
    """One model on one split."""

    model: str
    provider: str
    precision: str
    task: str
    samples: int  # every sample of the split, unreadable ones included
    classes: list[str]  # the confusion matrix's rows and columns: the model's classes
    confusion: list[list[int]]
    unreadable: list[dict] = field(default_factory=list)  # {"path", "error"}
    top1: float | None = None
    top5: float | None = None  # None with fewer than 6 classes
    per_class: dict[str, dict] = field(default_factory=dict)  # precision, recall, f1, support
    worst_pairs: list[dict] = field(default_factory=list)  # true, predicted, count, share
    miou: float | None = None
    per_class_iou: dict[str, float | None] = field(default_factory=dict)
    pixel_accuracy: float | None = None
    delta: dict[str, float] = field(default_factory=dict)  # against the first model
    seconds: float = 0.0

    @property
    def main_metric(self) -> float:
        """top-1 for classification, mean IoU for segmentation."""
        return self.top1 if self.task == "classification" else self.miou

    def to_dict(self) -> dict:
        """Plain JSON-able dict."""
        return asdict(self)


@dataclass
class EvalReport:
    """Every model scored on the same samples, their agreement, and what was written."""

    data: str
    split: str
    task: str
    models: list[ModelScore]
    agreement: list[dict] = field(default_factory=list)  # {"a", "b", "agreement"} vs the first
    misclassified: list[dict] = field(
        default_factory=list
    )  # {model, path, label, predicted, score}
    written: dict[str, str] = field(default_factory=dict)  # what --out / --plot hold

    def to_dict(self) -> dict:
        """eval --json."""
        return {
            "data": self.data,
            "split": self.split,
            "task": self.task,
            "models": [score.to_dict() for score in self.models],
            "agreement": self.agreement,
            "misclassified": len(self.misclassified),
            "written": self.written,
        }


def add_deltas(scores: list[ModelScore]) -> None:
    """Each model's metrics minus the first model's (in place)."""
    if not scores:
        return
    first = scores[0]
    keys = CLASSIFICATION_DELTAS if first.task == "classification" else SEGMENTATION_DELTAS
    for score in scores[1:]:
        score.delta = {
            key: getattr(score, key) - getattr(first, key)
            for key in keys
            if getattr(score, key) is not None and getattr(first, key) is not None
        }
