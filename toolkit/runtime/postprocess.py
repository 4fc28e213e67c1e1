"""Model outputs -> result rows (the results.jsonl format of DESIGN.md)."""

from __future__ import annotations

import numpy as np

from toolkit.errors import CnnkitError
from toolkit.runtime.masks import class_pixels
from toolkit.runtime.preprocess import ModelSpec

DIGITS = 6  # probabilities are written rounded: float32 noise is not a prediction


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, computed in float64 for stability."""
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def error_row(key: str, reason: str, task: str) -> dict:
    """The row of an input that could not be processed."""
    row = {"path": key, "status": "error", "label": None, "score": None}
    if task == "segmentation":
        row.update(mask=None, class_pixels=None)
    else:
        row["topk"] = []
    row["error"] = reason
    return row


def class_scores(output: np.ndarray) -> np.ndarray:
    """[N, K] or [N, K, 1, 1] class scores as [N, K]."""
    if output.ndim == 4 and output.shape[2:] == (1, 1):
        output = output[:, :, 0, 0]
    if output.ndim != 2:
        raise ValueError(f"classification output must be [N, K], got {list(output.shape)}")
    return output


def classification_rows(
    keys: list[str], output: np.ndarray, spec: ModelSpec, topk: int, reading: str = "logits"
):
    """One row per input: the best label, its probability and the top-k.

    `reading` "probs": the model's output already is probabilities (no second softmax).
    """
    scores = class_scores(output)
    probs = scores.astype(np.float64) if reading == "probs" else softmax(scores)
    rows = []
    for key, p in zip(keys, probs, strict=True):
        order = np.argsort(-p, kind="stable")[: max(1, topk)]
        top = [{"label": spec.label(int(i)), "prob": round(float(p[i]), DIGITS)} for i in order]
        rows.append(
            {
                "path": key,
                "status": "ok",
                "label": top[0]["label"],
                "score": top[0]["prob"],
                "topk": top,
                "error": None,
            }
        )
    return rows


def mask_dtype(num_classes: int) -> type:
    """uint8 masks up to 255 classes (255 marks ignored pixels), uint16 above."""
    if num_classes > 65535:
        raise CnnkitError(f"{num_classes} classes do not fit a 16-bit mask")
    return np.uint8 if num_classes <= 255 else np.uint16


def argmax_masks(logits: np.ndarray) -> np.ndarray:
    """[N, K, H, W] scores -> [N, H, W] class indices (uint8, or uint16 over 255 classes)."""
    if logits.ndim != 4:
        raise ValueError(f"segmentation output must be [N, K, H, W], got {list(logits.shape)}")
    return logits.argmax(axis=1).astype(mask_dtype(logits.shape[1]))


def label_masks(labels: np.ndarray) -> np.ndarray:
    """An integer [N, H, W] (or [N, 1, H, W]) label map -> [N, H, W] uint8 or uint16 masks."""
    if labels.ndim == 4:
        labels = labels[:, 0]
    if labels.size and labels.min() < 0:
        raise CnnkitError(f"the label map holds a negative class ({int(labels.min())})")
    top = int(labels.max()) + 1 if labels.size else 1
    return labels.astype(mask_dtype(top))


def segmentation_row(key: str, mask: np.ndarray, spec: ModelSpec, num_classes: int, ref) -> dict:
    """A row for one mask (at the original size); `ref` is the mask's path or array."""
    labels = [spec.label(i) for i in range(num_classes)]
    pixels = class_pixels(mask, labels)
    total = max(1, sum(pixels.values()))
    label = max(pixels, key=pixels.get)  # the class covering most pixels
    return {
        "path": key,
        "status": "ok",
        "label": label,
        "score": round(pixels[label] / total, DIGITS),
        "mask": ref,
        "class_pixels": pixels,
        "error": None,
    }
